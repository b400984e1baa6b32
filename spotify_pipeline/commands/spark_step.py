"""The spark-submit entry's handler (``spark_jobs/submit.py --layer L``): one step in this job's own session,
its lines on stdout; exit 1 when the data-quality checks fail."""

from __future__ import annotations

import argparse
from datetime import timedelta

from spark_jobs.runner import CATALOG, run_spark_step
from spark_jobs.session import SparkIO
from spotify_pipeline.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    with SparkIO(settings, app_name=f"spotify-{args.layer}", hive=args.layer == CATALOG, set_master=False) as spark:
        result = run_spark_step(spark, settings, args.layer, timedelta(hours=args.max_age_hours))
    print("\n".join(result.lines))
    return 0 if result.ok else 1
