"""Cold and warm `make stack` start times and the running stack's peak memory.

Cold: a fresh state folder (initdb, HDFS format, metastore schema, Airflow migration) with the
download cache already filled (a first-ever run adds the downloads and the FerretDB build, measured
once by hand: see docs/stack.md). Warm: `stack down`, then `stack up` again on the same state.
Memory: the summed RSS of every process in the stack's process groups, sampled while the warm
stack starts and for a while once it is ready. Runs at its own port offset, state in a temp folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

OFFSET = 2000
SETTLE_S = 30.0


class StackRss:
    """Peak summed RSS of the processes in the stack's process groups (read from its pid files)."""

    def __init__(self, run_dir: Path, interval: float = 0.5) -> None:
        self.run_dir, self.interval = run_dir, interval
        self.peak, self.per_service = 0, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _groups(self) -> dict[str, int]:
        out = {}
        for pid_file in self.run_dir.glob("*.pid"):
            try:
                out[pid_file.stem] = int(json.loads(pid_file.read_text())["pid"])
            except (OSError, ValueError, KeyError):
                continue
        return out

    def sample(self) -> None:
        """Each service's leader and all its descendants (PostgreSQL's workers leave the group)."""
        sizes: dict[str, int] = {}
        for name, pid in self._groups().items():
            try:
                root = psutil.Process(pid)
                sizes[name] = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
            except psutil.Error:
                continue
        total = sum(sizes.values())
        if total > self.peak:
            self.peak, self.per_service = total, sizes

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> StackRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _cli(env: dict[str, str], *args: str, timeout: float = 1200) -> tuple[float, str]:
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "spotify_pipeline.cli", "stack", *args, "--local"], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"stack {' '.join(args)} failed: {proc.stderr.strip().splitlines()[-1:]}")
    return time.monotonic() - start, proc.stderr


def _per_service(log: str) -> dict[str, float]:
    return {m.group(1): float(m.group(3)) for m in re.finditer(r"^\s+(\S+): (ready|done) in ([\d.]+) s", log, re.M)}


def main(results: Path, quick: bool = False) -> dict:
    root = Path(tempfile.mkdtemp(prefix="spotify-stack-bench-"))
    root.chmod(0o755)  # postgres runs as its own user when we are root
    env = {**os.environ, "DATA_DIR": str(root / "data"), "STACK_STATE_DIR": str(root / "stack"),
           "STACK_PORT_OFFSET": str(OFFSET)}
    # The load average says how busy the shared machine was: start times scale with it.
    report: dict = {"port_offset": OFFSET, "cpus": os.cpu_count(), "load_avg_1m_before": os.getloadavg()[0]}
    try:
        cold_s, cold_log = _cli(env, "up")
        _cli(env, "down")
        with StackRss(root / "stack" / "run") as rss:
            warm_s, warm_log = _cli(env, "up")
            time.sleep(SETTLE_S)
        report.update({
            "cold_start_s": round(cold_s, 1), "warm_start_s": round(warm_s, 1),
            "cold_per_service_s": _per_service(cold_log), "warm_per_service_s": _per_service(warm_log),
            "peak_rss_mb": round(rss.peak / 2**20, 1),
            "peak_rss_mb_per_service": {k: round(v / 2**20, 1) for k, v in sorted(rss.per_service.items())},
        })
    finally:
        subprocess.run([sys.executable, "-m", "spotify_pipeline.cli", "stack", "down", "--local"], env=env,
                       capture_output=True, timeout=300, check=False)
        shutil.rmtree(root, ignore_errors=True)
    (results / "stack.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def summary(report: dict) -> list[str]:
    return [f"stack: cold start {report['cold_start_s']}s, warm start {report['warm_start_s']}s, "
            f"peak RSS {report['peak_rss_mb']} MB"]
