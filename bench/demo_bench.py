"""Demo benchmark: `spotify-pipeline demo` from an empty data folder, with its per-step timings.

Runs the demo as a user would after installation (a child process, fresh DATA_DIR), then reads
the timing table the demo writes to ``$DATA_DIR/demo/reports/demo_timings.json``. Given a
``baseline_ref`` (a git commit), the demo of that commit runs first in the same run (its files from
``git archive``, the same venv), so a before/after pair is measured under the same load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 75.0


ROOT = Path(__file__).resolve().parent.parent


def run_demo(artists: int, code: Path | None = None) -> dict:
    """One demo from an empty DATA_DIR: wall time, timing table, load averages before and after.
    ``code``: a project tree to run instead of this one (its packages first on the path)."""
    with tempfile.TemporaryDirectory(prefix="demo-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET",
                                                                 "MONGO_URI", "TRINO_HOST", "HIVE_METASTORE_URI",
                                                                 "LAKE_URI", "WEBHDFS_URL", "SPARK_TASKS")}
        env["DATA_DIR"] = str(Path(tmp) / "data")
        if code is not None:
            env["PYTHONPATH"] = str(code)
        load_before = os.getloadavg()[0]
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "spotify_pipeline", "demo", "--artists", str(artists)],
                              env=env, capture_output=True, text=True, cwd=code or tmp)
        wall = time.monotonic() - start
        if proc.returncode != 0:
            raise RuntimeError(f"demo failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
        timings = json.loads((Path(tmp) / "data" / "demo" / "reports" / "demo_timings.json").read_text())
    return {"wall_s": round(wall, 1), "load_avg_1m_before": load_before, "load_avg_1m_after": os.getloadavg()[0],
            "timings": timings}


def _tree_of(ref: str, into: Path) -> Path:
    """The project's files at ``ref`` (``git archive``: the repository itself is not touched)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main(results_dir: Path, quick: bool = False, baseline_ref: str | None = None) -> dict:
    artists = 10 if quick else 40
    report: dict = {"benchmark": "demo", "artists": artists, "target_s": TARGET_S, "cpu_count": os.cpu_count()}
    if baseline_ref:
        with tempfile.TemporaryDirectory(prefix="demo-bench-baseline-") as tree:
            before = run_demo(artists, _tree_of(baseline_ref, Path(tree)))
        report["baseline"] = {"ref": baseline_ref, **before}
    report.update(run_demo(artists))
    report["met"] = report["wall_s"] <= TARGET_S
    (results_dir / "demo.json").write_text(json.dumps(report, indent=2))
    return report


def _table(run: dict) -> list[str]:
    lines = [f"    {step:<56} {seconds:>6.1f}s" for step, seconds in run["timings"]["steps"].items()]
    return lines + [f"      {task:<54} {seconds:>6.1f}s" for task, seconds in run["timings"]["tasks"].items()]


def summary(report: dict) -> list[str]:
    lines = []
    if "baseline" in report:
        base = report["baseline"]
        lines += [f"demo at {base['ref']} (before, same run): {base['wall_s']}s wall; load average "
                  f"{base['load_avg_1m_before']:.1f} -> {base['load_avg_1m_after']:.1f}", *_table(base)]
    lines += [f"demo ({report['artists']} artists): {report['wall_s']}s wall (target {report['target_s']:.0f}s); "
              f"load average {report.get('load_avg_1m_before', 0):.1f} -> {report['load_avg_1m_after']:.1f} "
              f"on {report['cpu_count']} cores", *_table(report)]
    return lines


if __name__ == "__main__":
    # python -m bench.demo_bench [BASELINE_REF]: this tree's demo, after the baseline's in the same run
    from bench.run import RESULTS

    print("\n".join(summary(main(RESULTS, baseline_ref=sys.argv[1] if len(sys.argv) > 1 else None))))
