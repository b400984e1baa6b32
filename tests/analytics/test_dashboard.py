"""The Streamlit dashboard, started as the stack's ``dashboard`` service starts it, driven in headless Chromium.

Screenshots of every view land in ``test-artifacts/screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import expect

from spotify_core.settings import environment_for, load_settings
from tests.lake_tables import parquet

# system: a Streamlit server driven by a browser, end to end (tests/conftest.py); make test runs it
pytestmark = [pytest.mark.spark, pytest.mark.system]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
APP = "analytics/dashboard_app.py"
START_TIMEOUT_S = 180.0
expect.set_options(timeout=180_000)  # assertions retry until the app has rendered (busy CI machines)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(settings, tmp_path: Path) -> Iterator[str]:
    """The dashboard as the stack's ``dashboard`` service runs it (``streamlit run``), on a free port; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "dashboard.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path), **environment_for(settings)}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "streamlit"), "run", str(ROOT / APP),
                             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--browser.gatherUsageStats", "false"],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not healthy(url):
            assert proc.poll() is None, log_path.read_text()[-2000:]
            assert time.monotonic() < deadline, f"dashboard not ready in {START_TIMEOUT_S:.0f} s"
            time.sleep(0.25)  # polling interval of the readiness probe
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def healthy(url: str) -> bool:
    """Streamlit's own health endpoint answers ``ok`` once the server runs (the compose healthcheck's URL)."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().strip() == b"ok"
    except OSError:
        return False


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    # Tests install nothing: `make test` / `make test-fast` run scripts/test-prereqs.sh first.
    assert CHROMIUM.exists(), f"{CHROMIUM} missing: run `make test-prereqs` (make test does)"
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()


def lake_sql(settings, sql: str) -> list[tuple]:
    root = settings.lake_uri.removeprefix("file://")
    for table in ("warehouse_track_dashboard", "warehouse_track_similar", "warehouse_track_recommendation"):
        sql = sql.replace(f"{{{table}}}", parquet(root, f"warehouse_layer/{table}"))
    return duckdb.sql(sql).fetchall()


def test_dashboard_views_in_a_browser(demo_lake, browser, tmp_path) -> None:
    settings = demo_lake
    n_tracks = lake_sql(settings, "SELECT count(*) FROM {warehouse_track_dashboard}")[0][0]
    top_artist = lake_sql(settings, "SELECT artist_name FROM {warehouse_track_dashboard} GROUP BY 1 "
                                    "ORDER BY count(*) DESC, 1 LIMIT 1")[0][0]
    seed, first_neighbour = lake_sql(settings, """
        SELECT s.track_id, d.track_name FROM {warehouse_track_similar} s
        JOIN {warehouse_track_dashboard} d ON d.track_id = s.similar_track_id
        WHERE s.rank = 1 AND s.track_id = (SELECT min(track_id) FROM {warehouse_track_recommendation})""")[0]
    with running(settings, tmp_path) as url:
        page = browser.new_page()
        page.set_default_timeout(180_000)  # a first load on a busy 2-core CI machine takes a while
        page.goto(url)
        page.get_by_text("Catalog overview").wait_for()
        metric = page.locator("[data-testid='stMetric']").filter(has_text="Tracks").first
        expect(metric).to_have_text(re.compile(rf"^Tracks\s*{n_tracks:,}$"))  # retried until rendered
        page.get_by_text("Tracks per release year").first.wait_for()
        page.get_by_text("Audio feature distributions").first.wait_for()
        page.get_by_text(re.compile(r"Coverage — audio features: \d+ % of tracks")).first.wait_for()
        page.get_by_text(re.compile(r"Coverage — genres: \d+ % of artists")).first.wait_for()
        page.screenshot(path=str(SHOTS / "dashboard-overview.png"), full_page=True)

        page.get_by_role("tab", name="Artists").click()
        page.get_by_text("Artist explorer").wait_for()
        expect(page.get_by_role("combobox", name="Artist")).to_have_value(top_artist)  # most tracks first
        page.screenshot(path=str(SHOTS / "dashboard-artists.png"), full_page=True)

        page.get_by_role("tab", name="Similar tracks").click()
        page.get_by_text("From warehouse_track_similar").wait_for()
        expect(page.get_by_role("combobox", name="Seed track")).to_have_value(re.compile(rf"\({seed}\)$"))
        table = page.locator("[data-testid='stTable']")
        table.get_by_text(first_neighbour).first.wait_for()
        expect(table.locator("tbody tr")).to_have_count(10)
        page.screenshot(path=str(SHOTS / "dashboard-similar.png"), full_page=True)

        page.get_by_role("tab", name="Clusters").click()
        page.get_by_text("Track clusters (KMeans)").wait_for()
        assert page.locator(".js-plotly-plot .scatterlayer .point").count() > 0
        page.screenshot(path=str(SHOTS / "dashboard-clusters.png"), full_page=True)


def test_dashboard_on_an_empty_lake_says_what_to_run(browser, tmp_path) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path / "empty")})
    with running(settings, tmp_path) as url:
        page = browser.new_page()
        page.set_default_timeout(180_000)
        page.goto(url)
        page.get_by_text("The lake is not built yet").wait_for()
        expect(page.locator("[data-testid='stAlert']")).to_contain_text(
            "warehouse_track_dashboard is not in the lake yet: run spotify-pipeline demo")
        page.screenshot(path=str(SHOTS / "dashboard-empty-lake.png"), full_page=True)
