"""Inside the cluster profile's Airflow worker (bench/cluster_bench.py copies it there): the ETL on the
Spark cluster, as the DAG's Spark tasks run it (driver in the worker, executors on the Spark workers).

    python cluster_etl_job.py land N     # N artists of the synthetic catalog -> SQLite landing -> bronze on HDFS
    python cluster_etl_job.py run        # silver, gold, warehouse on SPARK_MASTER; prints one JSON line
"""

from __future__ import annotations

import json
import sys
import time


def land(n_artists: int) -> dict:
    from bench.etl_bench import land_catalog_in_child
    from crawler.landing.sqlite import SQLiteLandingStore
    from lake.export import export_landing
    from lake.fs import open_lake
    from spotify_core.settings import get_settings

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    tracks = land_catalog_in_child(settings.landing_sqlite_path, n_artists)
    landed_s = time.monotonic() - t0
    with SQLiteLandingStore(settings.landing_sqlite_path) as store:
        t0 = time.monotonic()
        export = export_landing(store, open_lake(settings))
    return {"artists": n_artists, "tracks": tracks, "landing_load_s": round(landed_s, 1),
            "export_s": round(time.monotonic() - t0, 1), "bronze_rows": export.total_rows}


def run() -> dict:
    from spark_jobs.runner import run_layer
    from spark_jobs.session import SparkIO
    from spotify_core.settings import get_settings

    settings = get_settings()
    counts: dict[str, int] = {}
    layers = {}
    t_all = time.monotonic()
    with SparkIO(settings, app_name="cluster-etl-bench") as spark:
        start_s = time.monotonic() - t_all
        for layer in ("silver", "gold", "warehouse"):
            t0 = time.monotonic()
            run_layer(spark, settings, layer, counts)
            layers[layer] = round(time.monotonic() - t0, 1)
    return {"spark_start_s": round(start_s, 1), "layers_s": layers, "etl_total_s": round(time.monotonic() - t_all, 1),
            "tracks": counts.get("tracks_data")}


if __name__ == "__main__":
    out = land(int(sys.argv[2])) if sys.argv[1] == "land" else run()
    print("RESULT " + json.dumps(out), flush=True)
