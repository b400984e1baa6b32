"""DAG integrity, graph, asset link and connections, each checked in a fresh interpreter.

Airflow reads its configuration on first import, so every check runs in a subprocess with its own
AIRFLOW_HOME; the parent test process never imports airflow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def airflow_python(tmp_path: Path, code: str, extra_env: dict[str, str] | None = None) -> dict:
    home = tmp_path / "airflow"
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
           "AIRFLOW_CONN_SPARK_DEFAULT": '{"conn_type": "spark", "host": "local[*]"}', **(extra_env or {})}
    for var in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET"):
        env.pop(var, None)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the last JSON line: a Spark session stopped at exit may print after it
    return json.loads([line for line in proc.stdout.splitlines() if line.startswith(("{", "["))][-1])


# The DAG files parsed under each of a few environments, all in one interpreter (importing Airflow is the
# cost, ~8 s a process): each parse starts from the process's environment plus its own variables, drops the
# cached settings and re-executes the DAG files (DagBag imports each file afresh), as a new process would.
DAGBAG = """
import json, os, socket
def no_network(*a, **k):
    raise AssertionError("DAG import opened a network connection")
socket.socket.connect = no_network
from airflow.dag_processing.dagbag import DagBag
from spotify_core.settings import get_settings

BASE = dict(os.environ)

def parse(env):
    os.environ.clear()
    os.environ.update({{**BASE, **env}})
    get_settings.cache_clear()
    bag = DagBag(dag_folder={folder!r})  # examples are off via AIRFLOW__CORE__LOAD_EXAMPLES (3.3 dropped include_examples)
    out = {{"errors": {{k: str(v)[:500] for k, v in bag.import_errors.items()}}, "dags": sorted(bag.dag_ids)}}
    for dag_id in bag.dag_ids:
        dag = bag.dags[dag_id]
        out[dag_id] = {{
            "edges": sorted([t.task_id, d] for t in dag.tasks for d in sorted(t.downstream_task_ids)),
            "tasks": sorted(t.task_id for t in dag.tasks),
            "outlets": sorted(str(getattr(o, "uri", o)) for t in dag.tasks for o in t.outlets),
            "schedule": str(getattr(dag, "timetable", "")),
            "timetable": [type(dag.timetable).__name__, getattr(dag.timetable, "expression", None)],
            "retries": sorted({{t.retries for t in dag.tasks}}),
            "catchup": dag.catchup,
            "start_date": dag.start_date.isoformat(),
            "start_date_tz": str(dag.start_date.tzinfo),
            "tags": sorted(dag.tags),
            "params": {{k: dag.params[k] for k in dag.params.keys()}},
            "param_enums": {{k: dag.params.get_param(k).schema.get("enum") for k in dag.params.keys()}},
        }}
        spark = [t for t in dag.tasks if t.task_type == "SparkSubmitOperator"]
        out[dag_id]["python_args"] = {{t.task_id: [a for a in getattr(t, "op_args", None) or [] if isinstance(a, str)]
                                       for t in dag.tasks if t.task_type != "SparkSubmitOperator"}}
        out[dag_id]["spark_args"] = {{t.task_id: list(t.application_args) for t in spark}}
        out[dag_id]["spark_apps"] = sorted({{t.application for t in spark}})
        condition = getattr(dag.timetable, "asset_condition", None)
        out[dag_id]["asset_schedule"] = [str(a.uri) for a in getattr(condition, "objects", [])]
    return out

