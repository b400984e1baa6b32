"""Test harness (never imported by production code): Debian's chromium driven by Playwright.

Chromium is installed by ``scripts/test-prereqs.sh`` when missing (a fresh CI machine); Playwright's
own browser download does not work here. Every browser gets a fresh user-data-dir and the flags a
headless run on a shared machine needs. Screenshots go to ``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run",
        # Chromium refuses some ports as unsafe, 10080 among them: Airflow's 8080 at STACK_TEST_PORT_OFFSET=2000.
        "--explicitly-allowed-ports=10080"]


def ensure_chromium() -> Path:
    # Tests install nothing: `make test` runs scripts/test-prereqs.sh first.
    assert CHROMIUM.exists(), f"{CHROMIUM} missing: run `make test-prereqs` (make test does)"
    return CHROMIUM


@contextmanager
def chromium_context() -> Iterator:
    """A Playwright browser context on a fresh profile; the browser and the profile go away after."""
    from playwright.sync_api import sync_playwright

    profile = Path(tempfile.mkdtemp(prefix="ui-test-chromium-"))
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                str(profile), executable_path=str(ensure_chromium()), args=ARGS, headless=True,
                viewport={"width": 1400, "height": 1000})
            ctx.set_default_timeout(60_000)
            try:
                yield ctx
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
