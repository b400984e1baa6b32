"""End to end on the Compose stack, checked through the REST API after the session's one run.

The run itself is the one a person starts in the Airflow UI (``ui_pipeline_run`` in ``conftest.py``):
the crawl DAG, then ``Spotify_DAG`` started by the landing asset, on the production code paths
(MongoDB-protocol landing, ``hdfs://`` lake, Spark standalone, Hive metastore, Trino). Here: what a script or
CI sees of it: the login, the landing counts the crawl reported, and Trino over every warehouse table.
"""

from __future__ import annotations

import pytest
import requests

from tests.stack.airflow_ui import CRAWL_DAG, SPOTIFY_DAG
from tests.stack.conftest import STACK_ARTISTS

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.timeout(2400)]


def test_every_airflow_service_is_healthy_and_the_login_is_the_documented_one(stack, airflow) -> None:
    from tests.stack.airflow_rest import AirflowRest

    status = {name: s for name, s in stack.status().items() if name.startswith("airflow-")}
    # apiserver, scheduler, dag processor, triggerer, two Celery workers, and the one-shot init
    assert len(status) == 7 and all(s["healthy"] for s in status.values()), status
    with pytest.raises(requests.HTTPError, match="401"):
        AirflowRest(stack.url("STACK_AIRFLOW_PORT"), "admin", "admin-wrong").login()
    assert {CRAWL_DAG, SPOTIFY_DAG} <= airflow.wait_for_dags({CRAWL_DAG, SPOTIFY_DAG}).keys()


def test_the_run_lands_the_crawl_and_trino_answers_over_every_warehouse_table(stack, airflow,
                                                                             ui_pipeline_run) -> None:
    from analytics.query import run_query
    from spark_jobs.schemas import tables_in

    rest = airflow
    crawl, spotify = ui_pipeline_run["crawl"], ui_pipeline_run["spotify"]
    assert spotify["run_type"] == "asset_triggered"            # started by the landing asset, not by us
    # One click, one run of each DAG (the crawl DAG has no weekly slot to add when it is unpaused).
    assert [r["dag_run_id"] for r in rest.runs(CRAWL_DAG)] == [crawl["dag_run_id"]]
    assert [r["dag_run_id"] for r in rest.runs(SPOTIFY_DAG)] == [spotify["dag_run_id"]]
    landed = rest.xcom(CRAWL_DAG, crawl["dag_run_id"], "landing_stats")
    assert landed["tracks_raw"] > 0 and landed["artists_raw"] >= STACK_ARTISTS, landed

    trino = stack.pipeline_settings(("TRINO_HOST", "TRINO_PORT", "TRINO_CATALOG"))
    warehouse = [spec.name for spec in tables_in("warehouse")]
    counts = {t: run_query(trino, f"SELECT count(*) FROM warehouse.{t}")[1][0][0] for t in warehouse}
    # Every landed track reaches the dashboard table (left joins keep tracks without genres/features).
    assert counts["warehouse_track_dashboard"] == landed["tracks_raw"], (counts, landed)
    assert counts["warehouse_track_recommendation"] > 0, counts
    assert set(ui_pipeline_run["tables"]) >= {f"warehouse.{t}" for t in warehouse}