print(json.dumps({{name: parse(env) for name, env in {variants!r}.items()}}))
"""
# The environments parsed: Airflow's defaults, the demo's SPARK_TASKS=session, and the weekly crawl turned off.
VARIANTS = {"submit": {}, "session": {"SPARK_TASKS": "session"}, "no_schedule": {"CRAWL_SCHEDULE": "none"}}


@pytest.fixture(scope="module")
def dagbags(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("dagbag")
    out = airflow_python(tmp, DAGBAG.format(folder=str(ROOT / "dags"), variants=VARIANTS))
    out["submit"]["_new_files"] = sorted(p.name for p in tmp.iterdir() if p.name != "airflow")
    return out


@pytest.fixture(scope="module")
def dagbag(dagbags) -> dict:
    return dagbags["submit"]


@pytest.fixture(scope="module")
def dagbag_in_session(dagbags) -> dict:
    """The DAGs as the demo parses them: SPARK_TASKS=session."""
    return dagbags["session"]


def test_dags_import_without_errors_or_side_effects(dagbag) -> None:
    assert dagbag["errors"] == {}
    assert dagbag["dags"] == ["Spotify_DAG", "crawl_and_ingest_data_into_mongoDB"]
    assert dagbag["_new_files"] == []  # parsing wrote nothing into the working directory


def test_crawl_dag_graph_and_asset(dagbag) -> None:
    crawl = dagbag["crawl_and_ingest_data_into_mongoDB"]
    assert crawl["edges"] == [["crawl_shard", "landing_stats"], ["plan_shards", "crawl_shard"],
                              ["scrape_kworb", "plan_shards"]]
    assert [o.rstrip("/") for o in crawl["outlets"]] == ["spotify://landing_zone"]
    assert crawl["catchup"] is False and crawl["retries"] == [2]


def test_crawl_dag_is_weekly_unless_crawl_schedule_turns_it_off(dagbag, dagbags) -> None:
    assert dagbag["crawl_and_ingest_data_into_mongoDB"]["timetable"] == ["CronTriggerTimetable", "0 0 * * 0"]
    assert dagbags["no_schedule"]["errors"] == {}
    assert dagbags["no_schedule"]["crawl_and_ingest_data_into_mongoDB"]["timetable"] == ["NullTimetable", None]


def test_crawl_dag_mode_param_matches_the_crawl_modes(dagbag) -> None:
    from crawler.crawl import MODES

    crawl = dagbag["crawl_and_ingest_data_into_mongoDB"]
    assert crawl["params"]["mode"] == "refresh"  # a scheduled run is the weekly incremental refresh
    assert crawl["param_enums"]["mode"] == list(MODES)


def test_spotify_dag_graph_is_scheduled_on_the_asset(dagbag) -> None:
    dag = dagbag["Spotify_DAG"]
    assert dag["asset_schedule"] == dagbag["crawl_and_ingest_data_into_mongoDB"]["outlets"]  # producer -> consumer
    assert dag["edges"] == [
        ["data_quality", "register_catalog"], ["export_to_bronze", "silver"], ["gold", "warehouse"],
        ["package_code", "silver"], ["silver", "gold"], ["similar_tracks", "data_quality"],
        ["warehouse", "similar_tracks"]]


# The spark_default connection each AIRFLOW_CONN_SPARK_DEFAULT gives, read by a new hook in one interpreter.
CONN = """
import json, os
from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook
masters = []
for conn in {conns!r}:
    os.environ["AIRFLOW_CONN_SPARK_DEFAULT"] = conn
    masters.append(SparkSubmitHook(conn_id="spark_default")._connection["master"])
print(json.dumps(masters))
"""
CONNECTIONS = {'{"conn_type": "spark", "host": "local[*]"}': "local[*]",
               '{"conn_type": "spark", "host": "spark://spark-master", "port": 7077}': "spark://spark-master:7077"}


def test_spark_connection_comes_from_the_environment(tmp_path) -> None:
    assert airflow_python(tmp_path, CONN.format(conns=list(CONNECTIONS))) == list(CONNECTIONS.values())


def test_spark_steps_point_at_the_single_entry(dagbag) -> None:
    from spotify_pipeline.tasks import spark_application

    path = Path(spark_application())
    assert path.is_file() and path.name == "submit.py" and "def main(" in path.read_text()
    assert dagbag["Spotify_DAG"]["spark_args"] == {
        "silver": ["--layer", "silver"], "gold": ["--layer", "gold"], "warehouse": ["--layer", "warehouse"],
        "similar_tracks": ["--layer", "similar"], "data_quality": ["--layer", "quality"], "register_catalog": ["--layer", "catalog"]}
    assert set(dagbag["Spotify_DAG"]["spark_apps"]) == {str(path)}


SPARK_STEPS = {"silver": ["silver"], "gold": ["gold"], "warehouse": ["warehouse"], "similar_tracks": ["similar"],
               "data_quality": ["quality"], "register_catalog": ["catalog"]}


def test_start_dates_are_timezone_aware_utc(dagbag) -> None:
    for dag_id in dagbag["dags"]:
        assert dagbag[dag_id]["start_date_tz"] == "UTC", dag_id
        assert dagbag[dag_id]["start_date"].startswith("2026-01-01T00:00:00+00:00"), dag_id


def test_in_session_mode_the_spark_steps_are_the_same_tasks_run_in_process(dagbag, dagbag_in_session) -> None:
    """SPARK_TASKS=session keeps the graph (same task ids, one task per step, each retried on its own)
    and runs each step in the worker's process instead of a spark-submit."""
    submit, session = dagbag["Spotify_DAG"], dagbag_in_session["Spotify_DAG"]
    assert dagbag_in_session["errors"] == {}
    assert session["edges"] == submit["edges"] and session["tasks"] == submit["tasks"]
    assert session["spark_args"] == {} and session["retries"] == submit["retries"] == [2]
    assert {k: v for k, v in session["python_args"].items() if k in SPARK_STEPS} == SPARK_STEPS


