"""Run transform layers: read each step's inputs, call its pure build, write its outputs once.

Row counts come from an ``Observation`` on each write (the write's own pass over the rows), not
from reading the table back; frames shared by several outputs are cached for the layer and
released afterwards. ``spotify-pipeline transform`` runs this in-process
(``spotify_pipeline/commands/transform.py``); the Airflow DAG runs it
through the single spark-submit entry, ``spark_jobs/submit.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from lake.fs import LocalFS, open_lake
from lake.tables import current_path
from spark_jobs.schemas import HISTORY_QUARANTINE, QUARANTINE, TABLES, TableSpec
from spark_jobs.session import SparkIO
from spark_jobs.steps import Step, layer_order, steps_of
from spark_jobs.table_io import lake_path, path_exists, read_table, table_location, write_counted
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings

log = logging.getLogger(__name__)
# The two steps that are not transform layers: the data-quality checks and the Hive catalog registration.
CHECKS, CATALOG = "quality", "catalog"
DEFAULT_MAX_AGE_HOURS = 168.0
# Table writes of one step in flight at once (after its first): two overlap one's driver work with the
# other's tasks; more only queue on the small machines this runs on.
WRITE_THREADS = 1


def spec_of(name: str) -> TableSpec:
    return {QUARANTINE.name: QUARANTINE, HISTORY_QUARANTINE.name: HISTORY_QUARANTINE}.get(name) or TABLES[name]


def _no_bronze(settings: Settings) -> PipelineError:
    return PipelineError(f"no bronze layer under {settings.lake_uri}: run `spotify-pipeline export` first")


def _never_written(settings: Settings, spec: TableSpec) -> PipelineError:
    return PipelineError(f"{spec.name} has never been written ({lake_path(settings, spec.path)}): run "
                         f"`spotify-pipeline transform --layer {spec.layer}` first")


def read_inputs(spark: SparkSession, settings: Settings, names: Sequence[str]) -> dict[str, DataFrame]:
    """A step's inputs. Bronze must exist as a layer; a table of a later layer must have been written
    (missing means its layer never ran, not 'no rows')."""
    if any(TABLES[n].layer == "bronze" for n in names) and not path_exists(spark, lake_path(settings, "bronze_layer")):
        raise _no_bronze(settings)
    for name in names:
        if TABLES[name].versioned and table_location(spark, settings, TABLES[name]) is None:
            raise _never_written(settings, TABLES[name])
    return {name: read_table(spark, settings, TABLES[name]) for name in names}


def require_inputs(settings: Settings, layers: Sequence[str]) -> None:
    """``read_inputs``' refusal before any Spark session starts, on a local lake (``lake.fs``): a layer whose
    inputs were never built fails in a second, not after a session's start (~10 s). The inputs one of
    ``layers`` writes for a later one are not asked for. Other lakes are left to ``read_inputs``."""
    try:
        fs = open_lake(settings)
    except PipelineError:  # hdfs:// without WEBHDFS_URL, say: Spark reads it all the same
        return
    if not isinstance(fs, LocalFS):
        return
    steps = [step for layer in layers if layer not in (CHECKS, CATALOG) for step in steps_of(layer)]
    written = {name for step in steps for name in step.outputs}
    needed = list(dict.fromkeys(n for step in steps for n in step.inputs if n not in written))
    if any(TABLES[n].layer == "bronze" for n in needed) and not fs.exists("bronze_layer"):
        raise _no_bronze(settings)
    for name in needed:
        if TABLES[name].versioned and current_path(fs, TABLES[name].path) is None:
            raise _never_written(settings, TABLES[name])


def run_step(spark: SparkSession, settings: Settings, step: Step, counts: dict[str, int],
             write_threads: int = WRITE_THREADS) -> None:
    """Build the step's outputs and write each once: the first alone (it fills the step's cached frames,
    which every output reads), the others ``write_threads`` at a time, so one write's driver work
    (planning, listing, commit) overlaps another's tasks."""
    cached: list[DataFrame] = []

    def persist(df: DataFrame) -> DataFrame:
        cached.append(df.persist(StorageLevel.MEMORY_AND_DISK))
        return cached[-1]

    try:
        outputs = step.build(read_inputs(spark, settings, step.inputs), persist)

        def write(name: str) -> int:
            start = time.monotonic()
            rows = write_counted(outputs[name], settings, spec_of(name))
            log.info("%s: %d rows in %.1fs", name, rows, time.monotonic() - start)
            return rows

        first, *rest = step.outputs
        counts[first] = write(first)
        if write_threads <= 1:
            counts.update((name, write(name)) for name in rest)
        else:
            with ThreadPoolExecutor(write_threads, thread_name_prefix="write") as pool:
                counts.update(zip(rest, pool.map(write, rest), strict=True))  # step order; first failure raised
    finally:
        for df in cached:
            df.unpersist()
    if counts.get("_quarantine"):
        log.warning("%d payloads quarantined under %s", counts["_quarantine"], QUARANTINE.path)


def run_layer(spark: SparkSession, settings: Settings, layer: str, counts: dict[str, int],
              write_threads: int = WRITE_THREADS) -> None:
    for step in steps_of(layer):
        run_step(spark, settings, step, counts, write_threads)


def run_layers(settings: Settings, layers: Sequence[str], set_master: bool = True) -> dict[str, int]:
    """The named layers (or ``all``) in one session, in pipeline order; rows written per table."""
    wanted = layer_order() if "all" in layers else [layer for layer in layer_order() if layer in layers]
    require_inputs(settings, wanted)
    counts: dict[str, int] = {}
    with SparkIO(settings, app_name=f"spotify-{'-'.join(wanted)}", set_master=set_master) as spark:
        for layer in wanted:
            run_layer(spark, settings, layer, counts)
    return counts


@dataclass(frozen=True)
class JobResult:
    """What one step did: ``ok`` False only for failed data-quality checks (a rerun gives the same answer)."""

    ok: bool
    lines: list[str]
    counts: dict[str, int] = field(default_factory=dict)


def run_spark_step(spark: SparkSession, settings: Settings, layer: str,
             max_age: timedelta = timedelta(hours=DEFAULT_MAX_AGE_HOURS)) -> JobResult:
    """One step in a given session: this entry's own (spark-submit) or a process's shared one (Airflow task)."""
    from spark_jobs import catalog, quality

    if layer == CHECKS:
        report = quality.run_checks(spark, settings, max_age)
        quality.save_report(report, settings)
        return JobResult(report.passed, report.text().splitlines())
    if layer == CATALOG:
        actions = catalog.register_reporting_one_line(spark, settings)
        return JobResult(True, [f"registered {len(actions)} tables: {', '.join(actions)}",
                                f"catalog: {catalog.summary(actions)}"])
    counts: dict[str, int] = {}
    run_layer(spark, settings, layer, counts)
    return JobResult(True, [f"{name}\t{n}" for name, n in counts.items()], counts)
