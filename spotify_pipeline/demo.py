"""`spotify-pipeline demo`: the whole platform offline, through Airflow, against the sample API.

The sample API runs in this process on a free loopback port; both DAGs run with
``airflow dags test`` (a SQLite metadata DB under ``$DATA_DIR/demo/airflow``), in child processes
that inherit the environment built here, exactly as a scheduler's workers would. Running the demo
twice gives the same lake, and the second crawl makes no data calls.

Real runs use the same DAGs with real ``SPOTIFY_CLIENT_ID``/``SECRET`` and no sample API.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from spotify_pipeline.errors import PipelineError
from spotify_pipeline.settings import Settings, environment_for

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DAGS = ("crawl_and_ingest_data_into_mongoDB", "Spotify_DAG")
SHOWN_TABLES = ("silver_artists", "silver_album", "tracks_data", "silver_feature_music", "silver_artists_genres",
                "gold_track_metadata", "gold_feature_matrix", "warehouse_track_dashboard",
                "warehouse_track_recommendation")


def demo_settings(settings: Settings, api) -> Settings:
    data_dir = (settings.data_dir / "demo").resolve()
    return settings.replace(
        data_dir=data_dir, lake_uri=f"file://{data_dir}/lake", mongo_uri=None, hive_metastore_uri=None,
        trino_host=None, webhdfs_url=None, spark_master="local[*]",
        spotify_api_base_url=api.api_url, spotify_token_url=api.token_url, kworb_base_url=api.kworb_url,
        spotify_client_id=api.client_id, spotify_client_secret=api.client_secret,
        spotify_requests_per_second=100.0, audio_features_source="auto",
    )


def airflow_environment(settings: Settings) -> dict[str, str]:
    """Environment for Airflow commands: local metadata DB, our dags folder, spark from the venv."""
    home = settings.data_dir / "airflow"
    venv_bin = str(Path(sys.executable).parent)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW_CONN_SPARK_DEFAULT": '{"conn_type": "spark", "host": "local[*]"}',
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYSPARK_PYTHON": sys.executable,
        "PYTHONPATH": str(PROJECT_ROOT),
    }


def _run_logged(cmd: list[str], env: dict[str, str], log_file: Path, label: str) -> None:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    print(f"  {label} ... (log: {log_file})", flush=True)
    with open(log_file, "w") as log:
        proc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=env["AIRFLOW_HOME"])
    if proc.returncode != 0:
        tail = log_file.read_text(errors="replace").splitlines()[-15:]
        print("\n".join(f"    | {line}" for line in tail), file=sys.stderr)
        raise PipelineError(f"{label} failed (exit {proc.returncode}); see {log_file}")
    print(f"  {label}: ok in {time.monotonic() - start:.0f}s", flush=True)


def run_through_airflow(settings: Settings) -> None:
    env = {**os.environ, **environment_for(settings), **airflow_environment(settings)}
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    airflow = str(Path(sys.executable).parent / "airflow")
    logs = settings.data_dir / "logs"
    _run_logged([airflow, "db", "migrate"], env, logs / "airflow-db-migrate.log", "airflow db migrate")
    for dag_id in DAGS:
        _run_logged([airflow, "dags", "test", dag_id], env, logs / f"{dag_id}.log", f"airflow dags test {dag_id}")


def run_directly(settings: Settings, workers: int) -> None:
    """The same steps without Airflow (debugging)."""
    from crawler.landing import open_store
    from spark_jobs.runner import run_layers
    from spotify_pipeline import tasks

    os.environ.update(environment_for(settings))
    from spotify_pipeline.settings import get_settings

    get_settings.cache_clear()
    artists = tasks.scrape_kworb(None, None)
    print(f"  crawl: {tasks.crawl_shard(artists, 1, workers, 'demo-direct')}")
    print(f"  export: {tasks.export_to_bronze()}")
    print(f"  transform: {run_layers(settings, ['all'])}")
    from datetime import timedelta

    from spark_jobs.quality import run_checks, save_report
    from spark_jobs.session import SparkIO

    with open_store(settings) as store:
        landing = store.counts()
    with SparkIO(settings) as spark:
        save_report(run_checks(spark, settings, timedelta(days=7), landing), settings)


def summary(settings: Settings) -> str:
    from analytics.query import run_query
    from crawler.landing import open_store

    lines = ["", "== landing zone (documents per collection)"]
    with open_store(settings) as store:
        lines += [f"  {name:<22} {n:>8}" for name, n in store.counts().items()]
    lines.append("== lake (rows per table, DuckDB over the Parquet files)")
    for table in SHOWN_TABLES:
        _, rows = run_query(settings, f"SELECT count(*) FROM {table}")
        lines.append(f"  {table:<32} {rows[0][0]:>8}")
    report = settings.data_dir / "reports" / "quality.json"
    if report.exists():
        q = json.loads(report.read_text())
        failed = [r for r in q["results"] if not r["passed"]]
        lines.append(f"== data quality: {'PASSED' if q['passed'] else 'FAILED'} "
                     f"({len(q['results']) - len(failed)}/{len(q['results'])} checks)")
    cols, rows = run_query(settings, "SELECT track_name, artist_name, album_name, release_year, genres_text, "
                                     "round(danceability, 2) AS danceability, round(energy, 2) AS energy "
                                     "FROM warehouse_track_dashboard ORDER BY popularity DESC NULLS LAST, track_id "
                                     "LIMIT 5", 5)
    from analytics.query import format_table

    lines += ["== warehouse_track_dashboard (top 5 by popularity)", format_table(cols, rows)]
    return "\n".join(lines)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from crawler.sample_api.server import start_sample_api

    start = time.monotonic()
    with start_sample_api(n_artists=args.artists, seed=42) as api:
        demo = demo_settings(settings, api)
        print(f"demo: sample Spotify API at {api.base_url} ({api.catalog.n_artists} artists, "
              f"{api.catalog.n_albums} albums, {api.catalog.n_tracks} tracks); data in {demo.data_dir}", flush=True)
        if args.no_airflow:
            run_directly(demo, args.workers)
        else:
            run_through_airflow(demo)
        stats = api.stats()
    print(summary(demo))
    from analytics.report import write_report

    print(f"\nreport: {write_report(demo)}")
    data_calls = stats.get("requests", 0)
    print(f"\nsample API: {data_calls} Web API calls this run"
          f"{' (nothing new to fetch)' if data_calls == 0 else ''}")
    print(f"demo finished in {time.monotonic() - start:.0f}s")
    return 0
