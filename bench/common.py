"""Helpers shared by the benchmarks: background samplers (peak RSS of a process tree)."""

from __future__ import annotations

import threading
from typing import Self

import psutil


class Sampler:
    """Call ``sample()`` every ``interval`` seconds on a background thread while the block runs."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class PeakRss(Sampler):
    """Peak summed RSS and CPU seconds of a process and its children (e.g. Spark's JVM) while the block runs.

    CPU seconds are the figure a loaded machine does not stretch, where wall time is.
    """

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(interval)
        self.pid, self.peak = pid, 0
        self._root: psutil.Process | None = None
        self._cpu: dict[int, float] = {}

    @property
    def cpu_s(self) -> float:
        return sum(self._cpu.values())

    def sample(self) -> None:
        try:
            self._root = self._root or psutil.Process(self.pid)
            procs = [self._root, *self._root.children(recursive=True)]
            self.peak = max(self.peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            for p in procs:
                times = p.cpu_times()
                self._cpu[p.pid] = times.user + times.system
        except psutil.Error:  # gone, or a child exited between listing and reading
            pass

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 2**20, 1)
