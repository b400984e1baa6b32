"""The real local stack: Spark on the standalone cluster over hdfs://, status/env for scripts, clean stop."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import psutil
import pytest

from lake.fs import WebHdfsFS
from spotify_pipeline.settings import load_settings
from spotify_pipeline.stack.context import build_context
from spotify_pipeline.stack.probes import http_json, tcp_open
from spotify_pipeline.stack.services import for_profile
from spotify_pipeline.stack.supervisor import PidFile, Supervisor
from tests.stack.harness import TEST_PORT_OFFSET, StackHandle

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "spotify_pipeline.cli"]

SPARK_JOB = textwrap.dedent("""
    import json, sys
    from pyspark.sql import SparkSession
    master, path = sys.argv[1], sys.argv[2]
    spark = (SparkSession.builder.master(master).appName("stack-hdfs-check")
             .config("spark.executor.memory", "512m").config("spark.driver.memory", "512m")
             .config("spark.driver.host", "localhost").config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.ui.enabled", "false").getOrCreate())
    spark.range(0, 5000, numPartitions=4).selectExpr("id", "id % 7 AS k").write.mode("overwrite").parquet(path)
    back = spark.read.parquet(path)
    executors = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1  # minus the driver
    print(json.dumps({"rows": back.count(), "sum_k": back.groupBy().sum("k").first()[0],
                      "app_id": spark.sparkContext.applicationId, "executors": executors}))
    spark.stop()
""")


def stack_cli_env(stack: StackHandle) -> dict[str, str]:
    return {**os.environ, "DATA_DIR": str(stack.settings.data_dir),
            "STACK_STATE_DIR": str(stack.ctx.state), "STACK_PORT_OFFSET": str(TEST_PORT_OFFSET)}


@pytest.mark.spark
def test_spark_writes_and_reads_hdfs_through_the_standalone_cluster(stack) -> None:
    stack.up("spark-worker", "hdfs-init")
    path = f"{stack.env['LAKE_URI']}/tests/spark_check"
    proc = subprocess.run([sys.executable, "-c", SPARK_JOB, stack.env["SPARK_MASTER"], path], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["rows"] == 5000 and result["sum_k"] == sum(i % 7 for i in range(5000))
    assert result["executors"] >= 1 and not result["app_id"].startswith("local-")
    # The files are in HDFS (seen over WebHDFS), and the master ran the application.
    parts = [n for n in WebHdfsFS(stack.env["WEBHDFS_URL"], "/tests/spark_check").listdir("") if n.endswith(".parquet")]
    assert parts
    apps = http_json(f"http://localhost:{stack.ctx.port('spark_master_ui')}/json/")["completedapps"]
    assert any(a["id"] == result["app_id"] and a["name"] == "stack-hdfs-check" for a in apps)


def test_status_json_and_env_let_scripts_find_the_services(stack) -> None:
    stack.up("mongo", "hdfs-init")
    env = stack_cli_env(stack)
    proc = subprocess.run([*CLI, "stack", "status", "--local", "--json"], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=True)
    services = json.loads(proc.stdout)["services"]
    for name in ("mongo", "namenode", "datanode", "hdfs-init"):
        assert services[name]["healthy"] is True, name
        assert services[name]["version"] and services[name]["url"]
    assert services["namenode"]["url"] == f"http://localhost:{9870 + TEST_PORT_OFFSET}/explorer.html"
    assert services["trino"]["healthy"] is False or "trino" in stack.started
    out = subprocess.run([*CLI, "stack", "env", "--local"], env=env, cwd=REPO, capture_output=True, text=True, timeout=60,
                         check=True).stdout
    exported = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
    assert exported["LAKE_URI"] == f"hdfs://localhost:{8020 + TEST_PORT_OFFSET}"
    assert exported["MONGO_URI"] == f"mongodb://localhost:{27017 + TEST_PORT_OFFSET}"
    assert {"WEBHDFS_URL", "HIVE_METASTORE_URI", "TRINO_HOST", "TRINO_PORT", "SPARK_MASTER",
            "AIRFLOW_CONN_SPARK_DEFAULT"} <= exported.keys()


def _free_offset() -> int:
    """An offset whose postgres/mongo/spark ports are all free (away from the session stack's)."""
    for offset in (1500, 1600, 1700, 1800):
        if not any(tcp_open(p + offset) for p in (5433, 27017, 7077, 8082, 8084)):
            return offset
    pytest.fail("no free port offset for a second stack")


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    offset = _free_offset()
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "STACK_STATE_DIR": str(tmp_path / "stack"),
           "STACK_PORT_OFFSET": str(offset)}
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", 5433 + offset))
        squatter.listen()
        try:
            proc = subprocess.run([*CLI, "stack", "up", "--local"], env=env, cwd=REPO, capture_output=True, text=True,
                                  timeout=300, check=False)
        finally:
            subprocess.run([*CLI, "stack", "down", "--local"], env=env, cwd=REPO, capture_output=True, timeout=120, check=False)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert f"postgres: port {5433 + offset} is already in use" in last and "Traceback" not in proc.stderr


def _family(pids: list[int]) -> list[psutil.Process]:
    """The services and everything they forked (PostgreSQL's workers leave the group with setsid)."""
    out = []
    for pid in pids:
        root = psutil.Process(pid)
        out += [root, *root.children(recursive=True)]
    return out


def test_stack_down_leaves_no_process_behind() -> None:
    """Postgres (forks workers), FerretDB, Spark (spark-class execs java): all gone after down."""
    root = Path(tempfile.mkdtemp(prefix="spotify-stack-down-"))
    root.chmod(0o755)  # postgres runs as its own user and must reach its folder
    offset = _free_offset()
    settings = load_settings({"DATA_DIR": str(root / "data"), "STACK_STATE_DIR": str(root / "stack"),
                              "STACK_PORT_OFFSET": str(offset)})
    sup = Supervisor(build_context(settings), for_profile("full"), say=lambda line: None)
    try:
        sup.up(["postgres", "mongo", "spark-master"])
        leaders = [PidFile.read(p).pid for p in sup.run_dir.glob("*.pid")]
        procs = _family(leaders)
        assert len(leaders) == 3 and len(procs) > 3  # postgres forked its workers
        assert sorted(sup.down()) == ["mongo", "postgres", "spark-master"]
        alive = [p for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert alive == []
        assert not any(tcp_open(port + offset) for port in (5433, 27017, 7077, 8082))
    finally:
        sup.down()
        shutil.rmtree(root, ignore_errors=True)
