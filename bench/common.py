"""Helpers shared by the benchmarks: peak RSS of a process tree, sample API in a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import psutil


class PeakRss:
    """Sample the RSS of a process and its children (e.g. Spark's JVM) until stopped."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 2**20, 1)


@contextmanager
def sample_api_process(artists: int, mode: str, rate_limit: int = 0, rate_window: float = 30.0):
    """`spotify-pipeline sample-api` in its own process (no GIL shared with the crawler)."""
    cmd = [sys.executable, "-m", "spotify_pipeline", "sample-api", "--port", "0", "--artists", str(artists),
           "--mode", mode, "--rate-limit", str(rate_limit), "--rate-window", str(rate_window)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    env: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while len(env) < 5 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = re.match(r"export (\w+)=(.*)", line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    try:
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=10)
