"""Test harness (never imported by production code): the Compose stack of one test session.

Its own project (``spotify-platform-test``) and host ports (the defaults + ``COMPOSE_TEST_PORT_OFFSET``,
3000), so it runs beside a developer's ``make stack``; its volumes are deleted before and after, so
every session starts from an empty state. The images are the ones ``make stack`` builds (the image
cache is reused). Under ``CI=true`` a machine where Docker cannot be had fails the session; elsewhere
the stack tests are skipped with one line.

Faults are what an operator sees: ``kill`` is ``docker kill`` of the service's container (SIGKILL, as
the OOM killer; Docker counts it as a manual stop, so ``restart: unless-stopped`` leaves it down), and
``restart`` is ``docker compose up -d --wait`` of that service, which returns once its healthcheck passes.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from spotify_core.settings import Settings, load_settings
from spotify_pipeline.stack import compose

REPO = Path(__file__).resolve().parents[2]
PROJECT = "spotify-platform-test"
# 3000: away from a developer's `make stack` (+0) and the benches (+2000)
OFFSET = int(os.environ.get("COMPOSE_TEST_PORT_OFFSET", "3000"))
PORT_VARS = compose.HOST_PORTS
UP_TIMEOUT_S = 3600   # a cold build of every image on a busy 2-core machine
# The container the pipeline's commands run in, as Airflow's tasks do (LAKE_URI hdfs://namenode:8020, ...).
PIPELINE_SERVICE = "airflow-scheduler"


def docker_ready() -> str | None:
    """None when Docker and Compose answer (after the idempotent prerequisites), else why not."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "docker-prereqs.sh")], capture_output=True, text=True,
                          timeout=3600, check=False)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["docker-prereqs failed"])[-1]
    return None


class ComposeStack:
    def __init__(self, extra_env: Mapping[str, str] | None = None, data_dir: Path | None = None) -> None:
        self.env = compose.compose_env({**compose.ports_env(OFFSET),
                                        **(extra_env or {}), "COMPOSE_PROJECT_NAME": PROJECT})
        self.files = compose.compose_files()
        self.cmd = compose.compose_cmd(self.files, PROJECT)
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
        return compose.ps(PROJECT)

    def status(self) -> dict[str, dict]:
        return compose.status(self.containers())

    def container_id(self, service: str) -> str:
        ids = self.compose("ps", "-q", service).stdout.split()
        assert len(ids) == 1, f"{service}: containers {ids}"
        return ids[0]

    def kill(self, service: str) -> None:
        """SIGKILL the service's container (``docker kill``): it stays down until ``restart``."""
        subprocess.run([compose.docker(), "kill", self.container_id(service)], check=True, capture_output=True,
                       timeout=60)

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
        return PORT_VARS[var] + OFFSET

    def url(self, var: str, path: str = "") -> str:
        return f"http://localhost:{self.port(var)}{path}"


def skip_or_fail(reason: str) -> None:
    """Under CI a missing Docker is a failure, never a skip."""
    line = f"Docker is not available here: {reason}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(line)
    pytest.skip(line)
