"""Test harness: the teardown every session's Compose stack needs (the test stack, the cluster drills).

Down with its volumes at the end, also on failure or a CI runner's SIGTERM (turned into a
KeyboardInterrupt, so the ``finally`` runs and no stack outlives the session), its last log lines kept
under ``test-artifacts/`` first.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class Stack(Protocol):
    def compose(self, *args: str, timeout: float = 600, check: bool = True): ...

    def down(self, volumes: bool = True) -> None: ...


def _interrupted(signum, frame):  # noqa: ANN001, ANN202 - a signal handler
    raise KeyboardInterrupt


@contextmanager
def torn_down(stack: Stack, log_name: str, log_lines: int = 200) -> Iterator[None]:
    """The block's stack is taken down with its volumes afterwards, whatever ends the block; its logs
    (the last ``log_lines`` of each service) are saved to ``test-artifacts/<log_name>``."""
    previous = signal.signal(signal.SIGTERM, _interrupted)
    try:
        yield
    finally:
        logs = stack.compose("logs", "--no-color", "--tail", str(log_lines), timeout=120, check=False).stdout
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / log_name).write_text(logs)
        stack.down(volumes=True)
        signal.signal(signal.SIGTERM, previous)
