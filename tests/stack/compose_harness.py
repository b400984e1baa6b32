"""Test harness (never imported by production code): the Compose stack of one test session.

Its own project (``spotify-platform-test``) and host ports (the defaults + ``COMPOSE_TEST_PORT_OFFSET``,
3000), so it runs beside a developer's ``make stack``; its volumes are deleted before and after, so
every session starts from an empty state. The images are the ones ``make stack`` builds (the image
cache is reused). Under ``CI=true`` a machine where Docker cannot be had fails the session; elsewhere
the stack tests are skipped with one line.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from spotify_pipeline.stack import compose

REPO = Path(__file__).resolve().parents[2]
PROJECT = "spotify-platform-test"
# 3000: away from the local-process session stack (+1000), its second stacks (+1500..1800) and the benches (+2000)
OFFSET = int(os.environ.get("COMPOSE_TEST_PORT_OFFSET", "3000"))
PORT_VARS = compose.HOST_PORTS
UP_TIMEOUT_S = 3600   # a cold build of every image on a busy 2-core machine


def docker_ready() -> str | None:
    """None when Docker and Compose answer (after the idempotent prerequisites), else why not."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "docker-prereqs.sh")], capture_output=True, text=True,
                          timeout=3600, check=False)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["docker-prereqs failed"])[-1]
    return None


class ComposeStack:
    def __init__(self, extra_env: Mapping[str, str] | None = None) -> None:
        self.env = compose.compose_env({**compose.ports_env(OFFSET),
                                        **(extra_env or {}), "COMPOSE_PROJECT_NAME": PROJECT})
        self.files = compose.compose_files()
        self.cmd = compose.compose_cmd(self.files, PROJECT)

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([*self.cmd, *args], env=self.env, cwd=REPO, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker compose {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    def up(self) -> ComposeStack:
        self.compose("up", "-d", "--build", "--wait", timeout=UP_TIMEOUT_S)
        return self

    def down(self, volumes: bool = True) -> None:
        self.compose("down", "--remove-orphans", *(["--volumes"] if volumes else []), timeout=300, check=False)

    def containers(self) -> list[dict]:
        return compose.ps(PROJECT)

    def status(self) -> dict[str, dict]:
        return compose.status(self.containers())

    @property
    def pipeline_env(self) -> dict[str, str]:
        """What ``eval "$(spotify-pipeline stack env)"`` gives a script on the host for this stack."""
        return compose.pipeline_env(self.containers())

    def port(self, var: str) -> int:
        return PORT_VARS[var] + OFFSET


def skip_or_fail(reason: str) -> None:
    """Under CI a missing Docker is a failure, never a skip."""
    line = f"Docker is not available here: {reason}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(line)
    pytest.skip(line)
