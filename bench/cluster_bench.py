"""`make bench ONLY=cluster`: the cluster profile's start time and memory, the ETL on one Spark worker
and on two, and the drills' recovery times.

Its own project (``spotify-platform-cluster-bench``, host ports +4500):
  * fresh start: `up -d --wait` of the cluster profile from empty volumes (image cache as it is), then
    a warm start (`down`, volumes kept, `up` again); memory: the containers' sum (`docker stats`),
    peak through both starts and a settle period, per service;
  * ETL at ~1M tracks (10,000 synthetic artists; ``--quick``: 1,000) landed and exported to HDFS inside
    an Airflow worker, then silver/gold/warehouse on the Spark cluster four times, same 2 cores in total,
    alternated ABBA: one worker with both cores, two workers with one core each, two again, one again
    (each shape's figure is the mean of its two runs). On a 2-core machine this measures
    the **overhead of distribution** (executors on two JVMs, shuffle between them), not a speed-up;
  * recovery times: those the last drill session wrote (test-artifacts/cluster-recovery.json, from
    tests/stack/test_node_loss.py), when present.
Written to ``bench/results/cluster.json``.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import time
from pathlib import Path

from bench.stack_bench import SETTLE_S, StatsSampler, _timed
from spotify_pipeline.stack import compose

PROJECT = "spotify-platform-cluster-bench"
ONE, TWO = "one_worker_2_cores", "two_workers_1_core_each"
ORDER = (ONE, TWO, TWO, ONE)
OFFSET = 4500
WORKER = f"{PROJECT}-airflow-worker-1"
BENCH_ENV = {"DATA_DIR": "/opt/airflow/data/bench-etl", "LAKE_URI": "hdfs://namenode:8020/bench-etl",
             "HIVE_METASTORE_URI": "", "SPARK_DRIVER_MEMORY": "2g", "PYTHONPATH": "/tmp/bench-code"}


def _exec(*args: str, timeout: float = 7200) -> dict:
    env = [f"--env={k}={v}" for k, v in BENCH_ENV.items()]
    proc = subprocess.run(["docker", "exec", *env, WORKER, "python", "/tmp/bench-code/bench/cluster_etl_job.py", *args],
                          capture_output=True, text=True, timeout=timeout, check=False)
    found = re.search(r"^RESULT (.*)$", proc.stdout, re.M)
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"cluster ETL {args[0]} failed: {proc.stderr.strip()[-1500:]}")
    return json.loads(found.group(1))


def _spark_workers(cmd: list[str], env: dict[str, str], cores: int, services: list[str]) -> None:
    """Recreate the Spark workers with ``cores`` each; only ``services`` left running."""
    run_env = {**env, "SPARK_WORKER_CORES": str(cores)}
    _timed([*cmd, "up", "-d", "--wait", "--no-deps", "--force-recreate", *services], run_env)
    others = [s for s in ("spark-worker", "spark-worker-2") if s not in services]
    if others:
        _timed([*cmd, "stop", *others], run_env)
    time.sleep(10)   # the master registers them


def etl_one_vs_two(cmd: list[str], env: dict[str, str], artists: int) -> dict:
    subprocess.run(["docker", "exec", WORKER, "mkdir", "-p", "/tmp/bench-code"], check=True, capture_output=True)
    # the benchmark and the synthetic catalog it lands: development harness, not in the platform image
    for package in ("bench", "sample_api"):
        subprocess.run(["docker", "cp", str(compose.REPO / package), f"{WORKER}:/tmp/bench-code/{package}"],
                       check=True, capture_output=True)
    landed = _exec("land", str(artists))
    shapes = {ONE: (2, ["spark-worker"]), TWO: (1, ["spark-worker", "spark-worker-2"])}
    runs: dict[str, list[dict]] = {ONE: [], TWO: []}
    for shape in ORDER:          # ABBA: a drift over the session (warm page cache, HDFS) weighs on both
        cores, services = shapes[shape]
        _spark_workers(cmd, env, cores, services)
        runs[shape].append(_exec("run"))
    report = {shape: {**done[0], "etl_total_s": round(statistics.mean(r["etl_total_s"] for r in done), 1),
                      "etl_total_s_runs": [r["etl_total_s"] for r in done]} for shape, done in runs.items()}
    return {"landing": landed, **report, "order": list(ORDER),
            "distribution_overhead_ratio": round(report[TWO]["etl_total_s"] / report[ONE]["etl_total_s"], 2),
            "note": "same 2 cores in total: the ratio is what spreading executors over two JVMs costs here"}


def main(results: Path, quick: bool = False) -> dict:
    subprocess.run(["bash", str(compose.REPO / "scripts" / "docker-prereqs.sh")], check=True)
    files = compose.compose_files(profile="cluster")
    env = compose.compose_env({**compose.ports_env(OFFSET, cluster=True), "COMPOSE_PROJECT_NAME": PROJECT,
                               "STACK_PROFILE": "cluster"})
    cmd = compose.compose_cmd(files, PROJECT)
    report: dict = {"cpus": os.cpu_count(), "load_avg_1m_before": os.getloadavg()[0],
                    "compose_files": [f.name for f in files]}
    try:
        report["build_s"] = round(_timed([*cmd, "build"], env), 1)
        _timed([*cmd, "down", "--volumes", "--remove-orphans"], env)
        with StatsSampler(project=PROJECT) as stats:
            report["fresh_start_s"] = round(_timed([*cmd, "up", "-d", "--wait"], env), 1)
            _timed([*cmd, "down"], env)
            report["warm_start_s"] = round(_timed([*cmd, "up", "-d", "--wait"], env), 1)
            time.sleep(SETTLE_S)
        report["containers"] = len(stats.per_service)
        report["peak_memory_mb"] = round(stats.peak_total / 2**20, 1)
        report["peak_memory_mb_per_service"] = {k: round(v / 2**20, 1) for k, v in sorted(stats.per_service.items())}
        single = results / "stack.json"
        if single.exists():
            s = json.loads(single.read_text())
            report["single_node_from_stack_json"] = {k: s.get(k) for k in ("fresh_start_s", "warm_start_s",
                                                                           "peak_memory_mb")}
        if os.environ.get("BENCH_CLUSTER_ETL", "1") == "1":
            report["etl"] = etl_one_vs_two(cmd, env, 1000 if quick else 10_000)
    finally:
        subprocess.run([*cmd, "down", "--volumes", "--remove-orphans"], env=env, cwd=compose.REPO,
                       capture_output=True, timeout=600, check=False)
    recovery = compose.REPO / "test-artifacts" / "cluster-recovery.json"
    if recovery.exists():
        report["drill_recovery_s"] = json.loads(recovery.read_text())
    (results / "cluster.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def summary(report: dict) -> list[str]:
    lines = [f"cluster profile ({report.get('containers')} containers): fresh start {report.get('fresh_start_s')}s, "
             f"warm start {report.get('warm_start_s')}s, peak memory {report.get('peak_memory_mb')} MB"]
    if "etl" in report:
        etl = report["etl"]
        lines.append(f"  ETL {etl['landing']['tracks']} tracks: one worker (2 cores) {etl['one_worker_2_cores']['etl_total_s']}s, "
                     f"two workers (1 core each) {etl['two_workers_1_core_each']['etl_total_s']}s: "
                     f"distribution overhead x{etl['distribution_overhead_ratio']}")
    if "drill_recovery_s" in report:
        lines.append("  drills: " + ", ".join(f"{k} {v:.0f}" if isinstance(v, float) else f"{k} {v}"
                                              for k, v in report["drill_recovery_s"].items()))
    return lines
