"""Test harness (never imported by production code): the cluster profile of one test session.

Its own Compose project (``spotify-platform-cluster``) and host ports (defaults + 4000), beside a
developer's ``make stack`` and the single-node test stack (+3000); the files are the stack's plus
``docker-compose.cluster.yml``. Node-level helpers for the drills: kill a node (SIGKILL, what a lost
machine looks like to its peers), start it again, ask HDFS' fsck and the Spark master.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Mapping

import requests

from spotify_pipeline.stack import compose
from tests.stack.compose_harness import ComposeStack

PROJECT = "spotify-platform-cluster"
OFFSET = int(os.environ.get("COMPOSE_CLUSTER_PORT_OFFSET", "4000"))


class ClusterStack(ComposeStack):
    def __init__(self, extra_env: Mapping[str, str] | None = None) -> None:
        self.env = compose.compose_env({**compose.ports_env(OFFSET, cluster=True), **(extra_env or {}),
                                        "COMPOSE_PROJECT_NAME": PROJECT, "STACK_PROFILE": "cluster"})
        self.files = compose.compose_files(profile="cluster")
        self.cmd = compose.compose_cmd(self.files, PROJECT)

    def containers(self) -> list[dict]:
        return compose.ps(PROJECT)

    def port(self, var: str) -> int:
        return {**compose.HOST_PORTS, **compose.CLUSTER_HOST_PORTS}[var] + OFFSET

    def container(self, service: str) -> str:
        return f"{PROJECT}-{service}-1"

    def kill(self, service: str) -> float:
        """SIGKILL the node's container; returns when (monotonic)."""
        subprocess.run(["docker", "kill", self.container(service)], check=True, capture_output=True, timeout=60)
        return time.monotonic()

    def start(self, service: str, timeout_s: float = 600) -> float:
        """Start the same container again (same image, config and volume) and wait for its healthcheck."""
        started = time.monotonic()
        subprocess.run(["docker", "start", self.container(service)], check=True, capture_output=True, timeout=60)
        while self.health(service) != "healthy":
            assert time.monotonic() - started < timeout_s, f"{service} not healthy {timeout_s:.0f} s after start"
            time.sleep(2)
        return time.monotonic() - started

    def health(self, service: str) -> str:
        proc = subprocess.run(["docker", "inspect", "-f", "{{.State.Health.Status}}", self.container(service)],
                              capture_output=True, text=True, timeout=60, check=False)
        return proc.stdout.strip()

    def fsck(self) -> dict[str, float]:
        """HDFS' own account of the lake's blocks (``hdfs fsck /``), the figures the drills assert on."""
        out = self.compose("exec", "-T", "namenode", "bash", "-c",
                           '$JAVA_HOME/bin/java -Xmx256m -cp "$HADOOP_CONF_DIR:/opt/hadoop/jars/*" '
                           "org.apache.hadoop.hdfs.tools.DFSck /", timeout=180, check=False).stdout
        figures = {}
        for key, pattern in {"blocks": r"Total blocks \(validated\):\s+(\d+)",
                             "under": r"Under-replicated blocks:\s+(\d+)",
                             "missing": r"Missing blocks:\s+(\d+)",
                             "average": r"Average block replication:\s+([\d.]+)",
                             "live": r"Number of data-nodes:\s+(\d+)"}.items():
            found = re.search(pattern, out)
            if found:
                figures[key] = float(found.group(1))
        assert "blocks" in figures, out[-2000:]
        return figures

    def spark_master(self) -> dict:
        return requests.get(f"http://localhost:{self.port('STACK_SPARK_UI_PORT')}/json/", timeout=10).json()
