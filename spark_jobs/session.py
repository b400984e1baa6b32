"""Spark session and lake IO shared by every job.

``SparkIO`` builds a session from settings (``local[*]`` by default, a cluster master or
``spark-submit``'s own master otherwise) and stops it afterwards. It never swallows or replaces
the body's exception: a failure while stopping is logged, and the original error propagates.
``shared_session`` is the long-lived alternative: one session per process, which every Spark task
that process runs uses (``SPARK_TASKS=session``), stopped when the interpreter exits.
"""

from __future__ import annotations

import atexit
import logging
import threading
from pathlib import Path
from types import TracebackType

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lake import versions
from spark_jobs import class_archive as spark_class_archive
from spark_jobs.schemas import TableSpec
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings, python_workers_use_this_interpreter

log = logging.getLogger(__name__)


class SparkIO:
    def __init__(self, settings: Settings, app_name: str = "spotify-pipeline", hive: bool = False,
                 set_master: bool = True) -> None:
        """``set_master=False`` under spark-submit, which already chose the master."""
        self.settings = settings
        self.app_name = app_name
        self.hive = hive
        self.set_master = set_master
        self.spark: SparkSession | None = None
        self._owned = False

    def _builder(self) -> SparkSession.Builder:
        s = self.settings
        data_dir = s.data_dir.resolve()
        b = SparkSession.builder.appName(self.app_name)
        if self.set_master:
            b = b.master(s.spark_master)
        b = (b.config("spark.driver.memory", s.spark_driver_memory)
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.parquet.compression.codec", "zstd")
             .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={data_dir}"))
        if self.hive:
            b = b.enableHiveSupport().config("spark.sql.warehouse.dir", str(data_dir / "spark-warehouse"))
            if s.hive_metastore_uri:
                b = b.config("spark.hadoop.hive.metastore.uris", s.hive_metastore_uri)
            else:
                b = b.config("spark.hadoop.javax.jdo.option.ConnectionURL",
                             f"jdbc:derby:;databaseName={data_dir / 'metastore_db'};create=true")
        return b

    def __enter__(self) -> SparkSession:
        active = SparkSession.getActiveSession()
        if active is not None:  # reuse (tests, one session for all layers); the owner stops it
            self.spark = active
            return active
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        python_workers_use_this_interpreter()  # before the context starts: pyspark reads it then
        spark_class_archive.use_in_this_process(self.settings)  # the gateway's spark-submit reads it
        self.spark = self._builder().getOrCreate()
        self.spark.sparkContext.setLogLevel("WARN")
        # Sized for the cores the session really has (spark-submit may have chosen a cluster master):
        # 2 per core, and adaptive execution coalesces what turns out small. Not 200 on 2 cores.
        if not self.spark.sparkContext.getConf().contains("spark.sql.shuffle.partitions"):  # unless set on purpose
            self.spark.conf.set("spark.sql.shuffle.partitions", str(2 * self.spark.sparkContext.defaultParallelism))
        self._owned = True
        return self.spark

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._owned and self.spark is not None:
            try:
                self.spark.stop()
            except Exception:  # noqa: BLE001 - never mask the body's exception
                log.exception("stopping the Spark session failed")
        return None


_shared: dict[Path, SparkSession] = {}
_shared_lock = threading.Lock()


def shared_session(settings: Settings) -> SparkSession:
    """This process's long-lived session (with Hive support, so the catalog step shares it too).

    The first caller starts it (the demo does so in a background thread while the crawl runs); the
    others wait for it and reuse it, so each Spark task pays for its own work only, not for a JVM, a
    SparkContext and cold code. Stopped when the interpreter exits. Its data folder (Derby metastore,
    warehouse dir) is fixed at start: asking for another one is an error, not a silent reuse.
    """
    data_dir = settings.data_dir.resolve()
    with _shared_lock:
        if not _shared:
            io = SparkIO(settings, app_name="spotify-pipeline", hive=True)
            _shared[data_dir] = io.__enter__()
            atexit.register(io.__exit__, None, None, None)
        if data_dir not in _shared:
            raise PipelineError(f"this process's Spark session serves DATA_DIR={next(iter(_shared))}, "
                                f"not {data_dir}")
        return _shared[data_dir]


def lake_path(settings: Settings, relative: str) -> str:
    return f"{settings.lake_uri.rstrip('/')}/{relative.strip('/')}"


def _fs_of(spark: SparkSession, path: str):  # noqa: ANN202 - a py4j (Hadoop FileSystem, Path) pair
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath


def path_exists(spark: SparkSession, path: str) -> bool:
    """Existence through Hadoop's FileSystem, so file:// and hdfs:// behave the same."""
    fs, hpath = _fs_of(spark, path)
    return bool(fs.exists(hpath))


def list_versions(spark: SparkSession, table_path: str) -> tuple[list[versions.Version], list[str]]:
    """(version folders with completeness, other entries) of a table folder; empty when absent."""
    fs, hpath = _fs_of(spark, table_path)
    if not fs.exists(hpath):
        return [], []
    found, others = [], []
    for status in fs.listStatus(hpath):
        name = status.getPath().getName()
        if status.isDirectory() and versions.is_version(name):
            found.append(versions.Version(name, bool(fs.exists(status.getPath().suffix(f"/{versions.SUCCESS}")))))
        else:
            others.append(name)
    return found, others


def table_location(spark: SparkSession, settings: Settings, spec: TableSpec) -> str | None:
    """Where readers find the table now: its current version folder (None when never completed);
    the folder itself for tables written by export (bronze)."""
    path = lake_path(settings, spec.path)
    if not spec.versioned:
        return path if path_exists(spark, path) else None
    name = versions.current(list_versions(spark, path)[0])
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


def prune_versions(spark: SparkSession, table_path: str) -> list[str]:
    """Delete what ``versions.to_prune`` names (old versions, failed attempts); the names deleted."""
    found, others = list_versions(spark, table_path)
    doomed = versions.to_prune(found, others)
    fs, hpath = _fs_of(spark, table_path)
    for name in doomed:
        fs.delete(hpath.suffix(f"/{name}"), True)
    return doomed


def write_table(df: DataFrame, settings: Settings, spec: TableSpec) -> str:
    """Write the table as a new version folder, then prune old ones; the folder written.

    Readers keep seeing the previous version until the new one's ``_SUCCESS`` exists, so a rebuild
    never shows them an emptied or half-written table; rerunning a job replaces its output (a new
    current version), never appends.
    """
    table = lake_path(settings, spec.path)
    target = f"{table}/{versions.new_version()}"
    conform(df, spec.schema).write.mode("errorifexists").parquet(target)
    pruned = prune_versions(spark=df.sparkSession, table_path=table)
    if pruned:
        log.info("%s: published %s, pruned %s", spec.name, target, ", ".join(pruned))
    return target
