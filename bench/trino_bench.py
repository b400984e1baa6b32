"""Trino vs DuckDB: one dashboard query over `warehouse_track_dashboard` at ~300k tracks, same files, same run.

The warehouse is built once with the project's Spark jobs on a local lake (landing data generated from the
synthetic catalog, as in the ETL bench). Its Parquet files are copied byte for byte into the HDFS of a
Compose stack of its own (project ``spotify-platform-bench``, host ports +2000, only Trino and what it
depends on) over WebHDFS and registered in that stack's metastore with the generated Trino DDL; DuckDB
reads the local copy. Each engine runs the query once to warm up, then ``RUNS`` times; the median is reported, and
the two answers must be equal.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import duckdb

import trino
from bench.etl_bench import land_catalog_in_child
from spotify_core.settings import load_settings

RUNS = 5
BENCH_PORT_OFFSET = 2000   # beside a developer's stack (+0) and the test session's (+3000)
BENCH_PROJECT = "spotify-platform-bench"
LAKE_IN_STACK = "hdfs://namenode:8020"   # the lake as Trino inside the stack reaches it
TABLE = "warehouse_track_dashboard"
QUERY = """
SELECT primary_genre, decade, count(*) AS tracks, count(DISTINCT artist_id) AS artists,
       round(avg(danceability), 6) AS danceability, round(avg(energy), 6) AS energy,
       round(avg(duration_min), 6) AS duration_min
FROM {table}
WHERE has_features
GROUP BY primary_genre, decade
ORDER BY tracks DESC, primary_genre, decade
LIMIT 50
"""


def build_warehouse(workdir: Path, n_artists: int) -> tuple[Path, int]:
    """Landing -> bronze -> silver/gold/warehouse on a local lake; returns the table's folder and its rows."""
    from crawler.landing.sqlite import SQLiteLandingStore
    from lake.export import export_landing
    from lake.fs import LocalFS, open_lake
    from lake.tables import current_path
    from spark_jobs.runner import run_layers

    settings = load_settings({"DATA_DIR": str(workdir)})
    land_catalog_in_child(settings.landing_sqlite_path, n_artists)
    with SQLiteLandingStore(settings.landing_sqlite_path) as store:
        export_landing(store, open_lake(settings))
    counts = run_layers(settings, ["all"])
    lake = workdir / "lake"
    return lake / current_path(LocalFS(lake), f"warehouse_layer/{TABLE}"), counts[TABLE]  # its current version


def timed(run) -> tuple[float, list]:
    rows = run()  # warm-up (plans, metadata and file caches)
    times = []
    for _ in range(RUNS):
        t0 = time.monotonic()
        again = run()
        times.append(time.monotonic() - t0)
        assert again == rows
    return statistics.median(times), rows


def trino_memory_mb(compose_cmd: list[str], env: dict[str, str]) -> float:
    """The Trino container's memory now (``docker stats``), in MB."""
    from bench.stack_bench import _bytes
    from spotify_pipeline.stack import compose

    cid = subprocess.run([*compose_cmd, "ps", "-q", "trino"], env=env, cwd=compose.REPO, capture_output=True,
                         text=True, check=True).stdout.strip()
    usage = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", cid], capture_output=True,
                           text=True, check=True).stdout
    return round(_bytes(usage.split("/")[0]) / 2**20, 1)


