"""`spotify-pipeline check`: the data-quality report on stdout (text or JSON); exit 1 when any check fails."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from spark_jobs.quality import check_lake
from spotify_core.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    report = check_lake(settings, timedelta(hours=args.max_age_hours))
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.text())
    return 0 if report.passed else 1
