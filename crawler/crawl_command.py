"""`spotify-pipeline crawl`: read artists.txt, crawl, print a summary; exit 1 if any artist failed."""

from __future__ import annotations

import argparse
import contextlib
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from crawler.artists_file import read_artists_file
from crawler.factory import build_crawler, crawl_options
from crawler.landing import open_store
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings


def new_run_id() -> str:
    return f"crawl-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


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
    print(report.summary(counts))
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
