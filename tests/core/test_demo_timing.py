"""The demo's timing table reads the Airflow tasks of this demo's run only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from spotify_pipeline.demo_timing import Timings


def test_tasks_of_the_latest_run_of_each_dag_only(tmp_path: Path) -> None:
    db = tmp_path / "airflow.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE dag_run (dag_id TEXT, run_id TEXT, start_date TEXT)")
        con.execute("CREATE TABLE task_instance (dag_id TEXT, task_id TEXT, run_id TEXT, map_index INT, "
                    "start_date TEXT, duration REAL)")
        con.executemany("INSERT INTO dag_run VALUES (?, ?, ?)", [
            ("crawl", "old", "2026-11-25T10:00"), ("crawl", "new", "2026-11-26T10:00"),
            ("etl", "only", "2026-11-26T10:01")])
        con.executemany("INSERT INTO task_instance VALUES (?, ?, ?, ?, ?, ?)", [
            ("crawl", "scrape", "old", -1, "2026-11-25T10:00", 9.0),
            ("crawl", "scrape", "new", -1, "2026-11-26T10:00", 2.0),
            ("crawl", "shard", "new", 0, "2026-11-26T10:00:01", 1.5),
            ("crawl", "shard", "new", 1, "2026-11-26T10:00:01", 2.5),
            ("etl", "silver", "only", -1, "2026-11-26T10:01", 7.0),
            ("etl", "gold", "only", -1, "2026-11-26T10:02", None)])  # still running: no duration
    timings = Timings()
    timings.read_tasks(db)
    assert timings.tasks == [("crawl", "scrape", 2.0), ("crawl", "shard (x2, longest 2.5s)", 4.0),
                             ("etl", "silver", 7.0)]
