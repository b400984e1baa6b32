"""Register every lake table in the Hive metastore (databases bronze, silver, gold, warehouse).

Tables are EXTERNAL Parquet tables created with the same Hive DDL that is committed under
``hive/ddl``, located at each table's *current version* folder (``lake/versions.py``). Publishing
a rebuilt table is one metastore call, ``ALTER TABLE ... SET LOCATION``, so a reader (Trino, a BI
tool) sees either the old version or the new one, never a missing or half-written table. Only a
table whose columns changed is dropped and recreated; a table with no data in the lake is
dropped, so the catalog mirrors the lake. Registering an unchanged lake again changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from pyspark.sql import SparkSession

from spark_jobs.ddl import hive_table_ddl
from spark_jobs.schemas import LAYERS, TableSpec, tables_in
from spark_jobs.table_io import lake_path, table_location
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registered:
    """What the metastore holds for a table: its columns (name, Spark type) and location."""

    columns: tuple[tuple[str, str], ...]
    location: str


def spec_columns(spec: TableSpec) -> tuple[tuple[str, str], ...]:
    return tuple((f.name, f.dataType.simpleString()) for f in spec.schema.fields)


def same_location(a: str, b: str) -> bool:
    """Equal paths whatever the metastore did to the scheme and authority (``file:/x`` vs ``file:///x``)."""
    return urlsplit(a).path.rstrip("/") == urlsplit(b).path.rstrip("/")


def describe(spark: SparkSession, name: str) -> Registered | None:
    """The registered table's columns and location (reads only), or None when it does not exist."""
    if not spark.catalog.tableExists(name):
        return None
    columns: list[tuple[str, str]] = []
    location = ""
    in_columns = True
    for row in spark.sql(f"DESCRIBE TABLE EXTENDED {name}").collect():
        key = (row["col_name"] or "").strip()
        if not key or key.startswith("#"):
            in_columns = False
        elif in_columns:
            columns.append((key, row["data_type"]))
        elif key == "Location":
            location = row["data_type"]
    return Registered(tuple(columns), location)


def publish(spark: SparkSession, spec: TableSpec, location: str | None) -> str:
    """Point one table at ``location`` (None: no data); what was done: created, switched, replaced,
    dropped or unchanged."""
    name = f"{spec.database}.{spec.name}"
    existing = describe(spark, name)
    if location is None:
        if existing is None:
            return "absent"
        spark.sql(f"DROP TABLE IF EXISTS {name}")  # the catalog mirrors the lake
        return "dropped"
    if existing is not None and existing.columns != spec_columns(spec):
        spark.sql(f"DROP TABLE IF EXISTS {name}")  # a schema change: the one case of drop + create
        spark.sql(hive_table_ddl(spec, location=location))
        return "replaced"
    if existing is None:
        spark.sql(hive_table_ddl(spec, location=location))
        return "created"
    if same_location(existing.location, location):
        return "unchanged"
    spark.sql(f"ALTER TABLE {name} SET LOCATION '{location}'")  # one metastore call: atomic for readers
    return "switched"


def register_tables(spark: SparkSession, settings: Settings) -> dict[str, str]:
    """Publish every lake table; ``{"layer.table": action}`` of the tables registered (not dropped)."""
    registered = {}
    for layer in LAYERS:
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {layer}")
        for spec in tables_in(layer):
            location = table_location(spark, settings, spec)
            action = publish(spark, spec, location)
            if location is None:
                log.warning("%s.%s: no data at %s, not registered", layer, spec.name, lake_path(settings, spec.path))
                continue
            log.info("%s.%s: %s at %s", layer, spec.name, action, location)
            registered[f"{layer}.{spec.name}"] = action
    return registered


def summary(actions: dict[str, str]) -> str:
    """``created 3, switched 2, unchanged 18``: what registration changed in the catalog."""
    kinds = sorted(set(actions.values()))
    return ", ".join(f"{kind} {sum(1 for a in actions.values() if a == kind)}" for kind in kinds) or "nothing"


# Java loggers of Spark's Hive client and its thrift transport: while the metastore is down they print
# a stack trace per retry (and per socket closed on a dead connection).
METASTORE_CLIENT_LOGGERS = ("hive", "org.apache.hadoop.hive", "org.apache.spark.sql.hive", "org.apache.thrift")
_UNREACHABLE = ("TTransportException", "Could not connect to meta store", "SessionHiveMetaStoreClient",
                "ConnectException", "SocketException", "SocketTimeoutException")


def quiet_metastore_client(spark: SparkSession) -> None:
    """Only errors from the Hive client's own loggers; the command reports a lost metastore in one line."""
    jvm = spark.sparkContext._jvm
    for name in METASTORE_CLIENT_LOGGERS:
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(name, jvm.org.apache.logging.log4j.Level.ERROR)


def metastore_failure(exc: Exception) -> str | None:
    """The root cause of a failed metastore call as one line, None when it is not a connection failure."""
    text = f"{getattr(exc, '_stackTrace', '')}\n{exc}"
    if not any(marker in text for marker in _UNREACHABLE):
        return None
    causes = [line.removeprefix("Caused by: ").strip() for line in text.splitlines() if line.startswith("Caused by: ")]
    return (causes[-1] if causes else str(exc).strip().splitlines()[0])[:300]


def metastore_name(settings: Settings) -> str:
    """The metastore registration talks to, as messages name it."""
    return settings.hive_metastore_uri or f"embedded metastore in {settings.data_dir}"


def register_reporting_one_line(spark: SparkSession, settings: Settings) -> dict[str, str]:
    """``register_tables``, with a lost metastore reported as one ``PipelineError`` line (no Java trace)."""
    from py4j.protocol import Py4JError
    from pyspark.errors.exceptions.captured import CapturedException

    quiet_metastore_client(spark)
    try:
        return register_tables(spark, settings)
    except (CapturedException, Py4JError) as exc:
        cause = metastore_failure(exc)
        if cause is None:
            raise
        raise PipelineError(f"Hive metastore {metastore_name(settings)} unreachable ({cause}); registration stopped part-way, "
                            "rerun `spotify-pipeline register` once it answers") from None
