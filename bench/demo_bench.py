"""Demo benchmark: `spotify-pipeline demo` from an empty data folder, with its per-step timings.

Runs the demo as a user would after installation (a child process, fresh DATA_DIR), then reads
the timing table the demo writes to ``$DATA_DIR/demo/reports/demo_timings.json``.
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


def main(results_dir: Path, quick: bool = False) -> dict:
    artists = 10 if quick else 40
    with tempfile.TemporaryDirectory(prefix="demo-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET",
                                                                 "MONGO_URI", "TRINO_HOST", "HIVE_METASTORE_URI",
                                                                 "LAKE_URI", "WEBHDFS_URL")}
        env["DATA_DIR"] = str(Path(tmp) / "data")
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "spotify_pipeline", "demo", "--artists", str(artists)],
                              env=env, capture_output=True, text=True, cwd=tmp)
        wall = time.monotonic() - start
        if proc.returncode != 0:
            raise RuntimeError(f"demo failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
        timings = json.loads((Path(tmp) / "data" / "demo" / "reports" / "demo_timings.json").read_text())
    report = {"benchmark": "demo", "artists": artists, "wall_s": round(wall, 1), "target_s": TARGET_S,
              "met": wall <= TARGET_S, "cpu_count": os.cpu_count(), "load_avg_1m_after": os.getloadavg()[0],
              "timings": timings}
    (results_dir / "demo.json").write_text(json.dumps(report, indent=2))
    return report


def summary(report: dict) -> list[str]:
    lines = [f"demo ({report['artists']} artists): {report['wall_s']}s wall (target {report['target_s']:.0f}s); "
             f"load average after: {report['load_avg_1m_after']:.1f} on {report['cpu_count']} cores"]
    lines += [f"    {step:<56} {seconds:>6.1f}s" for step, seconds in report["timings"]["steps"].items()]
    lines += [f"      {task:<54} {seconds:>6.1f}s" for task, seconds in report["timings"]["tasks"].items()]
    return lines
