"""The platform's UIs used as a person uses them, in Debian's chromium: NameNode, Trino, Airflow.

Screenshots of every step a person would look at go to ``test-artifacts/screenshots/`` (git-ignored).
The Airflow run is started by clicking (login, unpause, the trigger form with ``limit``); only its
progress is read from the REST API.
"""

from __future__ import annotations

import time

import pytest

from tests.stack.browser import SCREENSHOTS, chromium_context, screenshot
from tests.stack.conftest import STACK_ARTISTS

# Session setup (stack up + one pipeline run) is charged to the first test: minutes on 2 cores.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

DASHBOARD_DIR = "/warehouse_layer/warehouse_track_dashboard"


def test_namenode_ui_lists_the_dashboard_parquet_files(stack, stack_lake) -> None:
    from lake.fs import WebHdfsFS
    from lake.tables import current_path

    # Each build is a version folder in the table's folder (lake/versions.py); a person opens the newest.
    current = current_path(WebHdfsFS(stack.pipeline_env["WEBHDFS_URL"], "/"), DASHBOARD_DIR.strip("/"))
    assert current is not None, f"no complete version under {DASHBOARD_DIR}"
    with chromium_context() as ctx:
        page = ctx.new_page()
        page.goto(stack.url("STACK_NAMENODE_HTTP_PORT", "/explorer.html"))
        # Browse as a person does: click the folder names from the root listing down.
        for folder in current.split("/"):
            page.locator("#table-explorer a", has_text=folder).first.click()
            page.wait_for_function("d => document.querySelector('#directory').value.endsWith(d)", arg=folder)
        files = page.locator("#table-explorer tbody tr td a")
        page.locator("#table-explorer td", has_text=".parquet").first.wait_for()
        assert page.input_value("#directory") == f"/{current}"
        names = files.all_inner_texts()
        screenshot(page, "namenode-warehouse_track_dashboard")
    assert any(n.startswith("part-") and n.endswith(".parquet") for n in names), names
    assert "_SUCCESS" in names


def test_trino_ui_lists_the_finished_queries(stack, stack_lake) -> None:
    import trino

    marker = f"ui_probe_{int(time.time())}"
    with trino.dbapi.connect(host="localhost", port=stack.port("STACK_TRINO_PORT"), user="analyst", catalog="hive") as con:
        cur = con.cursor()
        cur.execute(f"SELECT count(*) AS {marker} FROM warehouse.warehouse_track_dashboard")
        assert cur.fetchall()[0][0] > 0
    with chromium_context() as ctx:
        page = ctx.new_page()
        page.goto(stack.url("STACK_TRINO_PORT", "/ui/"))
        page.fill("#username", "analyst")               # Trino on http asks for a user name, no password
        page.click("#submit")
        page.locator("#query-list").wait_for()
        finished = page.get_by_role("button", name="Finished")
        if "active" not in (finished.get_attribute("class") or ""):
            finished.click()                            # finished queries are filtered out by default
        page.locator("#query-list", has_text=marker).wait_for()
        screenshot(page, "trino-finished-queries")
        text = page.locator("#query-list").inner_text()
    assert marker in text and "FINISHED" in text.upper()


def test_airflow_ui_one_click_runs_the_whole_pipeline(ui_pipeline_run) -> None:
    """The session's run (``ui_pipeline_run``) was started by clicking in the UI: check what the person saw."""
    crawl, spotify = ui_pipeline_run["crawl"], ui_pipeline_run["spotify"]
    assert crawl["state"] == "success" and crawl["run_type"] == "manual", crawl
    assert crawl["conf"].get("limit") == STACK_ARTISTS                       # the limit typed into the form
    assert spotify["state"] == "success" and spotify["run_type"] == "asset_triggered", spotify
    assert ui_pipeline_run["failed"] == []
    for name in ("airflow-dag-list", "airflow-trigger-form", "airflow-spotify-dag-grid", "airflow-crawl-grid"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000, name
    print(f"UI-triggered run: crawl + Spotify_DAG succeeded in {ui_pipeline_run['wall_s']:.0f} s")
