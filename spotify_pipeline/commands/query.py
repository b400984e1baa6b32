"""`spotify-pipeline query`: SQL over the lake (DuckDB, or Trino when ``TRINO_HOST`` is set) as a table,
CSV or JSON lines."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from analytics.query import cell_text, format_table, run_query
from spotify_core.settings import Settings


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def run(args: argparse.Namespace, settings: Settings) -> int:
    columns, rows = run_query(settings, args.sql, args.max_rows)
    if args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([[cell_text(v) for v in row] for row in rows])
    elif args.format == "json":
        for row in rows:
            print(json.dumps(dict(zip(columns, row, strict=True)), default=_json_default, ensure_ascii=False))
    else:
        print(format_table(columns, rows))
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''}{', truncated' if len(rows) == args.max_rows else ''})")
    return 0
