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
from spotify_pipeline.settings import Settings, child_environment

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


def airflow_environment(settings: Settings, path: str) -> dict[str, str]:
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
        "PATH": f"{venv_bin}{os.pathsep}{path}",
        "PYSPARK_PYTHON": sys.executable,
        "PYTHONPATH": str(PROJECT_ROOT),
    }


class Timings:
    """Wall time per demo step, and per Airflow task (from the run's metadata DB), printed as one table."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []
        self.tasks: list[tuple[str, str, float]] = []

    def add(self, label: str, seconds: float) -> None:
        self.steps.append((label, seconds))

    def read_tasks(self, airflow_db: Path) -> None:
        import sqlite3

        if not airflow_db.exists():
            return
        with sqlite3.connect(airflow_db) as con:
            rows = con.execute("SELECT dag_id, task_id, count(*), max(duration), sum(duration) FROM task_instance "
                               "WHERE duration IS NOT NULL GROUP BY dag_id, task_id ORDER BY min(start_date)"
                               ).fetchall()
        self.tasks = [(dag, f"{task}{f' (x{n}, longest {longest:.1f}s)' if n > 1 else ''}", total)
                      for dag, task, n, longest, total in rows]

    def table(self) -> str:
        lines = ["== timings (seconds)", f"  {'step':<58} {'s':>7}"]
        lines += [f"  {label:<58} {seconds:>7.1f}" for label, seconds in self.steps]
        if self.tasks:
            lines.append("  -- Airflow tasks (inside the `dags test` steps above)")
            lines += [f"    {dag[:22] + '.' + task:<56} {seconds:>7.1f}" for dag, task, seconds in self.tasks]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"steps": dict(self.steps), "tasks": {f"{d}.{t}": round(s, 2) for d, t, s in self.tasks}}


def _run_logged(cmd: list[str], env: dict[str, str], log_file: Path, label: str,
                timings: Timings | None = None) -> None:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    print(f"  {label} ... (log: {log_file})", flush=True)
    with open(log_file, "w") as log:
        proc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=env["AIRFLOW_HOME"])
    if proc.returncode != 0:
        tail = log_file.read_text(errors="replace").splitlines()[-15:]
        print("\n".join(f"    | {line}" for line in tail), file=sys.stderr)
        raise PipelineError(f"{label} failed (exit {proc.returncode}); see {log_file}")
    seconds = time.monotonic() - start
    if timings is not None:
        timings.add(label, seconds)
    print(f"  {label}: ok in {seconds:.0f}s", flush=True)


def run_through_airflow(settings: Settings, timings: Timings) -> None:
    env = child_environment(settings)
    env.update(airflow_environment(settings, env.get("PATH", "")))
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    airflow = str(Path(sys.executable).parent / "airflow")
    logs = settings.data_dir / "logs"
    _run_logged([airflow, "db", "migrate"], env, logs / "airflow-db-migrate.log", "airflow db migrate", timings)
    for dag_id in DAGS:
        # The demo continues what is missing (a rerun fetches nothing); a scheduled run refreshes.
        conf = ["-c", '{"mode": "continue"}'] if dag_id == DAGS[0] else []
        _run_logged([airflow, "dags", "test", dag_id, *conf], env, logs / f"{dag_id}.log",
                    f"airflow dags test {dag_id}", timings)
    timings.read_tasks(home / "airflow.db")


def run_directly(settings: Settings, workers: int) -> None:
    """The same steps without Airflow (debugging)."""
    from spark_jobs.quality import run_checks, save_report
    from spark_jobs.runner import run_layers
    from spark_jobs.session import SparkIO
    from spotify_pipeline import tasks

    artists = tasks.scrape_kworb(None, None, settings=settings)
    print(f"  crawl: {tasks.crawl_shard(artists, 1, workers, 'demo-direct', settings=settings)}")
    print(f"  export: {tasks.export_to_bronze(settings=settings)}")
    print(f"  transform: {run_layers(settings, ['all'])}")
    with SparkIO(settings) as spark:
        save_report(run_checks(spark, settings), settings)


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
    timings = Timings()
    with start_sample_api(n_artists=args.artists, seed=42) as api:
        demo = demo_settings(settings, api)
        timings.add("start the sample API", time.monotonic() - start)
        print(f"demo: sample Spotify API at {api.base_url} ({api.catalog.n_artists} artists, "
              f"{api.catalog.n_albums} albums, {api.catalog.n_tracks} tracks); data in {demo.data_dir}", flush=True)
        if args.no_airflow:
            t0 = time.monotonic()
            run_directly(demo, args.workers)
            timings.add("pipeline without Airflow", time.monotonic() - t0)
        else:
            run_through_airflow(demo, timings)
        stats = api.stats()
    t0 = time.monotonic()
    print(summary(demo))
    timings.add("summary (DuckDB over the lake)", time.monotonic() - t0)
    from analytics.report import write_report

    t0 = time.monotonic()
    report = write_report(demo)
    timings.add("HTML report", time.monotonic() - t0)
    timings.add("total", time.monotonic() - start)
    print(timings.table())
    out = demo.data_dir / "reports" / "demo_timings.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(timings.as_dict(), indent=2))
    print(f"\nreport: {report}")
    data_calls = stats.get("requests", 0)
    print(f"\nsample API: {data_calls} Web API calls this run"
          f"{' (nothing new to fetch)' if data_calls == 0 else ''}")
    print(f"demo finished in {time.monotonic() - start:.0f}s")
    return 0
