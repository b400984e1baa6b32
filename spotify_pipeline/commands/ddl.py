"""`spotify-pipeline ddl`: write the Hive and Trino DDL generated from the table schemas (``--check``: compare)."""

from __future__ import annotations

import argparse

from spark_jobs.ddl import generated_files, stale_files, write_files
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    files = generated_files(args.out)
    if args.check:
        stale = stale_files(files)
        if stale:
            raise PipelineError(f"DDL out of date (run `make ddl`): {', '.join(map(str, stale))}")
        print(f"DDL up to date ({len(files)} files)")
        return 0
    for path in write_files(files):
        print(f"wrote {path}")
    return 0
