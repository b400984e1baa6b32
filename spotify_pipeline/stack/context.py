"""The stack's context and the production environment it gives the pipeline (`stack env`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from spotify_pipeline.settings import Settings, child_environment
from spotify_pipeline.stack.service import StackContext

REPO = Path(__file__).resolve().parents[2]
# What the stack replaces with its own endpoints; the light profile drops them (embedded defaults).
STACK_VARS = ("MONGO_URI", "LAKE_URI", "WEBHDFS_URL", "HIVE_METASTORE_URI", "TRINO_HOST", "TRINO_PORT",
              "SPARK_MASTER", "AIRFLOW_CONN_SPARK_DEFAULT")


def endpoints(port: Callable[[str], int], profile: str = "full") -> dict[str, str]:
    """The environment contract of the running stack (names as the compose file's env block)."""
    if profile == "light":
        return {"SPARK_MASTER": "local[*]",
                "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark", "host": "local[*]"})}
    return {
        "MONGO_URI": f"mongodb://localhost:{port('mongo')}",
        "LAKE_URI": f"hdfs://localhost:{port('namenode_rpc')}",
        "WEBHDFS_URL": f"http://localhost:{port('namenode_http')}",
        "HIVE_METASTORE_URI": f"thrift://localhost:{port('hive_metastore')}",
        "TRINO_HOST": "localhost",
        "TRINO_PORT": str(port("trino")),
        "SPARK_MASTER": f"spark://localhost:{port('spark_master')}",
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps(
            {"conn_type": "spark", "host": "spark://localhost", "port": port("spark_master")}),
    }


def build_context(settings: Settings, profile: str = "full") -> StackContext:
    state = settings.stack_state_path.expanduser().resolve()
    offset = settings.stack_port_offset
    base = StackContext(repo=REPO, cache=settings.stack_cache_dir.expanduser().resolve(), state=state,
                        logs=state / "logs", venv_bin=Path(sys.executable).parent, port_offset=offset)
    # This process's environment (PATH, HOME, JAVA_*) and the settings, minus what the stack decides.
    env = {k: v for k, v in child_environment(settings).items() if k not in STACK_VARS}
    if profile == "light":
        env["LAKE_URI"] = f"file://{settings.data_dir.resolve()}/lake"
    env.update(endpoints(base.port, profile))
    env["DATA_DIR"] = str(settings.data_dir.resolve())
    env["STACK_PORT_OFFSET"] = str(offset)
    return StackContext(repo=base.repo, cache=base.cache, state=base.state, logs=base.logs,
                        venv_bin=base.venv_bin, port_offset=offset, env=env)
