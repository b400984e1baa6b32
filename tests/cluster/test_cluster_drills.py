"""The cluster profile for real, and node loss that nobody notices (docker-compose.cluster.yml).

One cluster per session (``cluster``), from empty volumes, with a sample API on the host as Spotify and
kworb. The undisturbed run (a sharded crawl through the Celery workers, then ``Spotify_DAG``) gives the
reference: the sample API's call count, the landing's counts and every table's fingerprint (row count +
Trino checksum). Then one node of each engine is SIGKILLed while it works, and the work must not notice:

- a DataNode of three during ``silver``: the run succeeds on its first try, every block back at 2 replicas;
- a Spark worker of two mid-stage: Spark reruns its tasks on the other, the run succeeds on its first try;
- a Trino worker of two during a BI tool's JDBC query: the query returns the right answer (retry-policy=QUERY);
- an Airflow worker of two during a crawl shard: the shard is retried on the other worker, nothing lands
  twice, and the calls stay within 1.1x the undisturbed crawl's (the checkpoint resumes, the budget is one).

The ETL drills rerun ``Spotify_DAG`` on the reference's landing, so their tables must equal the reference's;
the crawl drill comes last, as it lands everything again.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from sample_api.server import make_server
from tests.cluster.harness import ClusterStack
from tests.helpers.compose_teardown import ARTIFACTS, torn_down
from tests.stack.compose_harness import REPO, docker_ready, skip_or_fail

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.airflow, pytest.mark.timeout(7200)]

ARTISTS = 5
SHARDS = 2
RATE = 10             # the crawl's one budget, calls a second: slow enough to kill a worker mid-shard
CRAWL_DAG, SPOTIFY_DAG = "crawl_and_ingest_data_into_mongoDB", "Spotify_DAG"
NODES = {"datanode", "datanode-2", "datanode-3", "spark-worker", "spark-worker-2", "trino", "trino-worker-1",
         "trino-worker-2", "airflow-worker", "airflow-worker-2", "redis"}
RECOVERY: dict[str, float] = {}   # the drills' recovery times, printed at the end (and read by the bench)


@pytest.fixture(scope="module")
def sample_api() -> Iterator:
    api = make_server(ARTISTS, 11, host="0.0.0.0").start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture(scope="module")
def cluster(sample_api) -> Iterator[ClusterStack]:
    reason = docker_ready()
    if reason:
        skip_or_fail(reason)
    port = urllib.parse.urlsplit(sample_api.api_url).port
    base = f"http://host.docker.internal:{port}"
    stack = ClusterStack({
        "SPOTIFY_API_BASE_URL": f"{base}/v1", "SPOTIFY_TOKEN_URL": f"{base}/api/token",
        "KWORB_BASE_URL": f"{base}/kworb", "SPOTIFY_CLIENT_ID": sample_api.client_id,
        "SPOTIFY_CLIENT_SECRET": sample_api.client_secret, "SPOTIFY_REQUESTS_PER_SECOND": str(RATE),
        "CRAWL_SCHEDULE": "none", "AUDIO_FEATURES_SOURCE": "spotify", "GENRES_SOURCE": "spotify",
    })
    with torn_down(stack, "cluster-stack.log", log_lines=120):
        stack.down(volumes=True)
        started = time.monotonic()
        try:
            stack.up()
            RECOVERY["cluster_up_s"] = time.monotonic() - started
            yield stack
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "cluster-recovery.json").write_text(json.dumps(RECOVERY, indent=2))
            print(f"cluster drills: {RECOVERY}")


@pytest.fixture(scope="module")
def rest(cluster):
    from tests.stack.airflow_rest import AirflowRest

    client = AirflowRest(f"http://localhost:{cluster.port('STACK_AIRFLOW_PORT')}", "admin", "admin").login()
    client.wait_for_dags({CRAWL_DAG, SPOTIFY_DAG}, timeout_s=600)
    return client


def _calls(api) -> int:
    return sum(n for key, n in api.stats().items() if key.startswith("GET /v1/"))


def _landing(cluster) -> dict[str, int]:
    """Documents per landing collection, read from the host as a person would."""
    import pymongo

    client = pymongo.MongoClient(f"mongodb://localhost:{cluster.port('STACK_MONGO_PORT')}",
                                 serverSelectionTimeoutMS=30_000)
    db = client["spotify"]
    return {name: db[name].count_documents({}) for name in sorted(db.list_collection_names())
            if not name.startswith("system.")}


def _tis(rest, dag_id: str, run_id: str) -> list[dict]:
    return rest.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]


def _ti(rest, dag_id: str, run_id: str, task_id: str) -> dict:
    return next(t for t in _tis(rest, dag_id, run_id) if t["task_id"] == task_id)


def _fingerprints(cluster) -> dict:
    from tests.stack.tables import table_fingerprints

    return table_fingerprints(cluster.port("STACK_TRINO_PORT"))


def _wait(condition, what: str, timeout_s: float = 900, every: float = 1.0):
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not after {timeout_s:.0f} s"
        time.sleep(every)
    return value


def _start_spotify_dag(rest) -> str:
    return rest.trigger(SPOTIFY_DAG, {}, None)


def _finish_first_try(rest, run_id: str) -> dict:
    """The run succeeded and no task of it needed a second try."""
    run = rest.wait_for_run(SPOTIFY_DAG, run_id, timeout_s=2400)
    assert run["state"] == "success", rest.failed_tasks(SPOTIFY_DAG, run_id)
    tries = {t["task_id"]: t["try_number"] for t in _tis(rest, SPOTIFY_DAG, run_id)}
    assert {task: n for task, n in tries.items() if n > 1} == {}, tries
    return run


@pytest.fixture(scope="module")
def reference(cluster, rest, sample_api) -> dict:
    """The undisturbed run: a crawl in shards over both Celery workers, then Spotify_DAG from the asset."""
    rest.unpause(SPOTIFY_DAG)
    rest.unpause(CRAWL_DAG)
    sample_api.reset_stats()
    started = time.monotonic()
    run_id = rest.trigger(CRAWL_DAG, {"limit": ARTISTS, "shards": SHARDS, "mode": "continue"}, None)
    crawl = rest.wait_for_run(CRAWL_DAG, run_id, timeout_s=1500)
    assert crawl["state"] == "success", rest.failed_tasks(CRAWL_DAG, run_id)
    crawl_s = time.monotonic() - started
    calls = _calls(sample_api)
    spotify = rest.wait_for_run(SPOTIFY_DAG, timeout_s=2400)
    assert spotify["state"] == "success", rest.failed_tasks(SPOTIFY_DAG, spotify["dag_run_id"])
    RECOVERY.update(reference_crawl_s=crawl_s, reference_run_s=time.monotonic() - started)
    return {"calls": calls, "landing": _landing(cluster), "tables": _fingerprints(cluster)}


def test_status_lists_every_node_healthy(cluster) -> None:
    proc = subprocess.run([sys.executable, "-m", "spotify_pipeline.cli", "stack", "status", "--json"], env=cluster.env,
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    services = json.loads(proc.stdout)["services"]
    assert set(services) >= NODES
    assert {n: s["healthy"] for n, s in services.items() if not s["healthy"]} == {}
    assert services["datanode-3"]["version"] == "Hadoop 3.5.0" and services["trino-worker-2"]["version"] == "Trino 476"


def test_each_engine_runs_as_several_nodes(cluster, reference) -> None:
    """Three DataNodes at 2 replicas, two Spark workers, a coordinator scheduling no splits, both Celery workers."""
    import trino

    figures = cluster.fsck()
    assert figures["live"] == 3 and figures["blocks"] > 0
    assert figures["average"] == 2.0 and figures["under"] == 0
    master = cluster.spark_master()
    assert sorted(w["host"] for w in master["workers"] if w["state"] == "ALIVE") == ["spark-worker", "spark-worker-2"]
    with trino.dbapi.connect(host="localhost", port=cluster.port("STACK_TRINO_PORT"), user="test", catalog="hive") as con:
        cur = con.cursor()
        cur.execute("SELECT node_id, coordinator FROM system.runtime.nodes WHERE state = 'active' ORDER BY node_id")
        assert cur.fetchall() == [["trino-coordinator-1", True], ["trino-worker-1", False], ["trino-worker-2", False]]
    celery = cluster.compose("exec", "-T", "airflow-worker", "celery", "--app",
                             "airflow.providers.celery.executors.celery_executor.app", "inspect", "ping",
                             timeout=120).stdout
    assert "airflow-worker@airflow-worker" in celery and "airflow-worker-2@airflow-worker-2" in celery


def test_a_datanode_killed_during_silver_goes_unnoticed(cluster, rest, reference) -> None:
    run_id = _start_spotify_dag(rest)
    _wait(lambda: _ti(rest, SPOTIFY_DAG, run_id, "silver")["state"] == "running"
          and cluster.spark_master().get("activeapps"), "silver running on the cluster")
    time.sleep(8)                                            # into the job's writes
    assert _ti(rest, SPOTIFY_DAG, run_id, "silver")["state"] == "running", "silver ended before the kill"
    killed = cluster.kill("datanode-2")
    _finish_first_try(rest, run_id)
    # The NameNode declares it dead (~50 s) and copies its blocks to the two left: 2 replicas again.
    figures = _wait(lambda: (f := cluster.fsck())["under"] == 0 and f["missing"] == 0 and f["average"] == 2.0 and f,
                    "every block back at two replicas", timeout_s=900, every=5)
    RECOVERY["datanode_rereplicated_s"] = time.monotonic() - killed
    assert figures["live"] == 2
    RECOVERY["datanode_restart_s"] = cluster.start("datanode-2")
    assert _fingerprints(cluster) == reference["tables"]


def test_a_spark_worker_killed_mid_stage_goes_unnoticed(cluster, rest, reference) -> None:
    run_id = _start_spotify_dag(rest)

    def running_on_both() -> bool:
        apps = cluster.spark_master().get("activeapps") or []
        workers = {w["host"]: w for w in cluster.spark_master()["workers"]}
        return bool(apps) and all(workers.get(h, {}).get("coresused", 0) > 0 for h in ("spark-worker", "spark-worker-2"))

    _wait(lambda: _ti(rest, SPOTIFY_DAG, run_id, "silver")["state"] == "running" and running_on_both(),
          "silver's executors on both workers")
    time.sleep(5)
    killed = cluster.kill("spark-worker-2")
    _finish_first_try(rest, run_id)
    RECOVERY["spark_worker_run_after_kill_s"] = time.monotonic() - killed
    RECOVERY["spark_worker_restart_s"] = cluster.start("spark-worker-2")
    assert _fingerprints(cluster) == reference["tables"]


def test_a_trino_worker_killed_during_a_bi_query_returns_the_right_answer(cluster, reference, tmp_path: Path) -> None:
    from spotify_core.settings import load_settings
    from spotify_pipeline.stack.downloads import maven_artifact
    from spotify_pipeline.stack.jdbc import url_at
    from tests.stack.bi import BiClient

    tracks = reference["tables"]["warehouse.warehouse_track_dashboard"][0]
    # long enough to be killed in: every track against 400,000 numbers, on the workers (the coordinator has
    # no splits); two sequences, as Trino's `sequence` stops at 10,000 entries
    outer, inner = 400, 1_000
    sql = ("SELECT count(*), sum((x * 7 + y) % 11) FROM warehouse.warehouse_track_dashboard "
           f"CROSS JOIN UNNEST(sequence(1, {outer})) AS a(x) CROSS JOIN UNNEST(sequence(1, {inner})) AS b(y)")
    per_track = sum((x * 7 + y) % 11 for x in range(1, outer + 1) for y in range(1, inner + 1))
    expected = [str(tracks * outer * inner), str(tracks * per_track)]
    jar = maven_artifact(load_settings({}).stack_cache_dir, "io.trino:trino-jdbc:476")
    bi = BiClient.build(jar, tmp_path / "bi", url_at("localhost", cluster.port("STACK_TRINO_PORT")))
    started = time.monotonic()
    client = bi.start_query(sql)
    try:
        _wait(lambda: _trino_running(cluster), "the BI query running on the workers", timeout_s=120, every=0.5)
        time.sleep(2)
        assert client.poll() is None, f"query ended before the kill: {client.communicate()}"
        cluster.kill("trino-worker-1")
        answer = BiClient.finish(client, timeout=900)
    finally:
        if client.poll() is None:
            client.kill()
    RECOVERY["trino_query_with_kill_s"] = time.monotonic() - started
    assert [str(v) for v in answer["rows"][0]] == expected
    RECOVERY["trino_worker_restart_s"] = cluster.start("trino-worker-1")


def _trino_running(cluster) -> bool:
    import requests

    queries = requests.get(f"http://localhost:{cluster.port('STACK_TRINO_PORT')}/v1/query",
                           headers={"X-Trino-User": "drill"}, timeout=10).json()
    return any(q["state"] == "RUNNING" and "UNNEST" in q.get("query", "") for q in queries)


def test_an_airflow_worker_killed_during_a_crawl_shard_goes_unnoticed(cluster, rest, reference, sample_api) -> None:
    """Last: it lands everything again. The landing is emptied, then crawled as the reference was."""
    import pymongo

    rest.call("PATCH", f"/dags/{SPOTIFY_DAG}", json={"is_paused": True})   # no ETL after this crawl
    pymongo.MongoClient(f"mongodb://localhost:{cluster.port('STACK_MONGO_PORT')}").drop_database("spotify")
    sample_api.reset_stats()
    run_id = rest.trigger(CRAWL_DAG, {"limit": ARTISTS, "shards": SHARDS, "mode": "continue"}, None)

    def running_shard() -> dict | None:
        shards = [t for t in _tis(rest, CRAWL_DAG, run_id) if t["task_id"] == "crawl_shard"]
        return next((t for t in shards if t["state"] == "running" and t.get("hostname")), None)

    shard = _wait(running_shard, "a crawl shard running on a worker", timeout_s=600, every=0.5)
    _wait(lambda: _calls(sample_api) >= 10, "the shard calling the API", timeout_s=300, every=0.2)
    victim = "airflow-worker-2" if shard["hostname"].startswith("airflow-worker-2") else "airflow-worker"
    killed = cluster.kill(victim)
    crawl = rest.wait_for_run(CRAWL_DAG, run_id, timeout_s=1800)
    RECOVERY["airflow_worker_shard_recovered_s"] = time.monotonic() - killed
    assert crawl["state"] == "success", rest.failed_tasks(CRAWL_DAG, run_id)
    retried = next(t for t in _tis(rest, CRAWL_DAG, run_id)
                   if t["task_id"] == "crawl_shard" and t.get("map_index") == shard.get("map_index"))
    assert retried["try_number"] >= 2                                   # retried ...
    assert retried["hostname"] != shard["hostname"]                     # ... elsewhere
    assert _landing(cluster) == reference["landing"]                    # nothing landed twice, nothing missing
    calls = _calls(sample_api)
    RECOVERY.update(crawl_calls_reference=reference["calls"], crawl_calls_with_kill=calls)
    assert calls <= 1.1 * reference["calls"], (calls, reference["calls"])
    RECOVERY["airflow_worker_restart_s"] = cluster.start(victim)
