"""Shared Airflow pieces of the two DAGs: the landing asset, default args, the failure alert.

Kept out of ``dags/`` so both DAG files stay thin; importing this is cheap (no I/O, no secrets).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pendulum

LANDING_ASSET_URI = "spotify://landing_zone"
# Timezone-aware: a naive date would be read in whatever default_timezone the deployment sets.
START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")
TAGS = ["spotify", "data-platform"]
# Crawl shards that may run at once; the configured request rate is split between them.
MAX_PARALLEL_SHARDS = 4

log = logging.getLogger("spotify_pipeline.alerts")


def crawl_schedule() -> str | None:
    """``CRAWL_SCHEDULE`` (default weekly). Airflow runs the latest slot of a cron DAG when it is unpaused,
    so a manual-only install (and the UI test's one click) sets it to ``none``."""
    from spotify_core.settings import get_settings

    cron = get_settings().crawl_schedule.strip()
    return None if cron.lower() == "none" else cron


def spark_tasks() -> str:
    """``SPARK_TASKS``: ``submit`` (SparkSubmitOperator per step) or ``session`` (steps run in the task's
    process, in one long-lived Spark session per process)."""
    from spotify_core.settings import get_settings

    return get_settings().spark_tasks


def alert_on_failure(context: Any) -> None:
    """One clear line per failed task: which DAG, task, try and why."""
    ti = context.get("task_instance") or context.get("ti")
    exc = context.get("exception")
    log.error("ALERT: %s.%s failed (try %s): %s", getattr(ti, "dag_id", "?"), getattr(ti, "task_id", "?"),
              getattr(ti, "try_number", "?"), str(exc).splitlines()[0] if exc else "unknown error")


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(hours=2),
    "on_failure_callback": alert_on_failure,
}
