"""`spotify-pipeline` command line: parses arguments and hands off to the package that does the work.

Each subcommand names its handler as ``"module:function"``: ``spotify_pipeline/commands/`` has one module
a command (sample-api, stack, doctor and demo live with their own packages). A handler takes
``(args: argparse.Namespace, settings: Settings)`` and returns an exit code. Handlers are imported
only when their command runs, so ``spotify-pipeline --help`` stays fast and a broken optional
dependency only affects the command that needs it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from spotify_core.errors import PipelineError, UsageError

LAYERS = ("silver", "gold", "warehouse", "similar", "all")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spotify-pipeline",
        description="kworb.net rankings + Spotify Web API -> landing zone -> Parquet lake -> SQL.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("kworb", help="scrape kworb artists.html + listeners.html into artists.txt")
    p.add_argument("--out", type=Path, required=True, help="artists.txt to write (name<TAB>spotify_id)")
    p.add_argument("--html", type=Path, action="append", default=[],
                   help="saved kworb page instead of fetching (repeatable)")
    p.add_argument("--limit", type=_positive_int, help="keep the first N artists")
    p.add_argument("--date", help="scrape date of the numbers landed in kworb_raw (YYYY-MM-DD, default today)")
    p.add_argument("--no-numbers", action="store_true", help="only write artists.txt, land no kworb numbers")
    p.set_defaults(handler="spotify_pipeline.commands.kworb:run")

    p = sub.add_parser("crawl", help="crawl the Spotify API into the landing zone (resumable; default: "
                                     "continue what is missing)",
                       epilog="exit codes: 0 done, 1 some artists failed or an error, 2 usage error, "
                              "75 the Spotify quota is spent: stopped at once, landed data kept, "
                              "run again after the time printed on stderr (UTC) to resume")
    p.add_argument("--artists", type=Path, required=True, help="artists.txt (name<TAB>spotify_id)")
    p.add_argument("--workers", type=_positive_int, help="worker threads (default CRAWL_WORKERS)")
    p.add_argument("--limit", type=_positive_int, help="crawl the first N artists")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--refresh", dest="mode", action="store_const", const="refresh",
                      help="weekly refresh: every artist and album listing again, only new albums/tracks/features")
    mode.add_argument("--full", dest="mode", action="store_const", const="full", help="refetch everything")
    p.set_defaults(mode="continue")
    p.add_argument("--include-appears-on", action="store_true",
                   help="also crawl albums the artist only appears on")
    p.add_argument("--run-id", help="run id stamped on documents (default: generated)")
    p.set_defaults(handler="spotify_pipeline.commands.crawl:run")

    p = sub.add_parser("landing-stats", help="JSON: document count per landing collection")
    p.set_defaults(handler="spotify_pipeline.commands.landing_stats:run")

    p = sub.add_parser("export", help="landing zone -> /bronze_layer (incremental, atomic)")
    p.add_argument("--full", action="store_true", help="ignore the watermark and re-export everything")
    p.set_defaults(handler="spotify_pipeline.commands.export:run")

    p = sub.add_parser("transform", help="Spark jobs: bronze -> silver -> gold -> warehouse")
    p.add_argument("--layer", choices=LAYERS, default="all")
    p.set_defaults(handler="spotify_pipeline.commands.transform:run")

    p = sub.add_parser("check", help="data-quality checks; exit 1 with a report on failure")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--max-age-hours", type=float, default=168.0,
                   help="freshness: newest fetch at most this old (default 168 = 7 days)")
    p.set_defaults(handler="spotify_pipeline.commands.check:run")

    p = sub.add_parser("register", help="register lake tables in the Hive metastore")
    p.set_defaults(handler="spotify_pipeline.commands.register:run")

    p = sub.add_parser("ddl", help="write Hive and Trino DDL generated from the table schemas")
    p.add_argument("--out", type=Path, default=Path("hive/ddl"), help="folder for the .sql files")
    p.add_argument("--check", action="store_true", help="exit 1 if the files on disk differ")
    p.set_defaults(handler="spotify_pipeline.commands.ddl:run")

    p = sub.add_parser("query", help="SQL over the lake (DuckDB, or Trino when TRINO_HOST is set)")
    p.add_argument("sql")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--max-rows", type=_positive_int, default=100)
    p.set_defaults(handler="spotify_pipeline.commands.query:run")

    p = sub.add_parser("recommend", help="tracks that sound alike, from the warehouse")
    seed = p.add_mutually_exclusive_group(required=True)
    seed.add_argument("--track", help="seed track id")
    seed.add_argument("--name", help="seed track name (case-insensitive; an ambiguous name lists candidates)")
    p.add_argument("-k", type=_positive_int, default=10, help="how many tracks (default 10)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(handler="spotify_pipeline.commands.recommend:run")

    # The sample API is development harness: its flags are its own (`sample-api --help`, sample_api/server.py),
    # handed over unparsed; a wheel install has the command but not the harness (spotify_pipeline/harness.py).
    p = sub.add_parser("sample-api", help="local Spotify-compatible API with a synthetic catalog (development harness)",
                       add_help=False, prefix_chars="\0")
    p.add_argument("argv", nargs=argparse.REMAINDER)
    p.set_defaults(handler="spotify_pipeline.harness:run_sample_api")

    p = sub.add_parser("stack", help="the platform's services in Docker Compose (make stack)")
    p.add_argument("action", choices=("up", "down", "status", "env", "jdbc"),
                   help="jdbc: the Trino JDBC driver and URL for Tableau/Metabase/Superset")
    p.add_argument("--json", action="store_true", help="status as JSON")
    p.add_argument("--volumes", action="store_true", help="down: also delete the stack's data volumes")
    p.set_defaults(handler="spotify_pipeline.stack.cli:run")

    p = sub.add_parser("doctor", help="what these credentials may call, which source fills each gap, and "
                                      "whether each source, the landing zone, the lake and the stack answer",
                       epilog="exit codes: 0 the pipeline can run as configured (warnings allowed), 1 it cannot "
                              "(no credentials, token refused, landing zone unreachable). Secrets are never printed.")
    p.add_argument("--json", action="store_true", help="the report as JSON (shape in spotify_pipeline/doctor/report.py)")
    p.set_defaults(handler="spotify_pipeline.doctor:run")

    p = sub.add_parser("demo", help="the whole pipeline offline against the sample API")
    p.add_argument("--artists", type=_positive_int, default=40, help="synthetic catalog size")
    p.add_argument("--workers", type=_positive_int, default=8)
    p.add_argument("--no-airflow", action="store_true", help="run the steps directly, not through Airflow")
    p.add_argument("--mode", choices=("development", "extended"), default="development",
                   help="the app the sample API plays: development (what a new app gets: features from "
                        "ReccoBeats, genres from MusicBrainz) or extended (Spotify gives both)")
    p.set_defaults(handler="spotify_pipeline.demo:run")
    return parser


def _resolve(handler: str):
    module_name, func_name = handler.split(":")
    return getattr(importlib.import_module(module_name), func_name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("py4j", "urllib3", "spotipy", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        from spotify_core.settings import get_settings

        settings = get_settings()
        return int(_resolve(args.handler)(args, settings) or 0)
    except UsageError as exc:
        print(f"spotify-pipeline {args.command}: usage error: {exc}", file=sys.stderr)
        return 2
    except PipelineError as exc:
        print(f"spotify-pipeline {args.command}: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)  # a spent quota exits 75 (crawler.spotify.quota)
    except KeyboardInterrupt:
        print(f"spotify-pipeline {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
