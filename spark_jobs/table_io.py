"""Lake tables through Spark: read a table's current version, write and publish a new one.

A write is one pass here: conform the frame to the table's schema (its write contract), write it into
a new version folder, list the table folder once and delete what ``lake.versions`` says to prune.
Readers resolve the current version (the newest folder with ``_SUCCESS``) from the same listing, so
a rebuild never shows them an emptied or half-written table. Folders are reached through Hadoop's
FileSystem, so ``file://`` and ``hdfs://`` lakes behave the same. The naming and pruning rules are
``lake/versions.py``; the session is ``spark_jobs/session.py``.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lake import versions
from spark_jobs.schemas import TableSpec
from spotify_core.settings import Settings

log = logging.getLogger(__name__)


def lake_path(settings: Settings, relative: str) -> str:
    return f"{settings.lake_uri.rstrip('/')}/{relative.strip('/')}"


class _Folder:
    """One lake folder through the JVM's Hadoop FileSystem (the session's Hadoop configuration)."""

    def __init__(self, spark: SparkSession, path: str) -> None:
        self.path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(path)
        self.fs = self.path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())

    def exists(self) -> bool:
        return bool(self.fs.exists(self.path))

    def versions(self) -> tuple[list[versions.Version], list[str]]:
        """(version folders with completeness, other entries); empty when the folder is absent."""
        if not self.exists():
            return [], []
        found, others = [], []
        for status in self.fs.listStatus(self.path):
            name = status.getPath().getName()
            if status.isDirectory() and versions.is_version(name):
                done = self.fs.exists(status.getPath().suffix(f"/{versions.SUCCESS}"))
                found.append(versions.Version(name, bool(done)))
            else:
                others.append(name)
        return found, others

    def prune(self) -> list[str]:
        """Delete what ``versions.to_prune`` names (old versions, failed attempts); the names deleted."""
        doomed = versions.to_prune(*self.versions())
        for name in doomed:
            self.fs.delete(self.path.suffix(f"/{name}"), True)
        return doomed


def path_exists(spark: SparkSession, path: str) -> bool:
    return _Folder(spark, path).exists()


def table_location(spark: SparkSession, settings: Settings, spec: TableSpec) -> str | None:
    """Where readers find the table now: its current version folder (None when never completed);
    the folder itself for tables written by export (bronze)."""
    path = lake_path(settings, spec.path)
    if not spec.versioned:
        return path if path_exists(spark, path) else None
    name = versions.current(_Folder(spark, path).versions()[0])
    return f"{path}/{name}" if name else None


def read_table(spark: SparkSession, settings: Settings, spec: TableSpec) -> DataFrame:
    """A lake table's current version with its declared schema; an empty frame when never written."""
    location = table_location(spark, settings, spec)
    if location is None:
        log.warning("%s: no data at %s, using an empty table", spec.name, lake_path(settings, spec.path))
        return spark.createDataFrame([], spec.schema)
    return spark.read.schema(spec.schema).parquet(location)


def conform(df: DataFrame, schema: T.StructType) -> DataFrame:
    """Select the schema's columns in order, cast to its types: the table's write contract."""
    return df.select([F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])


def write_table(df: DataFrame, settings: Settings, spec: TableSpec) -> str:
    """Write the table as a new version folder, then prune old ones; the folder written.

    Readers keep seeing the previous version until the new one's ``_SUCCESS`` exists; rerunning a
    job replaces its output (a new current version), never appends.
    """
    table = lake_path(settings, spec.path)
    target = f"{table}/{versions.new_version()}"
    conform(df, spec.schema).write.mode("errorifexists").parquet(target)
    pruned = _Folder(df.sparkSession, table).prune()
    if pruned:
        log.info("%s: published %s, pruned %s", spec.name, target, ", ".join(pruned))
    return target


def write_counted(df: DataFrame, settings: Settings, spec: TableSpec) -> int:
    """Write the table's new version and return its row count, observed while writing (no read back)."""
    obs = Observation(f"rows_{spec.name}")
    write_table(df.observe(obs, F.count(F.lit(1)).alias("rows")), settings, spec)
    return int(obs.get["rows"])
