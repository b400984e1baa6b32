"""`spotify-pipeline export`: landing zone -> /bronze_layer (incremental, atomic); one summary line."""

from __future__ import annotations

import argparse
import logging

from crawler.landing import open_store
from lake.export import export_landing
from lake.fs import open_lake
from lake.layout import BRONZE
from spotify_core.settings import Settings

log = logging.getLogger("lake.export")


def run(args: argparse.Namespace, settings: Settings) -> int:
    fs = open_lake(settings)
    with open_store(settings) as store:
        result = export_landing(store, fs, full=args.full, progress=log.info)
    if result.total_rows == 0:
        print("export: nothing new since the last export (bronze unchanged)")
        return 0
    summary = ", ".join(f"{c} {n}" for c, n in result.rows.items() if n)
    print(f"export {result.export_id}: {result.total_rows} rows in {sum(result.files.values())} files "
          f"({summary}) to {settings.lake_uri}/{BRONZE} in {result.seconds:.1f}s")
    return 0
