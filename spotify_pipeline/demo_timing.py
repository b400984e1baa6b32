"""Wall time per demo step and per Airflow task, printed as one table at the end of `make demo`."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class Timings:
    """Wall time per demo step, and per Airflow task (from the run's metadata DB), printed as one table."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []
        self.tasks: list[tuple[str, str, float]] = []

    def add(self, label: str, seconds: float) -> None:
        self.steps.append((label, seconds))

    def read_tasks(self, airflow_db: Path) -> None:
        if not airflow_db.exists():
            return
        with sqlite3.connect(airflow_db) as con:
            # this demo's run of each DAG only (a rerun keeps the earlier runs in the DB); n > 1: mapped tasks
            rows = con.execute(
                "SELECT dag_id, task_id, count(*), max(duration), sum(duration) FROM task_instance ti "
                "WHERE duration IS NOT NULL AND run_id = (SELECT run_id FROM dag_run r WHERE r.dag_id = ti.dag_id "
                "ORDER BY r.start_date DESC LIMIT 1) GROUP BY dag_id, task_id ORDER BY min(start_date)").fetchall()
        self.tasks = [(dag, f"{task}{f' (x{n}, longest {longest:.1f}s)' if n > 1 else ''}", total)
                      for dag, task, n, longest, total in rows]

    def table(self) -> str:
        lines = ["== timings (seconds)", f"  {'step':<58} {'s':>7}"]
        lines += [f"  {label:<58} {seconds:>7.1f}" for label, seconds in self.steps]
        if self.tasks:
            lines.append("  -- Airflow tasks (inside the `dags test` steps above)")
            lines += [f"    {dag[:22] + '.' + task:<56} {seconds:>7.1f}" for dag, task, seconds in self.tasks]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"steps": dict(self.steps), "tasks": {f"{d}.{t}": round(s, 2) for d, t, s in self.tasks}}
