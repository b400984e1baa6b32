"""`spotify-pipeline register`: every lake table in the Hive metastore, at its current version."""

from __future__ import annotations

import argparse

from spark_jobs.catalog import metastore_name, register_reporting_one_line, require_metastore, summary
from spark_jobs.session import SparkIO
from spotify_core.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    require_metastore(settings)
    with SparkIO(settings, app_name="spotify-catalog", hive=True) as spark:
        actions = register_reporting_one_line(spark, settings)
    print(f"registered {len(actions)} tables in {metastore_name(settings)}: {', '.join(actions)}")
    print(f"catalog: {summary(actions)}")
    return 0
