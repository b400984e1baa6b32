"""The single-node default (``make stack``), started and queried on its own.

Every other stack test runs on the session's cluster profile; the default a user starts first gets this
test: ``docker compose up -d --wait`` of docker-compose.yml alone from empty volumes (its own project
``spotify-platform-single``, host ports + 3500), every service healthy and one of each engine, Trino
answering through the Hive metastore, a file written to and read back from HDFS, then down with its
volumes. It runs before the session's cluster stack starts (tests/conftest.py orders it), so the two
never share the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from tests.stack.compose_harness import REPO, ComposeStack, docker_ready, service_names, skip_or_fail

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

PROJECT, OFFSET = "spotify-platform-single", 3500
SERVICES = service_names("docker-compose.yml")


@pytest.fixture(scope="module")
def single() -> Iterator[ComposeStack]:
    from tests.helpers.compose_teardown import torn_down

    reason = docker_ready()
    if reason:
        skip_or_fail(reason)
    stack = ComposeStack({"CRAWL_SCHEDULE": "none"}, profile="single", project=PROJECT, offset=OFFSET)
    with torn_down(stack, "single-node-stack.log"):
        stack.down(volumes=True)
        started = time.monotonic()
        stack.up()
        print(f"single-node stack up in {time.monotonic() - started:.0f} s")
        yield stack


def test_the_single_node_default_starts_with_one_node_per_engine(single) -> None:
    proc = subprocess.run([sys.executable, "-m", "spotify_pipeline.cli", "stack", "status", "--json"], env=single.env,
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    services = json.loads(proc.stdout)["services"]
    assert set(services) == SERVICES                                   # no cluster node, nothing missing
    assert {n: s["state"] for n, s in services.items() if not s["healthy"]} == {}
    figures = single.fsck()
    assert figures["live"] == 1
    master = single.spark_master()
    assert [w["host"] for w in master["workers"] if w["state"] == "ALIVE"] == ["spark-worker"]
    executor = single.compose("exec", "-T", "airflow-scheduler", "airflow", "config", "get-value", "core", "executor",
                              timeout=120).stdout.strip()
    assert executor == "LocalExecutor"


def test_trino_answers_through_the_metastore_over_hdfs(single, tmp_path) -> None:
    """A table created through Trino lands its file in HDFS, is read back, and has the one replica the
    single DataNode can hold (a client asking for HDFS' default of 3 would leave it under-replicated)."""
    import trino

    with trino.dbapi.connect(host="localhost", port=single.port("STACK_TRINO_PORT"), user="test",
                             catalog="hive") as con:
        cur = con.cursor()
        cur.execute("SELECT node_id, coordinator FROM system.runtime.nodes WHERE state = 'active'")
        assert cur.fetchall() == [["trino-coordinator-1", True]]       # one node: it schedules the splits
        cur.execute("CREATE SCHEMA IF NOT EXISTS hive.probe WITH (location = 'hdfs://namenode:8020/probe')")
        cur.execute("CREATE TABLE hive.probe.numbers WITH (format = 'PARQUET') AS "
                    "SELECT x, x * x AS square FROM UNNEST(sequence(1, 1000)) AS t(x)")
        cur.fetchall()
        cur.execute("SELECT count(*), sum(square) FROM hive.probe.numbers")
        assert cur.fetchall() == [[1000, sum(x * x for x in range(1, 1001))]]
    listing = requests.get(single.url("STACK_NAMENODE_HTTP_PORT", "/webhdfs/v1/probe/numbers?op=LISTSTATUS"),
                           timeout=30).json()["FileStatuses"]["FileStatus"]
    assert listing and all(f["replication"] == 1 for f in listing if f["type"] == "FILE")
    assert single.fsck()["under"] == 0
