"""Stack service `dashboard`: the Streamlit app on the warehouse (reads through Trino in the stack)."""

from __future__ import annotations

import urllib.request
from importlib.metadata import version

from spotify_pipeline.stack.service import Service, StackContext

APP = "analytics/dashboard_app.py"


def command(ctx: StackContext) -> list[str]:
    return [str(ctx.venv_bin / "streamlit"), "run", str(ctx.repo / APP),
            "--server.port", str(ctx.port("dashboard")), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false"]


def url(ctx: StackContext) -> str:
    return f"http://127.0.0.1:{ctx.port('dashboard')}"


def ready(ctx: StackContext) -> bool:
    """Streamlit's own health endpoint answers ``ok`` once the server runs."""
    try:
        with urllib.request.urlopen(f"{url(ctx)}/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().strip() == b"ok"
    except OSError:
        return False


SERVICE = Service(
    name="dashboard",
    version=version("streamlit"),
    command=command,
    ready=ready,
    url=url,
    depends_on=("trino",),
    ports=("dashboard",),
    env=lambda ctx: dict(ctx.env),
    cwd=lambda ctx: ctx.repo,
    start_timeout_s=180.0,
)
