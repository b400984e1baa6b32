"""The demo's Airflow child process: both DAGs through ``dag.test()`` in one interpreter.

``airflow dags test`` twice pays Airflow's import and the DAG folder's parse twice; this runs the
same ``dag.test()`` for each DAG in order in one process and fails (exit 1, one line) when a run
does not succeed, since ``dag.test()`` itself returns normally on failure. Run it with the
environment the demo builds (AIRFLOW_HOME, dags folder, connections, pipeline settings).

    python -m spotify_pipeline.demo_airflow DAG_ID[=JSON_CONF] [DAG_ID[=JSON_CONF] ...]
    python -m spotify_pipeline.demo_airflow --prepare     (make install: the migrated DB template)
"""

from __future__ import annotations

import sys
import time


def main(runs: list[str]) -> int:
    import json

    from airflow.configuration import conf
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=conf.get("core", "dags_folder"))
    if bag.import_errors:
        print(f"error: DAG import errors: {bag.import_errors}", file=sys.stderr)
        return 1
    for spec in runs:
        dag_id, _, run_conf = spec.partition("=")
        start = time.monotonic()
        run = bag.get_dag(dag_id).test(run_conf=json.loads(run_conf) if run_conf else None)
        state = str(getattr(run.state, "value", run.state))
        print(f"demo-airflow: {dag_id} {state} in {time.monotonic() - start:.1f}s", flush=True)
        if state != "success":
            print(f"error: {dag_id} finished {state}", file=sys.stderr)
            return 1
    return 0


def prepare() -> int:
    """Build the venv's migrated Airflow DB template once, so the first demo does not migrate."""
    import tempfile

    from spotify_pipeline.demo import airflow_db_template, prepare_airflow_db
    from spotify_pipeline.demo_timing import Timings
    from spotify_pipeline.settings import load_settings

    if airflow_db_template().exists():
        return 0
    with tempfile.TemporaryDirectory(prefix="airflow-template-") as tmp:
        prepare_airflow_db(load_settings({"DATA_DIR": tmp}), Timings())
    print(f"prepared {airflow_db_template()}")
    return 0 if airflow_db_template().exists() else 1


if __name__ == "__main__":
    sys.exit(prepare() if sys.argv[1:] == ["--prepare"] else main(sys.argv[1:]))
