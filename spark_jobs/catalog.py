"""Register every lake table in the Hive metastore (databases bronze, silver, gold, warehouse).

Tables are EXTERNAL Parquet tables over the lake paths, created with the same Hive DDL that is
committed under ``hive/ddl``; re-registering drops and recreates the metadata only (external
tables: the data stays), so it is idempotent and picks up schema changes; a table with no data in
the lake is dropped from the catalog, so the catalog mirrors the lake.
"""

from __future__ import annotations

import argparse
import logging

from pyspark.sql import SparkSession

from spark_jobs.ddl import hive_table_ddl
from spark_jobs.schemas import LAYERS, tables_in
from spark_jobs.session import SparkIO, lake_path, path_exists
from spotify_pipeline.settings import Settings

log = logging.getLogger(__name__)


def register_tables(spark: SparkSession, settings: Settings) -> list[str]:
    registered = []
    for layer in LAYERS:
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {layer}")
        for spec in tables_in(layer):
            # The catalog mirrors the lake: a table whose data is gone is dropped, never left dangling.
            spark.sql(f"DROP TABLE IF EXISTS {layer}.{spec.name}")
            if not path_exists(spark, lake_path(settings, spec.path)):
                log.warning("%s.%s: no data at %s, not registered", layer, spec.name, spec.path)
                continue
            spark.sql(hive_table_ddl(spec, settings.lake_uri))
            registered.append(f"{layer}.{spec.name}")
    return registered


def run(args: argparse.Namespace, settings: Settings) -> int:
    with SparkIO(settings, app_name="spotify-catalog", hive=True) as spark:
        names = register_tables(spark, settings)
    where = settings.hive_metastore_uri or f"embedded metastore in {settings.data_dir}"
    print(f"registered {len(names)} tables in {where}: {', '.join(names)}")
    return 0
