"""The sample API in its own process, for benchmarks and tests that must not share a GIL with it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


@contextmanager
def sample_api_process(artists: int, mode: str, rate_limit: int = 0, rate_window: float = 30.0,
                       extra_args: Sequence[str] = ()) -> Iterator[dict[str, str]]:
    """`spotify-pipeline sample-api` in its own process (no GIL shared with the crawler).

    Yields the variables it prints (``SPOTIFY_API_BASE_URL``, ``RECCOBEATS_API_BASE_URL``, ...);
    ``extra_args`` are more flags (``--quota-after``, ``--float-integers``, ...).
    """
    cmd = [sys.executable, "-m", "spotify_pipeline", "sample-api", "--port", "0", "--artists", str(artists),
           "--mode", mode, "--rate-limit", str(rate_limit), "--rate-window", str(rate_window), *extra_args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    env: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while "SPOTIFY_CLIENT_SECRET" not in env and time.monotonic() < deadline:  # printed last
        line = proc.stdout.readline()
        m = re.match(r"export (\w+)=(.*)", line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    try:
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=10)
