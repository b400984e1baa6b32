"""`spotify-pipeline crawl`: read artists.txt, crawl, print a summary; exit 1 if any artist failed."""

from __future__ import annotations

import argparse
import sys

from crawler.artists_file import read_artists_file
from crawler.crawl_job import crawl_artists
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    entries, problems = read_artists_file(args.artists)
    for problem in problems:
        print(f"{args.artists}: {problem} (skipped)", file=sys.stderr)
    if args.limit:
        entries = entries[: args.limit]
    if not entries:
        raise PipelineError(f"{args.artists}: no artists to crawl")
    report, counts = crawl_artists(settings, entries, args.run_id, workers=args.workers,
                                   mode=getattr(args, "mode", None) or "continue",
                                   include_appears_on=args.include_appears_on,
                                   progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(report.summary(counts))
    return 1 if report.failed else 0
