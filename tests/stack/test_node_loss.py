"""Node loss that nobody notices, on the session's cluster stack (docker-compose.cluster.yml).

The reference is the session's undisturbed run (``ui_pipeline_run``: the crawl in shards over both
Celery workers, then ``Spotify_DAG``): the sample API's call count, the landing's counts and every
table's fingerprint (row count + Trino checksum). Then one node of each engine is SIGKILLed while it
works, and the work must not notice:

- a DataNode of three during ``silver``: the run succeeds on its first try, every block back at 2 replicas;
- a Spark worker of two mid-stage: Spark reruns its tasks on the other, the run succeeds on its first try;
- a Trino worker of two during a BI tool's JDBC query: the query returns the right answer (retry-policy=QUERY);
- an Airflow worker of two during a crawl shard: the shard is retried on the other worker, nothing lands
  twice, and the calls stay within 1.1x the undisturbed crawl's (the checkpoint resumes, the budget is one).

The DataNode and the Spark worker die in the same second run (``disturbed_run``): the crawl DAG again
(``continue``, same artists: every call already answered, so none is made), then ``Spotify_DAG`` from
its asset, which must leave the reference's tables. One rerun of the ETL on this 2-core machine costs
about ten minutes, so the two ETL drills share it; each has its own assertions. The crawl drill comes
last: it lands everything again, with ``Spotify_DAG`` paused.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.stack.airflow_ui import CRAWL_DAG, SPOTIFY_DAG
from tests.stack.compose_harness import REPO
from tests.stack.conftest import STACK_ARTISTS, web_api_calls

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.timeout(3600)]

SHARDS = 2
NODES = {"datanode", "datanode-2", "datanode-3", "spark-worker", "spark-worker-2", "trino", "trino-worker-1",
         "trino-worker-2", "airflow-worker", "airflow-worker-2", "redis"}
RECOVERY: dict[str, float] = {}   # the drills' recovery times (test-artifacts/cluster-recovery.json, read by the bench)


@pytest.fixture(scope="module", autouse=True)
def recovery_report():
    """The recovery times, written when the module ends (also after a failure: what was measured)."""
    from tests.helpers.compose_teardown import ARTIFACTS

    yield RECOVERY
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "cluster-recovery.json").write_text(json.dumps(RECOVERY, indent=2))
    print(f"node-loss drills: {RECOVERY}")


def _landing(stack) -> dict[str, int]:
    """Documents per landing collection, read from the host as a person would."""
    import pymongo

    client = pymongo.MongoClient(f"mongodb://localhost:{stack.port('STACK_MONGO_PORT')}",
                                 serverSelectionTimeoutMS=30_000)
    db = client["spotify"]
    return {name: db[name].count_documents({}) for name in sorted(db.list_collection_names())
            if not name.startswith("system.")}


def _tis(rest, dag_id: str, run_id: str) -> list[dict]:
    return rest.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]


def _ti(rest, dag_id: str, run_id: str, task_id: str) -> dict:
    return next(t for t in _tis(rest, dag_id, run_id) if t["task_id"] == task_id)


def _fingerprints(stack) -> dict:
    from tests.stack.tables import table_fingerprints

    return table_fingerprints(stack.port("STACK_TRINO_PORT"))


def _wait(condition, what: str, timeout_s: float = 900, every: float = 1.0):
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not after {timeout_s:.0f} s"
        time.sleep(every)
    return value


@pytest.fixture(scope="module")
def rest(stack):
    """Airflow's REST API, logged in anew (the stack may have been restarted by an earlier module)."""
    from tests.stack.airflow_rest import AirflowRest

    return AirflowRest(stack.url("STACK_AIRFLOW_PORT"), "admin", "admin").login()


@pytest.fixture(scope="module")
def reference(stack, ui_pipeline_run) -> dict:
    """The undisturbed run's figures; the landing is read now (no test before this module changes it)."""
    return {"calls": ui_pipeline_run["calls"], "landing": _landing(stack), "tables": ui_pipeline_run["tables"]}


