"""Test harness: the Airflow UI used as a person uses it, in Debian's chromium (Playwright).

Log in, see both DAGs, flip ``Spotify_DAG`` on, open the crawl DAG's trigger form, set ``limit``,
click Trigger. The run is started only by clicking; its progress is read from the REST API.
Screenshots: the DAG list, the trigger form, and both finished runs' grids.
"""

from __future__ import annotations

import re
import time

from tests.stack.airflow_rest import AirflowRest
from tests.stack.browser import chromium_context, screenshot

CRAWL_DAG, SPOTIFY_DAG = "crawl_and_ingest_data_into_mongoDB", "Spotify_DAG"


def _login(page, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name=re.compile(r"sign in|log in|login", re.I)).click()
    page.wait_for_url(re.compile(r"^(?!.*/auth/login)"))


def _dag_card(page, dag_id: str):
    return page.locator("div", has=page.get_by_role("link", name=dag_id, exact=True)).filter(
        has=page.get_by_role("button", name="Trigger Dag")).last


def one_click_run(base: str, user: str, password: str, limit: int) -> dict:
    """Trigger the crawl from the UI with ``limit``; wait for it and the ``Spotify_DAG`` run its asset queues.

    Returns both finished runs and the wall time from the click to the end of ``Spotify_DAG``.
    """
    rest = AirflowRest(base, user, password).login()
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
        dialog.locator("input[name=element_limit]").fill(str(limit))
        screenshot(page, "airflow-trigger-form")
        started = time.monotonic()
        dialog.get_by_role("button", name="Trigger", exact=True).click()
        dialog.wait_for(state="hidden")
        crawl = rest.wait_for_run(CRAWL_DAG, timeout_s=900)
        spotify = rest.wait_for_run(SPOTIFY_DAG, timeout_s=1800) if crawl["state"] == "success" else None
        wall = time.monotonic() - started
        if spotify is not None:
            page.goto(f"{base}/dags/{SPOTIFY_DAG}/runs/{spotify['dag_run_id']}")
            page.get_by_text("register_catalog").first.wait_for()
            if spotify["state"] == "success":
                page.get_by_text("Success").first.wait_for()
            screenshot(page, "airflow-spotify-dag-grid")
        page.goto(f"{base}/dags/{CRAWL_DAG}/runs/{crawl['dag_run_id']}")
        page.get_by_text("landing_stats").first.wait_for()
        screenshot(page, "airflow-crawl-grid")
    return {"crawl": crawl, "spotify": spotify, "wall_s": wall,
            "failed": rest.failed_tasks(CRAWL_DAG, crawl["dag_run_id"]) + (
                rest.failed_tasks(SPOTIFY_DAG, spotify["dag_run_id"]) if spotify else [])}
