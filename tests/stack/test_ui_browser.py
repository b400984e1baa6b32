"""The platform's UIs used as a person uses them, in Debian's chromium: NameNode, Trino, Airflow.

Screenshots of every step a person would look at go to ``test-artifacts/screenshots/`` (git-ignored).
The Airflow run is started by clicking (login, unpause, the trigger form with ``limit``); only its
progress is read from the REST API.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest
import requests

from spotify_pipeline.stack import airflow as airflow_service
from tests.stack.browser import chromium_context, screenshot
from tests.stack.conftest import STACK_ARTISTS, airflow_services

# Session setup (stack up + one pipeline run) is charged to the first test: minutes on 2 cores.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

DASHBOARD_DIR = "/warehouse_layer/warehouse_track_dashboard"
CRAWL_DAG, SPOTIFY_DAG = "crawl_and_ingest_data_into_mongoDB", "Spotify_DAG"


def test_namenode_ui_lists_the_dashboard_parquet_files(stack, stack_lake) -> None:
    from lake.fs import WebHdfsFS
    from lake.tables import current_path

    # Each build is a version folder in the table's folder (lake/versions.py); a person opens the newest.
    current = current_path(WebHdfsFS(stack.env["WEBHDFS_URL"], "/"), DASHBOARD_DIR.strip("/"))
    assert current is not None, f"no complete version under {DASHBOARD_DIR}"
    with chromium_context() as ctx:
        page = ctx.new_page()
        page.goto(f"http://localhost:{stack.ctx.port('namenode_http')}/explorer.html")
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
    with trino.dbapi.connect(host="localhost", port=stack.ctx.port("trino"), user="analyst", catalog="hive") as con:
        cur = con.cursor()
        cur.execute(f"SELECT count(*) AS {marker} FROM warehouse.warehouse_track_dashboard")
        assert cur.fetchall()[0][0] > 0
    with chromium_context() as ctx:
        page = ctx.new_page()
        page.goto(f"http://localhost:{stack.ctx.port('trino')}/ui/")
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


class Rest:
    """Airflow's REST API, read-only here: the run is started in the browser, only watched from here."""

    def __init__(self, base: str, user: str, password: str) -> None:
        self.base, self.session = base, requests.Session()
        token = self.session.post(f"{base}/auth/token", json={"username": user, "password": password}, timeout=120)
        token.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def runs(self, dag_id: str) -> list[dict]:
        for attempt in range(5):  # a loaded 2-core machine answers slowly; a timeout is no verdict
            try:
                resp = self.session.get(f"{self.base}/api/v2/dags/{dag_id}/dagRuns", params={"limit": 50},
                                        timeout=120)
                break
            except requests.Timeout:
                if attempt == 4:
                    raise
        resp.raise_for_status()
        return resp.json()["dag_runs"]

    def wait_finished(self, dag_id: str, after: set[str], timeout_s: float, run_type: str | None = None,
                      queued_after: str | None = None) -> dict:
        """The first run of ``dag_id`` not in ``after`` (of ``run_type``, queued after a time) that finished."""
        deadline = time.monotonic() + timeout_s
        while True:
            new = [r for r in self.runs(dag_id) if r["dag_run_id"] not in after
                   and (run_type is None or r["run_type"] == run_type)
                   and (queued_after is None or _ts(r["queued_at"]) >= _ts(queued_after))]
            done = [r for r in new if r["state"] in ("success", "failed")]
            if done:
                return done[0]
            assert time.monotonic() < deadline, f"{dag_id}: no finished run after {timeout_s:.0f} s: {new}"
            time.sleep(5)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _login(page, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name=re.compile(r"sign in|log in|login", re.I)).click()
    page.wait_for_url(re.compile(r"^(?!.*/auth/login)"))


def _dag_card(page, dag_id: str):
    return page.locator("div", has=page.get_by_role("link", name=dag_id, exact=True)).filter(
        has=page.get_by_role("button", name="Trigger Dag")).last


def test_airflow_ui_one_click_runs_the_whole_pipeline(stack, stack_api, tmp_path) -> None:
    with airflow_services(stack, stack_api, tmp_path / "airflow-stack") as ctx:
        _one_click_run(ctx)


def _one_click_run(ctx) -> None:
    base = airflow_service.api_url(ctx)
    user, password = airflow_service.admin_login(ctx)
    rest = Rest(base, user, password)
    before = {d: {r["dag_run_id"] for r in rest.runs(d)} for d in (CRAWL_DAG, SPOTIFY_DAG)}
    with chromium_context() as browser:
        page = browser.new_page()
        _login(page, base, user, password)
        page.goto(f"{base}/dags")
        for dag_id in (CRAWL_DAG, SPOTIFY_DAG):
            page.get_by_role("link", name=dag_id, exact=True).wait_for(timeout=300_000)  # parsed by now
        screenshot(page, "airflow-dag-list")
        # Spotify_DAG runs only when unpaused: flip its switch on the list, as a person does.
        switch = _dag_card(page, SPOTIFY_DAG).get_by_role("checkbox")
        if not switch.is_checked():
            switch.click(force=True)
            page.wait_for_timeout(500)
        assert switch.is_checked()
        # The trigger form of the crawl DAG: a small limit, "unpause on trigger" as offered.
        _dag_card(page, CRAWL_DAG).get_by_role("button", name="Trigger Dag").click()
        dialog = page.get_by_role("dialog")
        dialog.locator("input[name=element_limit]").fill(str(STACK_ARTISTS))
        screenshot(page, "airflow-trigger-form")
        started = time.monotonic()
        dialog.get_by_role("button", name="Trigger", exact=True).click()
        dialog.wait_for(state="hidden")
        # Unpausing the weekly crawl DAG also schedules its latest interval (catchup=False): our run is the
        # manual one; the Spotify_DAG run that matters is the one its landing asset queued.
        crawl = rest.wait_finished(CRAWL_DAG, before[CRAWL_DAG], timeout_s=900, run_type="manual")
        assert crawl["state"] == "success", crawl
        assert crawl["conf"].get("limit") == STACK_ARTISTS
        spotify = rest.wait_finished(SPOTIFY_DAG, before[SPOTIFY_DAG], timeout_s=1200, queued_after=crawl["start_date"])
        wall = time.monotonic() - started
        assert spotify["state"] == "success", spotify
        assert spotify["run_type"] == "asset_triggered"     # started by the landing asset, not by us
        page.goto(f"{base}/dags/{SPOTIFY_DAG}/runs/{spotify['dag_run_id']}")
        page.get_by_text("register_catalog").first.wait_for()
        page.get_by_text("Success").first.wait_for()
        screenshot(page, "airflow-spotify-dag-grid")
        page.goto(f"{base}/dags/{CRAWL_DAG}/runs/{crawl['dag_run_id']}")
        page.get_by_text("landing_stats").first.wait_for()
        screenshot(page, "airflow-crawl-grid")
    print(f"UI-triggered run: crawl + Spotify_DAG succeeded in {wall:.0f} s")
