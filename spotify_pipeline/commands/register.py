"""`spotify-pipeline register`: every lake table in the Hive metastore, at its current version."""

from __future__ import annotations

import argparse

from spark_jobs.catalog import metastore_name, register_reporting_one_line, summary
from spark_jobs.session import SparkIO
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings
from spotify_pipeline.stack.probes import metastore_refusal

CONNECT_TIMEOUT_S = 10.0


def run(args: argparse.Namespace, settings: Settings) -> int:
    # A remote metastore refusing connections is said in one line before Spark starts (5-15 s), and
    # nothing has been registered yet, unlike a metastore lost part-way (register_reporting_one_line).
    uri = settings.hive_metastore_uri
    if uri and (reason := metastore_refusal(uri, CONNECT_TIMEOUT_S)):
        raise PipelineError(f"Hive metastore {uri} unreachable ({reason}); nothing registered, "
                            "rerun `spotify-pipeline register` once it answers")
    with SparkIO(settings, app_name="spotify-catalog", hive=True) as spark:
        actions = register_reporting_one_line(spark, settings)
    print(f"registered {len(actions)} tables in {metastore_name(settings)}: {', '.join(actions)}")
    print(f"catalog: {summary(actions)}")
    return 0
