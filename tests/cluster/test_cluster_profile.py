"""The cluster profile's definition, as `docker compose config` resolves it (no container started).

Fast checks of what the drills rely on: every node its own service and hostname, no host port twice,
two replicas everywhere a client or the NameNode decides it, the coordinator scheduling no splits with
QUERY retries, Celery on every Airflow component, and the single-node default left as it was.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter

import pytest
from sqlalchemy.engine import make_url

from spotify_core.errors import PipelineError
from spotify_pipeline.stack import compose
from tests.stack.compose_harness import REPO

NODES = {"datanode", "datanode-2", "datanode-3", "spark-worker", "spark-worker-2", "trino", "trino-worker-1",
         "trino-worker-2", "airflow-worker", "airflow-worker-2", "redis"}


def _config(profile: str) -> dict:
    if subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode != 0:
        from tests.stack.compose_harness import skip_or_fail

        skip_or_fail("no Compose v2 plugin (bash scripts/docker-prereqs.sh builds it)")
    files = compose.compose_files(mongo="mongo", profile=profile)
    proc = subprocess.run([*compose.compose_cmd(files, "spotify-platform-config"), "config", "--format", "json"],
                          cwd=REPO, capture_output=True, text=True, env=compose.compose_env(), timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["services"]


@pytest.fixture(scope="module")
def cluster() -> dict:
    return _config("cluster")


def test_the_profile_picks_the_files() -> None:
    assert compose.compose_files(mongo="mongo", profile="cluster")[-1].name == compose.CLUSTER_FILE
    assert compose.CLUSTER_FILE not in {f.name for f in compose.compose_files(mongo="mongo")}
    with pytest.raises(PipelineError, match="STACK_PROFILE"):
        compose.compose_files(mongo="mongo", profile="huge")


def test_every_node_is_its_own_service_with_its_own_hostname(cluster) -> None:
    assert set(cluster) >= NODES
    hostnames = [s["hostname"] for s in cluster.values() if s.get("hostname")]
    assert len(hostnames) == len(set(hostnames))
    for worker in ("spark-worker-2", "airflow-worker", "airflow-worker-2"):
        assert cluster[worker]["environment"]["SPARK_LOCAL_HOSTNAME"] == cluster[worker]["hostname"]


def test_no_host_port_is_published_twice(cluster) -> None:
    ports = Counter(p["published"] for s in cluster.values() for p in s.get("ports") or [])
    assert [p for p, n in ports.items() if n > 1] == []
    # each DataNode publishes its own ports under the same numbers inside (WebHDFS redirects carry them)
    for name in ("datanode", "datanode-2", "datanode-3"):
        env = cluster[name]["environment"]
        http = env["HDFS_CONF_dfs_datanode_http_address"].rsplit(":", 1)[1]
        assert {p["published"] for p in cluster[name]["ports"]} >= {http}
        assert env["HDFS_CONF_dfs_replication"] == "2"


def test_two_replicas_wherever_a_writer_decides(cluster) -> None:
    assert cluster["namenode"]["environment"]["HDFS_CONF_dfs_replication"] == "2"
    core = (REPO / "docker" / "hadoop" / "core-site.cluster.xml").read_text()
    assert "<name>dfs.replication</name><value>2</value>" in core
    for name in ("spark-worker", "spark-worker-2", "airflow-worker", "airflow-worker-2", "hive-metastore", "trino"):
        sources = {v["source"].rsplit("/", 1)[-1] for v in cluster[name]["volumes"] if v["type"] == "bind"}
        assert "core-site.cluster.xml" in sources and "core-site.xml" not in sources, name


def test_trino_coordinator_schedules_no_splits_and_retries_queries(cluster) -> None:
    def mounted(service: str, target: str) -> str:
        source = next(v["source"] for v in cluster[service]["volumes"] if v["target"] == target)
        return open(source).read()

    coordinator = mounted("trino", "/etc/trino/config.properties")
    assert "node-scheduler.include-coordinator=false" in coordinator and "retry-policy=QUERY" in coordinator
    ids = set()
    for worker in ("trino-worker-1", "trino-worker-2"):
        assert "coordinator=false" in mounted(worker, "/etc/trino/config.properties")
        assert "exchange-manager.name=filesystem" in mounted(worker, "/etc/trino/exchange-manager.properties")
        assert not cluster[worker].get("ports")     # reached through the coordinator only
        ids.add(next(line for line in mounted(worker, "/etc/trino/node.properties").splitlines()
                     if line.startswith("node.id=")))
    assert len(ids) == 2


def test_airflow_runs_celery_everywhere_and_the_crawl_shares_one_budget(cluster) -> None:
    airflow = [name for name in cluster if name.startswith("airflow-")]
    assert {"airflow-worker", "airflow-worker-2", "airflow-scheduler", "airflow-apiserver"} <= set(airflow)
    for name in airflow:
        env = cluster[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
        assert env["CRAWL_RATE_STORE_URL"].startswith("redis://redis:")
        assert env["WEBHDFS_DATANODE_FORWARD"].count(",") == 2   # one forward per DataNode
        for url in (env["AIRFLOW__CELERY__RESULT_BACKEND"].removeprefix("db+"), env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]):
            # the driver each URL resolves to is installed (the image installs this venv's lock file):
            # a bare postgresql:// means psycopg 3 to SQLAlchemy 2.1, and both workers crashed on it
            make_url(url).get_dialect().import_dbapi()


def test_the_single_node_default_is_unchanged() -> None:
    single = _config("single")
    assert (NODES - {"datanode", "spark-worker", "trino"}) & set(single) == set()
    assert single["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
