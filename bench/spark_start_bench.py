"""Spark start-up benchmark: the fixed cost every spark-submit pays before and after its data work.

One minimal application (start a session, count three rows, stop) is submitted with each JVM
configuration in turn, interleaved round by round so machine noise falls on all of them alike:
the JVM as it comes, the class archive `make install` builds (what every launch now gets), and the
demo's options (the archive plus a C1-only JIT and serial GC). The medians are the floor each
`Spotify_DAG` task pays, named with its measured cost.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spark_jobs import class_archive as spark_class_archive
from spotify_core.settings import inherited_environment, load_settings
from spotify_pipeline.demo import DEMO_JVM_OPTIONS

JOB = """
import time
t0 = time.monotonic()
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
t1 = time.monotonic()
spark.range(3).count()
t2 = time.monotonic()
spark.stop()
print(f"SPLIT {t1 - t0:.3f} {t2 - t1:.3f} {time.monotonic() - t2:.3f}")
"""


def _configurations() -> dict[str, str]:
    env = inherited_environment()
    archive = spark_class_archive.submit_opts(load_settings(env), {**env, "SPARK_SUBMIT_OPTS": ""})
    if not archive:
        raise RuntimeError("no Spark class archive: run `make install` first")
    return {"jvm defaults": "", "class archive": archive, "demo (archive, C1 JIT, serial GC)":
            f"{DEMO_JVM_OPTIONS} {archive}"}


def _submit(job: Path, opts: str) -> dict:
    env = {**inherited_environment(), "SPARK_SUBMIT_OPTS": opts, "PYSPARK_PYTHON": sys.executable}
    start = time.monotonic()
    proc = subprocess.run([str(Path(sys.executable).parent / "spark-submit"), "--master", "local[*]", str(job)],
                          env=env, capture_output=True, text=True, cwd=job.parent)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"spark-submit failed (exit {proc.returncode}): {proc.stderr[-1500:]}")
    session, first_job, stop = (float(x) for x in next(
        line for line in proc.stdout.splitlines() if line.startswith("SPLIT")).split()[1:])
    return {"wall": wall, "session": session, "first_job": first_job, "stop": stop}


def main(results_dir: Path, quick: bool = False) -> dict:
    configs = _configurations()
    rounds = 1 if quick else 5
    runs: dict[str, list[dict]] = {name: [] for name in configs}
    with tempfile.TemporaryDirectory(prefix="spark-start-") as tmp:
        job = Path(tmp) / "minimal_job.py"
        job.write_text(JOB)
        for _ in range(rounds):
            for name, opts in configs.items():
                runs[name].append(_submit(job, opts))
    medians = {name: {k: round(statistics.median(r[k] for r in rs), 2) for k in rs[0]} for name, rs in runs.items()}
    base = medians["jvm defaults"]["wall"]
    report = {"benchmark": "spark_start", "rounds": rounds, "cpu_count": os.cpu_count(),
              "load_avg_1m_after": os.getloadavg()[0], "median_s": medians,
              "wall_ratio_to_jvm_defaults": {name: round(m["wall"] / base, 2) for name, m in medians.items()},
              "note": "wall = spark-submit to exit (JVM, Python, session, a 3-row job, stop); session/first_job/"
                      "stop are measured inside the Python driver"}
    (results_dir / "spark_start.json").write_text(json.dumps(report, indent=2))
    return report


def summary(report: dict) -> list[str]:
    lines = [f"spark-submit of a minimal job, median of {report['rounds']} interleaved rounds "
             f"(load average after: {report['load_avg_1m_after']:.1f} on {report['cpu_count']} cores)"]
    for name, m in report["median_s"].items():
        lines.append(f"    {name:<36} {m['wall']:>5.1f}s wall (session {m['session']:.1f}, first job "
                     f"{m['first_job']:.1f}, stop {m['stop']:.1f}) x{report['wall_ratio_to_jvm_defaults'][name]}")
    return lines
