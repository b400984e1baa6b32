"""Run layers: read inputs, call the pure transforms, write each table (overwrite), count rows.

Used in-process by ``spotify-pipeline transform`` and, through each module's ``main()``, under
``spark-submit`` by the Airflow DAG.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

from pyspark.sql import SparkSession

from spark_jobs import gold, history, silver, warehouse
from spark_jobs.schemas import BRONZE_COLLECTIONS, HISTORY_BRONZE, TABLES
from spark_jobs.session import SparkIO, lake_path, path_exists, read_table, write_table
from spotify_pipeline.errors import PipelineError
from spotify_pipeline.settings import Settings, get_settings

log = logging.getLogger(__name__)
ORDER = ("silver", "gold", "warehouse")
QUARANTINE = "bronze_layer/_quarantine"
HISTORY_QUARANTINE = "bronze_layer/_quarantine_history"


def _write(spark: SparkSession, settings: Settings, name: str, df, counts: dict[str, int]) -> None:
    start = time.monotonic()
    write_table(df, settings, TABLES[name])
    counts[name] = read_table(spark, settings, TABLES[name]).count()
    log.info("%s: %d rows in %.1fs", name, counts[name], time.monotonic() - start)


def run_silver(spark: SparkSession, settings: Settings, counts: dict[str, int]) -> None:
    if not path_exists(spark, lake_path(settings, "bronze_layer")):
        raise PipelineError(f"no bronze layer under {settings.lake_uri}: run `spotify-pipeline export` first")
    bronze = {c: read_table(spark, settings, TABLES[c]) for c in BRONZE_COLLECTIONS}
    tables, quarantine = silver.build_silver(bronze)
    quarantine.write.mode("overwrite").parquet(lake_path(settings, QUARANTINE))
    counts["_quarantined"] = spark.read.parquet(lake_path(settings, QUARANTINE)).count()
    if counts["_quarantined"]:
        log.warning("%d payloads quarantined under %s", counts["_quarantined"], QUARANTINE)
    for name, df in tables.items():
        if name == "silver_track_artists":  # from the tracks_data just written, not a second parse of bronze
            df = silver.silver_track_artists(read_table(spark, settings, TABLES["tracks_data"]))
        _write(spark, settings, name, df, counts)
    run_history(spark, settings, counts)


def run_history(spark: SparkSession, settings: Settings, counts: dict[str, int]) -> None:
    """History tables from all of bronze (spark_jobs/history.py); kworb rows that did not parse quarantined."""
    bronze = {c: read_table(spark, settings, TABLES[c]) for c in ("artists_raw", "tracks_raw", *HISTORY_BRONZE)}
    tables, quarantine = history.build_history(bronze)
    quarantine.write.mode("overwrite").parquet(lake_path(settings, HISTORY_QUARANTINE))
    counts["_quarantined_history"] = spark.read.parquet(lake_path(settings, HISTORY_QUARANTINE)).count()
    for name, df in tables.items():
        _write(spark, settings, name, df, counts)


def _inputs(spark: SparkSession, settings: Settings, names: Sequence[str]) -> dict:
    """Tables an earlier layer must have written: missing means that layer never ran, not 'no rows'."""
    for name in names:
        path = lake_path(settings, TABLES[name].path)
        if not path_exists(spark, path):
            raise PipelineError(f"{name} has never been written ({path}): run "
                                f"`spotify-pipeline transform --layer {TABLES[name].layer}` first")
    return {name: read_table(spark, settings, TABLES[name]) for name in names}


def run_gold(spark: SparkSession, settings: Settings, counts: dict[str, int]) -> None:
    t = _inputs(spark, settings, ("tracks_data", "silver_album", "silver_artists", "silver_track_artists",
                                  "silver_artists_genres", "silver_feature_music"))
    meta = gold.gold_track_metadata(t["tracks_data"], t["silver_album"], t["silver_artists"],
                                    t["silver_track_artists"], t["silver_artists_genres"])
    _write(spark, settings, "gold_track_metadata", meta, counts)
    meta = read_table(spark, settings, TABLES["gold_track_metadata"])
    _write(spark, settings, "gold_feature_matrix", gold.gold_feature_matrix(meta, t["silver_feature_music"]), counts)


def run_warehouse(spark: SparkSession, settings: Settings, counts: dict[str, int]) -> None:
    t = _inputs(spark, settings, ("gold_track_metadata", "gold_feature_matrix", "silver_feature_music"))
    meta, matrix, features = t["gold_track_metadata"], t["gold_feature_matrix"], t["silver_feature_music"]
    _write(spark, settings, "warehouse_track_dashboard", warehouse.warehouse_track_dashboard(meta, features), counts)
    _write(spark, settings, "warehouse_track_recommendation", warehouse.warehouse_track_recommendation(matrix),
           counts)
    run_history_warehouse(spark, settings, counts)


def run_history_warehouse(spark: SparkSession, settings: Settings, counts: dict[str, int]) -> None:
    h = _inputs(spark, settings, ("silver_artist_snapshots", "kworb_rankings"))
    _write(spark, settings, "warehouse_artist_history",
           history.warehouse_artist_history(h["silver_artist_snapshots"], h["kworb_rankings"]), counts)


RUNNERS = {"silver": run_silver, "gold": run_gold, "warehouse": run_warehouse}


def run_layers(settings: Settings, layers: Sequence[str], set_master: bool = True) -> dict[str, int]:
    wanted = ORDER if "all" in layers else [layer for layer in ORDER if layer in layers]
    counts: dict[str, int] = {}
    with SparkIO(settings, app_name=f"spotify-{'-'.join(wanted)}", set_master=set_master) as spark:
        for layer in wanted:
            RUNNERS[layer](spark, settings, counts)
    return counts


def run_layers_cli(layers: list[str], lake_uri: str | None) -> None:
    """spark-submit entry: the master comes from spark-submit, settings from the environment."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    if lake_uri:
        settings = settings.replace(lake_uri=lake_uri)
    try:
        counts = run_layers(settings, layers, set_master=False)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    for name, n in counts.items():
        print(f"{name}\t{n}")


def run(args: argparse.Namespace, settings: Settings) -> int:
    start = time.monotonic()
    counts = run_layers(settings, [args.layer])
    for name, n in counts.items():
        print(f"  {name:<32} {n:>10} rows")
    print(f"transform {args.layer}: {len([k for k in counts if not k.startswith('_')])} tables in "
          f"{time.monotonic() - start:.1f}s")
    return 0
