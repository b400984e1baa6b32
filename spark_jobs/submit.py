"""The one spark-submit application of the project.

    spark-submit [--py-files project.zip] spark_jobs/submit.py --layer silver|gold|warehouse|quality|catalog

Settings are built once here from the environment the job inherits; the master comes from
spark-submit. This file is the job's own command line (the one module of ``spark_jobs`` that parses
arguments and prints): it runs one step in the job's session and prints its lines. Nothing imports
this file, so under spark-submit it is loaded exactly once.
Exit 0 ok, 1 with one line on stderr (or the failed data-quality report), 2 usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import timedelta

from spark_jobs.runner import CATALOG, CHECKS, DEFAULT_MAX_AGE_HOURS, run_spark_step
from spark_jobs.session import SparkIO
from spark_jobs.steps import layer_order
from spotify_core.errors import PipelineError
from spotify_core.settings import get_settings


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
        with SparkIO(settings, app_name=f"spotify-{args.layer}", hive=args.layer == CATALOG,
                     set_master=False) as spark:
            result = run_spark_step(spark, settings, args.layer, timedelta(hours=args.max_age_hours))
        print("\n".join(result.lines))
        return 0 if result.ok else 1
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
