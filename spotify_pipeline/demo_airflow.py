"""The demo's Airflow process, and the metadata DB template ``make install`` migrates once.

    python -m spotify_pipeline.demo_airflow                          (make install: the DB template)
    python -m spotify_pipeline.demo_airflow test TIMINGS DAG_ID[=CONF_JSON] ...

``airflow db migrate`` into an empty SQLite file depends only on the Airflow version; the demo
copies the template instead of migrating (see ``spotify_pipeline.demo._airflow_db``).

``test`` runs ``airflow dags test`` for each DAG in turn, in this one process (Airflow's own CLI
command, so the runs, task instances and logs are the same as ``airflow dags test``'s). One process
pays Airflow's start once instead of once per DAG, and with ``SPARK_TASKS=session`` its Spark session
starts in the background while the first DAG crawls; every Spark task then uses that session.
TIMINGS receives the wall time of each part as JSON.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path


def prepare() -> int:
    from spotify_core.settings import load_settings
    from spotify_pipeline.demo import airflow_db_template, prepare_airflow_db
    from spotify_pipeline.demo_timing import Timings

    if not airflow_db_template().exists():
        with tempfile.TemporaryDirectory(prefix="airflow-template-") as tmp:
            prepare_airflow_db(load_settings({"DATA_DIR": tmp}), Timings())
        print(f"prepared {airflow_db_template()}")
    return 0 if airflow_db_template().exists() else 1


def warm_up_spark() -> threading.Thread | None:
    """Start this process's shared Spark session and its metastore in the background, while the crawl
    waits on the API (``SPARK_TASKS=session`` only)."""
    from spotify_core.settings import get_settings

    settings = get_settings()
    if settings.spark_tasks != "session":
        return None

    def start() -> None:
        from spark_jobs.session import shared_session

        try:
            # Its embedded metastore too (Derby creates its schema, the Hive client loads): the catalog
            # task's first call would otherwise pay for that at the end of the run.
            shared_session(settings).catalog.listDatabases()
        except Exception as exc:  # noqa: BLE001 - the first Spark task starts it again and fails with the cause
            print(f"demo: the Spark session did not start ahead ({exc}); the first Spark task will try", flush=True)

    thread = threading.Thread(target=start, name="spark-warm-up", daemon=True)
    thread.start()
    return thread


def test_dags(timings_file: Path, runs: list[str]) -> int:
    """``airflow dags test`` for each ``DAG_ID[=CONF]`` in order; stops at the first failed run."""
    start = time.monotonic()
    parts: dict[str, float] = {}
    warm_up_spark()
    from airflow.cli.cli_parser import get_parser
    from airflow.configuration import write_default_airflow_configuration_if_needed

    write_default_airflow_configuration_if_needed()  # what `airflow`'s own main does before a command
    parser = get_parser()
    parts["Airflow start in the demo's Airflow process"] = time.monotonic() - start
    try:
        for run in runs:
            dag_id, _, conf = run.partition("=")
            t0 = time.monotonic()
            args = parser.parse_args(["dags", "test", dag_id, *(["-c", conf] if conf else [])])
            print(f"==== airflow dags test {dag_id}", flush=True)
            try:
                args.func(args)
            except SystemExit as exc:  # `dags test` exits with a message when the run failed
                if exc.code not in (None, 0):
                    print(f"airflow dags test {dag_id}: {exc.code}", file=sys.stderr, flush=True)
                    return 1
            parts[f"airflow dags test {dag_id}"] = time.monotonic() - t0
    finally:
        timings_file.write_text(json.dumps(parts))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["test"] and len(sys.argv) > 3:
        sys.exit(test_dags(Path(sys.argv[2]), sys.argv[3:]))
    if len(sys.argv) > 1:
        sys.exit(f"usage: {__doc__.splitlines()[2].strip()}")
    sys.exit(prepare())