def test_status_lists_every_node_healthy(stack) -> None:
    proc = subprocess.run([sys.executable, "-m", "spotify_pipeline.cli", "stack", "status", "--json"], env=stack.env,
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    services = json.loads(proc.stdout)["services"]
    assert set(services) >= NODES
    assert {n: s["healthy"] for n, s in services.items() if not s["healthy"]} == {}
    assert services["datanode-3"]["version"] == "Hadoop 3.5.0" and services["trino-worker-2"]["version"] == "Trino 476"


def test_each_engine_runs_as_several_nodes(stack, reference) -> None:
    """Three DataNodes at 2 replicas, two Spark workers, a coordinator scheduling no splits, both Celery workers."""
    import trino

    figures = stack.fsck()
    assert figures["live"] == 3 and figures["blocks"] > 0
    assert figures["average"] == 2.0 and figures["under"] == 0
    master = stack.spark_master()
    assert sorted(w["host"] for w in master["workers"] if w["state"] == "ALIVE") == ["spark-worker", "spark-worker-2"]
    with trino.dbapi.connect(host="localhost", port=stack.port("STACK_TRINO_PORT"), user="test", catalog="hive") as con:
        cur = con.cursor()
        cur.execute("SELECT node_id, coordinator FROM system.runtime.nodes WHERE state = 'active' ORDER BY node_id")
        assert cur.fetchall() == [["trino-coordinator-1", True], ["trino-worker-1", False], ["trino-worker-2", False]]
    celery = stack.compose("exec", "-T", "airflow-worker", "celery", "--app",
                           "airflow.providers.celery.executors.celery_executor.app", "inspect", "ping",
                           timeout=120).stdout
    assert "airflow-worker@airflow-worker" in celery and "airflow-worker-2@airflow-worker-2" in celery


@pytest.fixture(scope="module")
def disturbed_run(stack, stack_api, rest, ui_pipeline_run, reference) -> dict:
    """The second run: the crawl DAG again (``continue``, the first run's artists), then ``Spotify_DAG``
    from its asset with ``datanode-2`` SIGKILLed once ``silver`` runs on both Spark workers, and
    ``spark-worker-2`` SIGKILLed mid-stage later in ``silver``. Both stay down to the end of the run."""
    calls_before = web_api_calls(stack_api)
    first = ui_pipeline_run["crawl"]["dag_run_id"]
    artists = rest.xcom(CRAWL_DAG, first, "scrape_kworb")            # the first run's artists.txt
    before = {r["dag_run_id"] for r in rest.runs(SPOTIFY_DAG)}
    started = time.monotonic()
    crawl_id = rest.trigger(CRAWL_DAG, {"mode": "continue", "artists_file": artists}, None)
    crawl = rest.wait_for_run(CRAWL_DAG, crawl_id, timeout_s=900)
    assert crawl["state"] == "success", rest.failed_tasks(CRAWL_DAG, crawl_id)
    out: dict = {"crawl_calls": web_api_calls(stack_api) - calls_before, "landing": _landing(stack)}

    new = _wait(lambda: [r for r in rest.runs(SPOTIFY_DAG) if r["dag_run_id"] not in before],
                "the crawl's asset event starting a Spotify_DAG run", every=2)
    run_id = new[0]["dag_run_id"]

    def silver_on_both_workers() -> bool:
        if _ti(rest, SPOTIFY_DAG, run_id, "silver")["state"] != "running":
            return False
        master = stack.spark_master()
        workers = {w["host"]: w for w in master["workers"]}
        return bool(master.get("activeapps")) and all(
            workers.get(h, {}).get("coresused", 0) > 0 for h in ("spark-worker", "spark-worker-2"))

    _wait(silver_on_both_workers, "silver's executors on both Spark workers")
    time.sleep(5)
    out["datanode_killed"] = stack.kill("datanode-2")
    # into silver's stages: its executors registered and reading by now (they need ~15-30 s on 2 cores)
    time.sleep(30)
    silver = _ti(rest, SPOTIFY_DAG, run_id, "silver")
    assert silver["state"] == "running", f"silver ended before the Spark worker's kill: {silver['state']}"
    out["apps_at_kill"] = [a["id"] for a in stack.spark_master().get("activeapps", [])]
    out["spark_worker_killed"] = stack.kill("spark-worker-2")
    out["run"] = rest.wait_for_run(SPOTIFY_DAG, run_id, timeout_s=2400)
    out["ended"] = time.monotonic()
    out["tries"] = {t["task_id"]: t["try_number"] for t in _tis(rest, SPOTIFY_DAG, run_id)}
    out["failed"] = rest.failed_tasks(SPOTIFY_DAG, run_id)
    RECOVERY["second_run_s"] = out["ended"] - started
    return out


def test_second_crawl_calls_no_web_api_and_lands_nothing_new(disturbed_run, reference) -> None:
    assert disturbed_run["crawl_calls"] == 0
    assert disturbed_run["landing"] == reference["landing"]


def _first_try_success(run: dict) -> None:
    assert run["run"]["state"] == "success", run["failed"]
    assert {task: n for task, n in run["tries"].items() if n > 1} == {}, run["tries"]   # no task retried


def test_a_datanode_killed_during_silver_goes_unnoticed(stack, disturbed_run, reference) -> None:
    _first_try_success(disturbed_run)
    # The NameNode declares it dead (~50 s) and copies its blocks to the two left: 2 replicas again.
    figures = _wait(lambda: (f := stack.fsck())["under"] == 0 and f["missing"] == 0 and f["average"] == 2.0 and f,
                    "every block back at two replicas", timeout_s=900, every=5)
    RECOVERY["datanode_rereplicated_s"] = time.monotonic() - disturbed_run["datanode_killed"]
    assert figures["live"] == 2
    RECOVERY["datanode_restart_s"] = stack.start("datanode-2")
    assert _fingerprints(stack) == reference["tables"]


def test_a_spark_worker_killed_mid_stage_goes_unnoticed(stack, disturbed_run, reference) -> None:
    _first_try_success(disturbed_run)
    master = stack.spark_master()
    alive = sorted(w["host"] for w in master["workers"] if w["state"] == "ALIVE")
    assert alive == ["spark-worker"]                                   # the master saw the worker go
    # silver's application, running when the worker died, finished (the run's success says: its tasks
    # were rerun on the executor left)
    finished = {a["id"]: a["state"] for a in master.get("completedapps", [])}
    assert all(finished.get(app) == "FINISHED" for app in disturbed_run["apps_at_kill"]), (
        disturbed_run["apps_at_kill"], finished)
    RECOVERY["spark_worker_run_after_kill_s"] = disturbed_run["ended"] - disturbed_run["spark_worker_killed"]
    RECOVERY["spark_worker_restart_s"] = stack.start("spark-worker-2")
    _wait(lambda: len([w for w in stack.spark_master()["workers"] if w["state"] == "ALIVE"]) == 2,
          "the restarted worker registered with the master", timeout_s=120)
    assert _fingerprints(stack) == reference["tables"]


def _trino_running(stack) -> bool:
    import requests

    queries = requests.get(stack.url("STACK_TRINO_PORT", "/v1/query"), headers={"X-Trino-User": "drill"},
                           timeout=10).json()
    return any(q["state"] == "RUNNING" and "UNNEST" in q.get("query", "") for q in queries)


def test_a_trino_worker_killed_during_a_bi_query_returns_the_right_answer(stack, bi, reference) -> None:
    tracks = reference["tables"]["warehouse.warehouse_track_dashboard"][0]
    # long enough to be killed in: every track against 400,000 numbers, on the workers (the coordinator has
    # no splits); two sequences, as Trino's `sequence` stops at 10,000 entries
    outer, inner = 400, 1_000
    sql = ("SELECT count(*), sum((x * 7 + y) % 11) FROM warehouse.warehouse_track_dashboard "
           f"CROSS JOIN UNNEST(sequence(1, {outer})) AS a(x) CROSS JOIN UNNEST(sequence(1, {inner})) AS b(y)")
    per_track = sum((x * 7 + y) % 11 for x in range(1, outer + 1) for y in range(1, inner + 1))
    expected = [str(tracks * outer * inner), str(tracks * per_track)]
    started = time.monotonic()
    client = bi.start_query(sql)
    try:
        _wait(lambda: _trino_running(stack), "the BI query running on the workers", timeout_s=120, every=0.5)
        time.sleep(2)
        assert client.poll() is None, f"query ended before the kill: {client.communicate()}"
        stack.kill("trino-worker-1")
        answer = bi.finish(client, timeout=900)
    finally:
        if client.poll() is None:
            client.kill()
    RECOVERY["trino_query_with_kill_s"] = time.monotonic() - started
    assert [str(v) for v in answer["rows"][0]] == expected
    RECOVERY["trino_worker_restart_s"] = stack.start("trino-worker-1")


def test_an_airflow_worker_killed_during_a_crawl_shard_goes_unnoticed(stack, stack_api, rest, reference) -> None:
    """Last: it lands everything again. The landing is emptied, then crawled as the reference was."""
    import pymongo

    rest.call("PATCH", f"/dags/{SPOTIFY_DAG}", json={"is_paused": True})   # no ETL after this crawl
    pymongo.MongoClient(f"mongodb://localhost:{stack.port('STACK_MONGO_PORT')}").drop_database("spotify")
    stack_api.reset_stats()
    run_id = rest.trigger(CRAWL_DAG, {"limit": STACK_ARTISTS, "shards": SHARDS, "mode": "continue"}, None)

    def running_shard() -> dict | None:
        shards = [t for t in _tis(rest, CRAWL_DAG, run_id) if t["task_id"] == "crawl_shard"]
        return next((t for t in shards if t["state"] == "running" and t.get("hostname")), None)

    shard = _wait(running_shard, "a crawl shard running on a worker", timeout_s=600, every=0.5)
    _wait(lambda: web_api_calls(stack_api) >= 10, "the shard calling the API", timeout_s=300, every=0.2)
    victim = "airflow-worker-2" if shard["hostname"].startswith("airflow-worker-2") else "airflow-worker"
    killed = stack.kill(victim)
    crawl = rest.wait_for_run(CRAWL_DAG, run_id, timeout_s=1800)
    RECOVERY["airflow_worker_shard_recovered_s"] = time.monotonic() - killed
    assert crawl["state"] == "success", rest.failed_tasks(CRAWL_DAG, run_id)
    retried = next(t for t in _tis(rest, CRAWL_DAG, run_id)
                   if t["task_id"] == "crawl_shard" and t.get("map_index") == shard.get("map_index"))
    assert retried["try_number"] >= 2                                   # retried ...
    assert retried["hostname"] != shard["hostname"]                     # ... elsewhere
    assert _landing(stack) == reference["landing"]                      # nothing landed twice, nothing missing
    calls = web_api_calls(stack_api)
    RECOVERY.update(crawl_calls_reference=reference["calls"], crawl_calls_with_kill=calls)
    assert calls <= 1.1 * reference["calls"], (calls, reference["calls"])
    RECOVERY["airflow_worker_restart_s"] = stack.start(victim)
