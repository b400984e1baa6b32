"""The one spark-submit application of the project.

    spark-submit [--py-files project.zip] spark_jobs/submit.py --layer silver|gold|warehouse|quality|catalog

Settings are built once here from the environment the job inherits; the master comes from
spark-submit; the handler is ``spotify_pipeline/commands/spark_step.py`` (the code zip carries
the ``spotify_pipeline`` package). Nothing imports this file, so under spark-submit it is loaded exactly once.
Exit 0 ok, 1 with one line on stderr (or the failed data-quality report), 2 usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from spark_jobs.runner import CATALOG, CHECKS, DEFAULT_MAX_AGE_HOURS
from spark_jobs.steps import layer_order
from spotify_pipeline.commands.spark_step import run
from spotify_pipeline.errors import PipelineError
from spotify_pipeline.settings import get_settings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="spark_jobs/submit.py", description="Spotify pipeline Spark job")
    parser.add_argument("--layer", required=True, choices=(*layer_order(), CHECKS, CATALOG))
    parser.add_argument("--lake-uri", help="override LAKE_URI")
    parser.add_argument("--max-age-hours", type=float, default=DEFAULT_MAX_AGE_HOURS, help="quality: freshness bound")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        settings = get_settings()
        if args.lake_uri:
            settings = settings.replace(lake_uri=args.lake_uri)
        return run(args, settings)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
