"""Spark standalone of the local stack: master + one small worker from the venv's pinned pyspark wheel."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from spotify_pipeline.stack.hdfs import JAVA_HOME, java
from spotify_pipeline.stack.probes import http_json
from spotify_pipeline.stack.service import Service, StackContext

WORKER_MEMORY = "1g"   # executors share the machine with every other stack service
WORKER_CORES = "2"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def version() -> str:
    from importlib.metadata import version as dist_version

    return dist_version("pyspark")


def master_url(ctx: StackContext) -> str:
    return f"spark://localhost:{ctx.port('spark_master')}"


def master_ui(ctx: StackContext) -> str:
    return f"http://localhost:{ctx.port('spark_master_ui')}"


def env(ctx: StackContext) -> Mapping[str, str]:
    work = ctx.state / "spark"
    return {"SPARK_HOME": str(spark_home()), "JAVA_HOME": str(JAVA_HOME), "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_DAEMON_MEMORY": "256m", "SPARK_WORKER_DIR": str(work / "work"),
            "SPARK_LOG_DIR": str(ctx.logs), "SPARK_CONF_DIR": str(work / "conf"),
            "PYSPARK_PYTHON": str(ctx.venv_bin / "python"), "SPARK_NO_DAEMONIZE": "1"}


def _class(main: str, *args: str) -> list[str]:
    return [str(spark_home() / "bin" / "spark-class"), main, *args]


def install(ctx: StackContext) -> None:
    java()
    (ctx.state / "spark" / "work").mkdir(parents=True, exist_ok=True)
    (ctx.state / "spark" / "conf").mkdir(parents=True, exist_ok=True)


def _master_state(ctx: StackContext) -> dict | None:
    return http_json(f"{master_ui(ctx)}/json/")


def master_ready(ctx: StackContext) -> bool:
    state = _master_state(ctx)
    return bool(state and state.get("status") == "ALIVE")


def worker_ready(ctx: StackContext) -> bool:
    """The master lists an ALIVE worker (the one on our worker UI port)."""
    state = _master_state(ctx) or {}
    port = ctx.port("spark_worker_ui")
    return any(w.get("state") == "ALIVE" and w.get("webuiaddress", "").endswith(f":{port}")
               for w in state.get("workers", []))


MASTER_SERVICE = Service(
    name="spark-master", version=version(), install=install, env=env,
    command=lambda ctx: _class("org.apache.spark.deploy.master.Master", "--host", "localhost",
                               "--port", str(ctx.port("spark_master")),
                               "--webui-port", str(ctx.port("spark_master_ui"))),
    ready=master_ready, ports=("spark_master", "spark_master_ui"), url=master_ui, start_timeout_s=90,
)
WORKER_SERVICE = Service(
    name="spark-worker", version=version(), install=install, env=env, depends_on=("spark-master",),
    command=lambda ctx: _class("org.apache.spark.deploy.worker.Worker", "--host", "localhost",
                               "--webui-port", str(ctx.port("spark_worker_ui")),
                               "--cores", WORKER_CORES, "--memory", WORKER_MEMORY, master_url(ctx)),
    ready=worker_ready, ports=("spark_worker_ui",), url=lambda ctx: f"http://localhost:{ctx.port('spark_worker_ui')}", start_timeout_s=90,
)
