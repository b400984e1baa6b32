"""Test harness (never imported by production code): one real stack per test session.

``stack`` (session fixture in ``tests/conftest.py``) starts services on demand at STACK_PORT_OFFSET=1000
with state in a temporary folder, and stops every process it started at the end of the session, also
when tests fail or the run is interrupted. Tests ask for what they need (``stack.up("mongo")``); the
dependencies come along. URLs and the pipeline env come from the same status document as
``spotify-pipeline stack status --json``, so browser tests (issue 11) can read them from here.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Sequence
from pathlib import Path

from spotify_pipeline.settings import Settings, load_settings
from spotify_pipeline.stack.cli import stack_env, status_document
from spotify_pipeline.stack.context import build_context
from spotify_pipeline.stack.services import for_profile
from spotify_pipeline.stack.supervisor import Supervisor

# 1000 as the issue says; STACK_TEST_PORT_OFFSET moves it when two test sessions share one machine.
TEST_PORT_OFFSET = int(os.environ.get("STACK_TEST_PORT_OFFSET", "1000"))


class StackHandle:
    def __init__(self, root: Path, profile: str = "full") -> None:
        self.settings = load_settings({"DATA_DIR": str(root / "data"), "STACK_STATE_DIR": str(root / "stack"),
                                       "STACK_PORT_OFFSET": str(TEST_PORT_OFFSET)})
        self.ctx = build_context(self.settings, profile)
        self.supervisor = Supervisor(self.ctx, for_profile(profile), say=lambda line: None)
        self.started: set[str] = set()
        atexit.register(self.down)  # belt and braces: a killed pytest still runs atexit

    def up(self, *names: str) -> StackHandle:
        """Start ``names`` and their dependencies (once per session); returns self."""
        missing = [n for n in names if n not in self.started]
        if missing:
            self.supervisor.up(missing)
            self.started |= self.supervisor.closure(missing)
        return self

    def down(self) -> list[str]:
        if not self.started:
            return []
        self.started.clear()
        return self.supervisor.down()

    @property
    def env(self) -> dict[str, str]:
        """The pipeline's production env for this stack (MONGO_URI, LAKE_URI, WEBHDFS_URL, ...)."""
        return stack_env(self.ctx)

    def status(self) -> dict:
        return status_document(self.supervisor)

    def pipeline_settings(self, names: Sequence[str] = (), **changes: object) -> Settings:
        """Settings as the pipeline sees them inside the stack (only the given env keys, or all)."""
        env = {k: v for k, v in self.env.items() if not names or k in names}
        settings = load_settings({"DATA_DIR": str(self.settings.data_dir), **env})
        return settings.replace(**changes) if changes else settings


def processes_with_env(var: str, value: str) -> list[int]:
    """Pids of live processes whose environment has ``var=value`` (what a leaked Airflow child keeps)."""
    needle = f"{var}={value}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(proc.name))
        except OSError:
            continue
    return found
