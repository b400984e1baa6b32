"""End to end on the real local stack: Airflow's REST API triggers the crawl, the asset starts
``Spotify_DAG``, both succeed, Trino answers over every warehouse table, and stopping the Airflow
services leaves none of their processes behind.

The stack's services come from the session fixture (``stack``); the Airflow services run under a
supervisor of their own whose environment points the pipeline at the sample API this test starts (the
only difference from `make stack`, where it points at Spotify), so the DAGs run the production code
paths unchanged: FerretDB landing, ``hdfs://`` lake, Spark standalone, Hive metastore, Trino.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
import requests

from spotify_pipeline.stack import airflow
from spotify_pipeline.stack.services import for_profile
from spotify_pipeline.stack.supervisor import Supervisor
from tests.stack.airflow_rest import AirflowRest
from tests.stack.conftest import api_env

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

CRAWL, SPOTIFY = "crawl_and_ingest_data_into_mongoDB", "Spotify_DAG"
PIPELINE_SERVICES = ("postgres", "mongo", "hdfs-init", "spark-worker", "hive-metastore", "trino")
ARTISTS = 4   # crawled of the sample API's 8 (kworb's listeners page needs a few artists to list)


def processes_with_env(var: str, value: str) -> list[int]:
    """Pids of live processes whose environment has ``var=value`` (what a leaked Airflow child keeps)."""
    needle = f"{var}={value}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.fixture
def sample_api():
    from crawler.sample_api.server import start_sample_api

    with start_sample_api(n_artists=8, seed=23) as api:
        yield api


def test_both_dags_through_the_rest_api_then_trino_answers(stack, sample_api, tmp_path) -> None:
    stack.up(*PIPELINE_SERVICES)
    env = {**stack.ctx.env, **api_env(sample_api)}
    # Own run dir and logs (so stopping these stops nothing else); same ports, postgres, lake, metastore.
    ctx = dataclasses.replace(stack.ctx, state=tmp_path / "airflow-stack", logs=tmp_path / "airflow-stack" / "logs",
                              env=env)
    airflow_services = [s for s in for_profile("full") if s.name.startswith("airflow-")]
    assert len(airflow_services) == 5
    # The session's services stand in this supervisor's table as already-done one-shots (nothing to
    # start or stop): it starts, and later stops, only the Airflow services.
    started_elsewhere = [dataclasses.replace(s, oneshot=True, command=lambda ctx: [], install=None, init=None,
                                             post_start=None, depends_on=(), ports=())
                         for s in for_profile("full") if not s.name.startswith("airflow-")]
    sup = Supervisor(ctx, [*started_elsewhere, *airflow_services], say=lambda line: None)
    home = str(airflow.home(ctx))
    try:
        sup.up()
        status = {name: s for name, s in sup.status().items() if name.startswith("airflow-")}
        assert len(status) == 5 and all(s["healthy"] for s in status.values()), status
        user, password = airflow.admin_login(ctx)
        with pytest.raises(requests.HTTPError, match="401"):
            AirflowRest(airflow.api_url(ctx), user, password + "-wrong").login()
        rest = AirflowRest(airflow.api_url(ctx), user, password).login()

        dags = rest.wait_for_dags({CRAWL, SPOTIFY})
        assert dags[SPOTIFY]["is_paused"] and dags[CRAWL]["is_paused"]  # Airflow's default for new DAGs
        # Trigger at the DAG's next scheduled date, so unpausing it does not add a second (scheduled) run.
        crawl_run = rest.trigger(CRAWL, {"limit": ARTISTS, "shards": 2, "workers": 4},
                                 dags[CRAWL]["next_dagrun_logical_date"])
        rest.unpause(SPOTIFY)
        rest.unpause(CRAWL)

        crawl = rest.wait_for_run(CRAWL, crawl_run, timeout_s=600)
        assert crawl["state"] == "success", rest.failed_tasks(CRAWL, crawl_run)
        landed = rest.call("GET", f"/dags/{CRAWL}/dagRuns/{crawl_run}/taskInstances/landing_stats/xcomEntries/"
                                  "return_value")["value"]
        landed = json.loads(landed) if isinstance(landed, str) else landed
        assert landed["tracks_raw"] > 0 and landed["artists_raw"] >= ARTISTS, landed

        run = rest.wait_for_run(SPOTIFY, timeout_s=2400)  # started by the asset the crawl updated
        assert run["run_type"] == "asset_triggered"
        assert run["state"] == "success", rest.failed_tasks(SPOTIFY, run["dag_run_id"])
        assert [r["dag_run_id"] for r in rest.runs(CRAWL)] == [crawl_run]

        from analytics.query import run_query

        trino = stack.pipeline_settings(("TRINO_HOST", "TRINO_PORT", "TRINO_CATALOG"))
        from spark_jobs.schemas import tables_in

        warehouse = [spec.name for spec in tables_in("warehouse")]
        counts = {t: run_query(trino, f"SELECT count(*) FROM warehouse.{t}")[1][0][0] for t in warehouse}
        # Every landed track reaches the dashboard table (left joins keep tracks without genres/features).
        assert counts["warehouse_track_dashboard"] == landed["tracks_raw"], (counts, landed)
        assert counts["warehouse_track_recommendation"] > 0, counts
    finally:
        stopped = sup.down()
    assert set(stopped) >= {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"}
    assert processes_with_env("AIRFLOW_HOME", home) == []
