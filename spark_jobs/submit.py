"""The one spark-submit application of the project.

    spark-submit [--py-files project.zip] spark_jobs/submit.py --layer silver|gold|warehouse|quality|catalog

Settings are built once here from the environment the job inherits; the master comes from
spark-submit. Nothing imports this file, so under spark-submit it is loaded exactly once.
Exit 0 ok, 1 with one line on stderr (or the failed data-quality report), 2 usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import timedelta

from spark_jobs.steps import layer_order
from spotify_pipeline.errors import PipelineError
from spotify_pipeline.settings import Settings, get_settings

CHECKS, CATALOG = "quality", "catalog"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="spark_jobs/submit.py", description="Spotify pipeline Spark job")
    parser.add_argument("--layer", required=True, choices=(*layer_order(), CHECKS, CATALOG))
    parser.add_argument("--lake-uri", help="override LAKE_URI")
    parser.add_argument("--max-age-hours", type=float, default=168.0, help="quality: freshness bound")
    return parser.parse_args(argv)


def run_job(args: argparse.Namespace, settings: Settings) -> int:
    from spark_jobs import catalog, quality, runner
    from spark_jobs.session import SparkIO

    with SparkIO(settings, app_name=f"spotify-{args.layer}", hive=args.layer == CATALOG, set_master=False) as spark:
        if args.layer == CHECKS:
            report = quality.run_checks(spark, settings, timedelta(hours=args.max_age_hours))
            quality.save_report(report, settings)
            print(report.text())
            return 0 if report.passed else 1
        if args.layer == CATALOG:
            actions = catalog.register_reporting_one_line(spark, settings)
            print(f"registered {len(actions)} tables: {', '.join(actions)}")
            print(f"catalog: {catalog.summary(actions)}")
            return 0
        counts: dict[str, int] = {}
        runner.run_layer(spark, settings, args.layer, counts)
    for name, n in counts.items():
        print(f"{name}\t{n}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        settings = get_settings()
        if args.lake_uri:
            settings = settings.replace(lake_uri=args.lake_uri)
        return run_job(args, settings)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
