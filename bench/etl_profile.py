"""Where Spark's ETL time goes, stage by stage: ``python -m bench.etl_profile [--artists N]``.

Builds the benchmark's landing data (``bench.etl_bench``), exports it, runs the silver, gold and
warehouse layers in one Spark session with the event log on, then sums the event log's stages per
layer: wall time inside Spark jobs, the rest (planning, listing, commits, driver work between jobs),
and the heaviest stages by their call site. Writes ``bench/results/etl_profile.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.etl_bench import ETL_LAYERS, land_catalog_in_child
from crawler.landing.sqlite import SQLiteLandingStore
from lake.export import export_landing
from lake.fs import open_lake
from spotify_core.settings import load_settings

RESULTS = Path(__file__).resolve().parent / "results"


def stage_spans(event_log: Path) -> list[dict]:
    """(name, submitted, completed, tasks) of every completed stage in a Spark event log (ms)."""
    spans = []
    for line in event_log.read_text().splitlines():
        event = json.loads(line)
        if event.get("Event") == "SparkListenerStageCompleted":
            info = event["Stage Info"]
            if "Submission Time" in info and "Completion Time" in info:
                spans.append({"name": info["Stage Name"], "start": info["Submission Time"],
                              "end": info["Completion Time"], "tasks": info["Number of Tasks"]})
    return spans


def busy_ms(spans: list[dict], start: float, end: float) -> float:
    """Milliseconds of [start, end] covered by at least one stage (stages overlap)."""
    covered, last = 0.0, start
    for s in sorted(spans, key=lambda s: s["start"]):
        lo, hi = max(s["start"], last), min(s["end"], end)
        if hi > lo:
            covered += hi - lo
            last = hi
    return covered


class TableTimes(logging.Handler):
    """Collects the runner's per-table line (``<table>: <rows> rows in <seconds>s``)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seconds: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %d rows in %.1fs":
            self.seconds[record.args[0]] = round(record.args[2], 1)


def profile(n_artists: int) -> dict:
    from pyspark.sql import SparkSession

    from spark_jobs.runner import run_layer

    with tempfile.TemporaryDirectory(prefix="etl-profile-") as tmp:
        workdir = Path(tmp)
        settings = load_settings({"DATA_DIR": str(workdir)})
        n_tracks = land_catalog_in_child(settings.landing_sqlite_path, n_artists)
        with SQLiteLandingStore(settings.landing_sqlite_path) as store:
            export_landing(store, open_lake(settings))
        logs = workdir / "eventlog"
        logs.mkdir()
        t0 = time.time()
        spark = (SparkSession.builder.master(settings.spark_master).appName("etl-profile")
                 .config("spark.driver.memory", settings.spark_driver_memory)
                 .config("spark.sql.session.timeZone", "UTC").config("spark.ui.showConsoleProgress", "false")
                 .config("spark.eventLog.enabled", "true").config("spark.eventLog.dir", f"file://{logs}")
                 .config("spark.eventLog.rolling.enabled", "false").config("spark.eventLog.compress", "false")
                 .getOrCreate())
        spark.conf.set("spark.sql.shuffle.partitions", str(2 * spark.sparkContext.defaultParallelism))
        session_start_s = time.time() - t0
        times = TableTimes()
        runner_log = logging.getLogger("spark_jobs.runner")
        runner_log.addHandler(times)
        runner_log.setLevel(logging.INFO)
        windows, counts = {}, {}
        for layer in ETL_LAYERS:
            start = time.time() * 1000
            run_layer(spark, settings, layer, counts)
            windows[layer] = (start, time.time() * 1000)
        spark.stop()
        spans = stage_spans(next(logs.iterdir()))
    layers = {}
    for layer, (start, end) in windows.items():
        inside = [s for s in spans if start <= s["start"] <= end]
        by_site: dict[str, float] = defaultdict(float)
        for s in inside:
            by_site[s["name"]] += (s["end"] - s["start"]) / 1000
        busy = busy_ms(inside, start, end) / 1000
        layers[layer] = {"wall_s": round((end - start) / 1000, 1), "in_stages_s": round(busy, 1),
                         "outside_stages_s": round((end - start) / 1000 - busy, 1), "stages": len(inside),
                         "heaviest": [{"call_site": k, "seconds": round(v, 1)}
                                      for k, v in sorted(by_site.items(), key=lambda kv: -kv[1])[:8]]}
    return {"benchmark": "etl_profile", "artists": n_artists, "tracks": n_tracks,
            "session_start_s": round(session_start_s, 1), "layers": layers,
            "table_seconds": times.seconds,
            "note": "in_stages: some Spark stage was running; outside: driver work between stages (planning, "
                    "file listing, output commits, Python/py4j); a table's seconds include computing its inputs "
                    "the first time they are used"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artists", type=int, default=3000, help="catalog size (3,000 artists: ~300k tracks)")
    report = profile(parser.parse_args(argv).artists)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "etl_profile.json").write_text(json.dumps(report, indent=2))
    for layer, r in report["layers"].items():
        print(f"{layer:<10} wall {r['wall_s']:>6}s  in stages {r['in_stages_s']:>6}s  outside {r['outside_stages_s']:>6}s"
              f"  ({r['stages']} stages)")
    for table, seconds in report["table_seconds"].items():
        print(f"    {table:<32} {seconds:>6}s")


if __name__ == "__main__":
    main()
