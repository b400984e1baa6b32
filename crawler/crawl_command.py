"""`spotify-pipeline crawl`: read artists.txt, crawl, print a summary; exit 1 if any artist failed."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

from crawler.artists_file import read_artists_file
from crawler.crawl import CrawlReport
from crawler.factory import build_crawler, crawl_options
from crawler.landing import open_store
from spotify_pipeline.errors import PipelineError
from spotify_pipeline.settings import Settings


def new_run_id() -> str:
    return f"crawl-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def format_report(report: CrawlReport, counts: dict[str, int]) -> str:
    calls = sum(report.calls.values())
    lines = [
        f"crawl ({report.mode}) finished in {report.elapsed_s:.1f}s: {report.done} artists done, {report.skipped} already done, "
        f"{len(report.failed)} failed (of {report.total})",
        f"  mode: batch endpoints {'yes' if report.batch_endpoints else 'no' if report.batch_endpoints is False else 'not probed'}"
        f"; audio features source: {report.features_source}; genres source: {report.genres_source}",
        f"  API calls: {calls} ({calls / report.elapsed_s if report.elapsed_s else 0:.1f}/s); "
        f"429s {report.events.get('429', 0)}, retries {report.events.get('retry', 0)}, "
        f"token refreshes {report.events.get('token_refresh', 0)}",
    ]
    for endpoint, n in sorted(report.calls.items()):
        lines.append(f"    {endpoint:<28} {n}")
    if report.unavailable:
        kinds = Counter(key.split(":", 1)[0] for key in report.unavailable)
        lines.append("  unavailable now (404, recorded in unavailable_raw): "
                     + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    lines.append("  landed this run: " + ", ".join(f"{k} {v}" for k, v in sorted(report.landed.items())))
    lines.append("  landing zone now: " + json.dumps(counts))
    lines += [f"  WARNING {warning}" for warning in report.warnings]
    for key, reason in sorted(report.failed.items()):
        lines.append(f"  FAILED {key}: {reason}")
    return "\n".join(lines)


def run(args: argparse.Namespace, settings: Settings) -> int:
    entries, problems = read_artists_file(args.artists)
    for problem in problems:
        print(f"{args.artists}: {problem} (skipped)", file=sys.stderr)
    if args.limit:
        entries = entries[: args.limit]
    if not entries:
        raise PipelineError(f"{args.artists}: no artists to crawl")
    options = crawl_options(settings, args.run_id or new_run_id(), workers=args.workers,
                            mode=getattr(args, "mode", None) or "continue", include_appears_on=args.include_appears_on)
    with open_store(settings) as store, _landing_lost():
        crawler = build_crawler(settings, store, options,
                                progress=lambda line: print(line, file=sys.stderr, flush=True))
        crawler.client.tokens.token()  # fail fast, one line, when credentials or the token endpoint are wrong
        report = crawler.run(entries)
        counts = store.counts()
    print(format_report(report, counts))
    return 1 if report.failed else 0


@contextlib.contextmanager
def _landing_lost() -> Iterator[None]:
    """The landing server dying mid-crawl is one line, not a traceback; a rerun resumes (upserts, checkpoints)."""
    from pymongo.errors import ConnectionFailure

    try:
        yield
    except ConnectionFailure as exc:
        raise PipelineError(f"landing store lost mid-crawl ({type(exc).__name__}: {str(exc).split(' (')[0]}); "
                            "start MongoDB again and rerun the crawl: it resumes where it stopped") from None