def test_spark_tasks_setting_refuses_unknown_modes(tmp_path) -> None:
    from spotify_core.errors import PipelineError
    from spotify_core.settings import load_settings

    assert load_settings({}).spark_tasks == "submit"  # the cluster's way stays the default
    with pytest.raises(PipelineError, match="SPARK_TASKS"):
        load_settings({"SPARK_TASKS": "thread"})


PERMANENT = """
import json
from airflow.sdk.exceptions import AirflowFailException
from spark_jobs import runner, session
from spotify_pipeline import tasks

def failed_checks(spark, settings, layer):
    return runner.JobResult(False, ["data quality: FAILED (1 of 2 checks)", "FAIL pk silver_artists"])

def checks_failing():  # the step's answer, without a Spark session to compute it
    runner.run_spark_step = failed_checks
    session.shared_session = lambda settings: None
    return tasks.spark_step("quality")

out = {{}}
for name, call in [("crawl", lambda: tasks.check_crawl([{{"failed": 2}}, {{"failed": 0}}])),
                   ("spark", lambda: tasks.spark_step({layer!r})), ("checks", checks_failing)]:
    try:
        call()
        out[name] = "no exception"
    except AirflowFailException as exc:
        out[name] = "AirflowFailException: " + str(exc)
    except Exception as exc:
        out[name] = type(exc).__name__ + ": " + str(exc)
print(json.dumps(out))
"""


@pytest.mark.timeout(300)
def test_permanent_failures_fail_without_retries(tmp_path) -> None:
    """A failure a retry cannot fix raises AirflowFailException (Airflow skips the retries), not RuntimeError:
    artists that failed permanently, a Spark step whose input layer was never built, failed checks."""
    out = airflow_python(tmp_path, PERMANENT.format(layer="gold"), {"DATA_DIR": str(tmp_path / "data")})
    assert out["crawl"].startswith("AirflowFailException: 2 artists failed permanently"), out
    assert out["spark"].startswith("AirflowFailException: tracks_data has never been written"), out
    assert out["checks"] == "AirflowFailException: quality failed: data quality: FAILED (1 of 2 checks)", out


def test_code_zip_is_rebuilt_only_when_a_source_changes(tmp_path) -> None:
    from spotify_pipeline.tasks import code_zip

    root, dist = tmp_path / "root", tmp_path / "dist"
    (root / "spark_jobs").mkdir(parents=True)
    source = root / "spark_jobs" / "job.py"
    source.write_text("A = 1\n")
    first = code_zip(root, dist)
    built = first.stat().st_mtime_ns
    assert code_zip(root, dist) == first and first.stat().st_mtime_ns == built  # same sources: not rebuilt
    source.write_text("A = 2\n")
    second = code_zip(root, dist)
    assert second != first and zipfile.ZipFile(second).read("spark_jobs/job.py") == b"A = 2\n"
    assert sorted(p.name for p in dist.iterdir()) == sorted([first.name, second.name])  # no temporary files left