def run_size(n_artists: int, workdir: Path) -> dict:
    from lake.fs import WebHdfsFS
    from spark_jobs.ddl import trino_layer_ddl
    from spotify_pipeline.stack import compose

    t0 = time.monotonic()
    folder, rows = build_warehouse(workdir / "local", n_artists)
    result: dict = {"artists": n_artists, "tracks": rows, "build_warehouse_s": round(time.monotonic() - t0, 1)}
    parts = sorted(folder.glob("**/*.parquet"))
    result["parquet_files"], result["parquet_mb"] = len(parts), round(sum(p.stat().st_size for p in parts) / 2**20, 1)

    subprocess.run(["bash", str(compose.REPO / "scripts" / "docker-prereqs.sh")], check=True)
    env = compose.compose_env({**compose.ports_env(BENCH_PORT_OFFSET), "COMPOSE_PROJECT_NAME": BENCH_PROJECT})
    cmd = compose.compose_cmd(compose.compose_files(), BENCH_PROJECT)

    def run(*args: str) -> None:
        subprocess.run([*cmd, *args], env=env, cwd=compose.REPO, check=True, capture_output=True, timeout=3600)

    try:
        t0 = time.monotonic()
        run("down", "--volumes", "--remove-orphans")
        run("up", "-d", "--build", "--wait", "trino")
        result["stack_up_s"] = round(time.monotonic() - t0, 1)
        def port(var: str) -> int:
            return compose.HOST_PORTS[var] + BENCH_PORT_OFFSET

        hdfs = WebHdfsFS(f"http://localhost:{port('STACK_NAMENODE_HTTP_PORT')}", "/bench-lake")
        for part in parts:
            hdfs.write_file(f"warehouse_layer/{TABLE}/{part.name}", part.read_bytes())
        con = trino.dbapi.connect(host="127.0.0.1", port=port("STACK_TRINO_PORT"), user="bench", catalog="hive")
        cur = con.cursor()
        ddl = "\n".join(line for line in trino_layer_ddl("warehouse", f"{LAKE_IN_STACK}/bench-lake").splitlines()
                        if not line.startswith("--"))  # the header comment holds a ';'
        for statement in ddl.split(";"):
            sql = statement.strip()
            if sql:
                cur.execute(sql)
                cur.fetchall()

        def trino_query() -> list:
            cur.execute(QUERY.format(table=f"hive.warehouse.{TABLE}"))
            return [tuple(r) for r in cur.fetchall()]

        cur.execute(f"SELECT count(*) FROM hive.warehouse.{TABLE}")
        assert cur.fetchall() == [[rows]]
        trino_s, trino_rows = timed(trino_query)
        result["trino"] = {"median_s": round(trino_s, 3), "runs": RUNS,
                           "container_memory_mb": trino_memory_mb(cmd, env)}
        duck = duckdb.connect()
        source = f"read_parquet('{folder}/**/*.parquet')"

        def duck_query() -> list:
            return duck.execute(QUERY.format(table=source)).fetchall()

        duck_s, duck_rows = timed(duck_query)
        result["duckdb"] = {"median_s": round(duck_s, 3), "runs": RUNS}
        result["same_answer"] = [tuple(r) for r in duck_rows] == trino_rows
        result["answer_rows"] = len(trino_rows)
        result["trino_to_duckdb_ratio"] = round(trino_s / duck_s, 2) if duck_s else None
    finally:
        subprocess.run([*cmd, "down", "--volumes", "--remove-orphans"], env=env, cwd=compose.REPO,
                       capture_output=True, timeout=600, check=False)
    return result


def main(results_dir: Path, quick: bool = False) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="trino-bench-"))
    try:
        run = run_size(300 if quick else 3000, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "benchmark": "trino_vs_duckdb", "query": " ".join(QUERY.split()), "runs": [run],
        "note": "Same Parquet files (copied byte for byte into HDFS for Trino). Trino pays a coordinator "
                "round trip, split scheduling and HDFS reads through the DataNode; DuckDB scans local files "
                "in-process. Trino's value is the shared SQL endpoint for BI tools over the cluster's lake, "
                "not single-user speed on one small machine.",
    }
    (results_dir / "trino.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def summary(report: dict) -> list[str]:
    return [f"trino vs duckdb, {r['tracks']} tracks ({r['parquet_mb']} MB parquet): Trino {r['trino']['median_s']}s, "
            f"DuckDB {r['duckdb']['median_s']}s (x{r['trino_to_duckdb_ratio']}), same answer {r['same_answer']}"
            for r in report["runs"]]
