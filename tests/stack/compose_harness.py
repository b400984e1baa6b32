"""Test harness (never imported by production code): the Compose stack of one test session.

The session's stack is the cluster profile (several nodes per engine, docker-compose.cluster.yml): every
stack test runs on it, and the node-loss drills need it. Its own project (``spotify-platform-test``) and
host ports (the defaults + ``COMPOSE_TEST_PORT_OFFSET``, 3000), so it runs beside a developer's
``make stack``; its volumes are deleted before and after, so every session starts from an empty state.
The single-node default gets a start-and-query test of its own (tests/stack/test_single_node.py: project
``spotify-platform-single``, ports + 3500). The images are the ones ``make stack`` builds (the image
cache is reused). Under ``CI=true`` a machine where Docker cannot be had fails the session; elsewhere
the stack tests are skipped with one line.

Faults are what an operator sees: ``kill`` is ``docker kill`` of the service's container (SIGKILL, as
the OOM killer or a lost machine; Docker counts it as a manual stop, so ``restart: unless-stopped`` leaves
it down). ``restart`` is ``docker compose up -d --wait`` of that service, which returns once its
healthcheck passes; ``start`` starts the same container again (same volume), as a node coming back.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import requests

from spotify_core.settings import Settings, load_settings
from spotify_pipeline.stack import compose

REPO = Path(__file__).resolve().parents[2]
PROJECT = "spotify-platform-test"
# 3000: away from a developer's `make stack` (+0) and the benches (+2000)
OFFSET = int(os.environ.get("COMPOSE_TEST_PORT_OFFSET", "3000"))
UP_TIMEOUT_S = 3600   # a cold build of every image on a busy 2-core machine
# The container the pipeline's commands run in, as Airflow's tasks do (LAKE_URI hdfs://namenode:8020, ...).
PIPELINE_SERVICE = "airflow-scheduler"


def service_names(*files: str) -> set[str]:
    """The services the compose files declare (read as YAML nodes: Compose's own tags, ``!override``, stay
    unparsed)."""
    import yaml

    names: set[str] = set()
    for file in files:
        root = yaml.compose((REPO / file).read_text())
        services = next(value for key, value in root.value if key.value == "services")
        names |= {key.value for key, _ in services.value}
    return names


def docker_ready() -> str | None:
    """None when Docker and Compose answer (after the idempotent prerequisites), else why not."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "docker-prereqs.sh")], capture_output=True, text=True,
                          timeout=3600, check=False)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["docker-prereqs failed"])[-1]
    return None


class ComposeStack:
    def __init__(self, extra_env: Mapping[str, str] | None = None, data_dir: Path | None = None,
                 profile: str = "cluster", project: str = PROJECT, offset: int = OFFSET) -> None:
        cluster = profile == "cluster"
        self.project, self.offset = project, offset
        self.ports = {**compose.HOST_PORTS, **(compose.CLUSTER_HOST_PORTS if cluster else {})}
        self.env = compose.compose_env({**compose.ports_env(offset, cluster=cluster), **(extra_env or {}),
                                        "COMPOSE_PROJECT_NAME": project, "STACK_PROFILE": profile})
        self.files = compose.compose_files(profile=profile)
        self.cmd = compose.compose_cmd(self.files, project)
        self.data_dir = data_dir or Path("/nonexistent")
        self._pipeline_env: dict[str, str] | None = None

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([*self.cmd, *args], env=self.env, cwd=REPO, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker compose {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    def up(self, build: bool = True) -> ComposeStack:
        """Every service up and healthy (``make stack``); ``build=False`` when the images are known current."""
        self.compose("up", "-d", *(["--build"] if build else []), "--wait", timeout=UP_TIMEOUT_S)
        return self

    def down(self, volumes: bool = True) -> None:
        self.compose("down", "--remove-orphans", *(["--volumes"] if volumes else []), timeout=300, check=False)

    def containers(self) -> list[dict]:
        return compose.ps(self.project)

    def status(self) -> dict[str, dict]:
        return compose.status(self.containers())

    def container_id(self, service: str) -> str:
        ids = self.compose("ps", "-a", "-q", service).stdout.split()   # -a: a killed one too
        assert len(ids) == 1, f"{service}: containers {ids}"
        return ids[0]

    def kill(self, service: str) -> float:
        """SIGKILL the service's container (``docker kill``): it stays down until ``restart`` or ``start``.
        Returns when (monotonic)."""
        subprocess.run([compose.docker(), "kill", self.container_id(service)], check=True, capture_output=True,
                       timeout=60)
        return time.monotonic()

    def start(self, service: str, timeout_s: float = 600) -> float:
        """Start the same container again (same image, configuration and volume), as a node that comes
        back, and wait for its healthcheck; returns how long that took."""
        started = time.monotonic()
        container = self.container_id(service)
        subprocess.run([compose.docker(), "start", container], check=True, capture_output=True, timeout=60)
        while self.health(container) != "healthy":
            assert time.monotonic() - started < timeout_s, f"{service} not healthy {timeout_s:.0f} s after start"
            time.sleep(2)
        return time.monotonic() - started

    @staticmethod
    def health(container: str) -> str:
        proc = subprocess.run([compose.docker(), "inspect", "-f", "{{.State.Health.Status}}", container],
                              capture_output=True, text=True, timeout=60, check=False)
        return proc.stdout.strip()

    def restart(self, service: str) -> None:
        """``docker compose up -d --wait SERVICE``: back once its healthcheck passes (its dependencies run)."""
        self.compose("up", "-d", "--no-deps", "--wait", service, timeout=900)

    def pipeline(self, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
        """``spotify-pipeline ARGS`` inside the stack, where Airflow's tasks run it (the lake as hdfs://namenode)."""
        return self.compose("exec", "-T", PIPELINE_SERVICE, "spotify-pipeline", *args, timeout=timeout, check=False)

    def pipeline_popen(self, *args: str) -> subprocess.Popen:
        """The same, left running (fault drills read its stderr while it works)."""
        return subprocess.Popen([*self.cmd, "exec", "-T", PIPELINE_SERVICE, "spotify-pipeline", *args], env=self.env,
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    @property
    def pipeline_env(self) -> dict[str, str]:
        """What ``eval "$(spotify-pipeline stack env)"`` gives a script on the host for this stack."""
        if self._pipeline_env is None:   # the published ports are fixed: read once
            self._pipeline_env = compose.pipeline_env(self.containers())
        return self._pipeline_env

    def pipeline_settings(self, names: Sequence[str] = (), **changes: object) -> Settings:
        """Settings of a script on the host pointed at this stack (only the given env keys, or all)."""
        env = {k: v for k, v in self.pipeline_env.items() if not names or k in names}
        settings = load_settings({"DATA_DIR": str(self.data_dir), **env})
        return settings.replace(**changes) if changes else settings

    def port(self, var: str) -> int:
        """The host port of ``STACK_<X>_PORT`` for this stack."""
        return self.ports[var] + self.offset

    def url(self, var: str, path: str = "") -> str:
        return f"http://localhost:{self.port(var)}{path}"

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
        """The Spark master's status (its UI's JSON): workers, their cores in use, the running apps."""
        return requests.get(self.url("STACK_SPARK_UI_PORT", "/json/"), timeout=10).json()


def skip_or_fail(reason: str) -> None:
    """Under CI a missing Docker is a failure, never a skip."""
    line = f"Docker is not available here: {reason}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(line)
    pytest.skip(line)
