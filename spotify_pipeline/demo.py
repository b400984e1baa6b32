"""`spotify-pipeline demo`: the whole platform offline, through Airflow, against the sample API.

By default the sample API plays what a new user's app gets, a development-mode app: no audio
features, no artist genres, no batch endpoints. The crawl then takes features from ReccoBeats and
genres from MusicBrainz, both served by the sample API on the same port (``/reccobeats/v1``,
``/musicbrainz/ws/2``), so features, genres and recommendations come from those two services.
``--mode extended`` plays an extended-quota app instead: Spotify gives features and genres, and
ReccoBeats is never called.

The sample API runs in this process on a free loopback port; both DAGs run with
``airflow dags test`` (a SQLite metadata DB under ``$DATA_DIR/demo/airflow``, copied from a template
migrated once per installation), one after the other in one child process that inherits the
environment built here, exactly as a scheduler's workers would. The Spark steps run with
``SPARK_TASKS=session``: each is still its own Airflow task (retried on its own), but all of them use
that process's one Spark session, started while the crawl runs. Running the demo twice gives the
same lake, and the second crawl makes no data calls.

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

from spark_jobs import class_archive as spark_class_archive
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings, child_environment
from spotify_pipeline.demo_timing import Timings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DAGS = ("crawl_and_ingest_data_into_mongoDB", "Spotify_DAG")
SHOWN_TABLES = ("silver_artists", "silver_album", "tracks_data", "silver_feature_music", "silver_artists_genres",
                "gold_track_metadata", "gold_feature_matrix", "warehouse_track_dashboard",
                "warehouse_track_recommendation")


# Demo-sized Spark jobs finish before the JIT's C2 tier pays off; one GC thread on a small machine. C1 alone
# gets a 48 MB code cache by default, which one session running every step's generated code fills: the JVM
# then stops compiling and dies ("Out of space in CodeCache for adapters"); 240 MB is the tiered default.
DEMO_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=240m"


def demo_settings(settings: Settings, api) -> Settings:
    data_dir = (settings.data_dir / "demo").resolve()
    return settings.replace(
        data_dir=data_dir, lake_uri=f"file://{data_dir}/lake", mongo_uri=None, hive_metastore_uri=None,
        trino_host=None, webhdfs_url=None, spark_master="local[*]",
        spotify_api_base_url=api.api_url, spotify_token_url=api.token_url, kworb_base_url=api.kworb_url,
        spotify_client_id=api.client_id, spotify_client_secret=api.client_secret,
        spotify_requests_per_second=100.0, audio_features_source="auto", genres_source="auto",
        reccobeats_api_base_url=api.reccobeats_url, reccobeats_requests_per_second=100.0,
        musicbrainz_api_base_url=api.musicbrainz_url,
        spark_tasks="session",  # every Spark task in the Airflow process's one long-lived session
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
        "SPARK_SUBMIT_OPTS": DEMO_JVM_OPTIONS,
    }


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


def airflow_db_template() -> Path:
    from importlib.metadata import version

    return Path(sys.executable).parent.parent / "var" / f"airflow-{version('apache-airflow')}.db"


def _airflow_db(env: dict[str, str], home: Path, logs: Path, timings: Timings) -> None:
    """A migrated metadata DB: copied from the venv's template (one migration per installation).

    ``airflow db migrate`` replays every revision into an empty SQLite file; its result depends
    only on the Airflow version, so the first run keeps a copy beside the venv and later demos
    (any DATA_DIR) start from it. ``make install`` builds it ahead (``python -m spotify_pipeline.demo_airflow``).
    """
    import shutil
    from importlib.metadata import version

    db, stamp, template = home / "airflow.db", home / "airflow.db.version", airflow_db_template()
    if db.exists() and stamp.exists() and stamp.read_text() == version("apache-airflow"):
        return
    start = time.monotonic()
    if template.exists() and not db.exists():
        shutil.copyfile(template, db)
        timings.add("airflow metadata DB (copied from the installed template)", time.monotonic() - start)
    else:
        airflow = str(Path(sys.executable).parent / "airflow")
        _run_logged([airflow, "db", "migrate"], env, logs / "airflow-db-migrate.log", "airflow db migrate", timings)
        if not template.exists():
            template.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(db, template.with_suffix(".tmp"))
            template.with_suffix(".tmp").replace(template)
    stamp.write_text(version("apache-airflow"))


def _airflow_env(settings: Settings) -> dict[str, str]:
    env = child_environment(settings)
    env.update(airflow_environment(settings, env.get("PATH", "")))
    # The driver JVMs map the classes from the archive `make install` built.
    env["SPARK_SUBMIT_OPTS"] = spark_class_archive.submit_opts(settings, env)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    return env


def prepare_airflow_db(settings: Settings, timings: Timings) -> None:
    env = _airflow_env(settings)
    _airflow_db(env, Path(env["AIRFLOW_HOME"]), settings.data_dir / "logs", timings)


def run_through_airflow(settings: Settings, timings: Timings) -> None:
    """Both DAGs with ``airflow dags test``, one after the other, in one child Airflow process
    (``spotify_pipeline.demo_airflow test``), whose long-lived Spark session every Spark task uses."""
    env = _airflow_env(settings)
    home = Path(env["AIRFLOW_HOME"])
    logs = settings.data_dir / "logs"
    _airflow_db(env, home, logs, timings)
    parts_file = logs / "airflow-parts.json"
    parts_file.unlink(missing_ok=True)
    # The demo continues what is missing (a rerun fetches nothing); a scheduled run refreshes. `dags test`
    # runs mapped tasks one after another, and each shard takes 1/shards of every rate (they may run at
    # once under a scheduler): two shards in series would crawl at half speed, so the demo crawls in one.
    runs = [f'{DAGS[0]}={{"mode": "continue", "shards": 1}}', DAGS[1]]
    start = time.monotonic()
    try:
        _run_logged([sys.executable, "-m", "spotify_pipeline.demo_airflow", "test", str(parts_file), *runs], env,
                    logs / "airflow-dags-test.log", f"airflow dags test {' + '.join(DAGS)}")
    finally:
        parts = json.loads(parts_file.read_text()) if parts_file.exists() else {}
        for label, seconds in parts.items():
            timings.add(label, seconds)
        if parts:
            timings.add("Airflow process exit (Spark session stopped)", time.monotonic() - start - sum(parts.values()))
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
    from analytics import coverage

    lines += coverage.summary_lines(settings)
    cols, rows = run_query(settings, "SELECT track_name, artist_name, album_name, release_year, genres_text, "
                                     "round(danceability, 2) AS danceability, round(energy, 2) AS energy "
                                     "FROM warehouse_track_dashboard ORDER BY popularity DESC NULLS LAST, track_id "
                                     "LIMIT 5", 5)
    from analytics.query import format_table

    lines += ["== warehouse_track_dashboard (top 5 by popularity)", format_table(cols, rows)]
    return "\n".join(lines)


def _enrichment_calls(stats: dict[str, int], service: str) -> int:
    """Requests the sample API's ReccoBeats or MusicBrainz service answered (its ``GET /<service>/...`` keys)."""
    return sum(n for key, n in stats.items() if key.startswith(f"GET /{service}/"))


def run(args: argparse.Namespace, settings: Settings) -> int:
    from spotify_pipeline.harness import sample_api_server

    start_sample_api = sample_api_server().start_sample_api  # the demo serves the harness's sample API
    start = time.monotonic()
    timings = Timings()
    mode = getattr(args, "mode", "development")
    with start_sample_api(n_artists=args.artists, seed=42, mode=mode) as api:
        demo = demo_settings(settings, api)
        timings.add("start the sample API", time.monotonic() - start)
        print(f"demo: sample Spotify API at {api.base_url}, app mode: {mode} ({api.catalog.n_artists} artists, "
              f"{api.catalog.n_albums} albums, {api.catalog.n_tracks} tracks); data in {demo.data_dir}", flush=True)
        if mode == "development":
            print(f"demo: audio features from ReccoBeats at {api.reccobeats_url}, genres from MusicBrainz at "
                  f"{api.musicbrainz_url} (both on the sample API)", flush=True)
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
    print(f"sample API: {_enrichment_calls(stats, 'reccobeats')} ReccoBeats calls, "
          f"{_enrichment_calls(stats, 'musicbrainz')} MusicBrainz calls this run")
    print(f"demo finished in {time.monotonic() - start:.0f}s")
    return 0
