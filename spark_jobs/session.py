"""The Spark session every job runs in (reading and writing tables: ``spark_jobs/table_io.py``).

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

from pyspark.sql import SparkSession

from spark_jobs import class_archive as spark_class_archive
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
        if s.spark_executor_java_options:   # read when executors launch, after the context starts
            b = b.config("spark.executor.extraJavaOptions", s.spark_executor_java_options)
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
