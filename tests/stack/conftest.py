"""Fixtures of the stack tests that need data: one pipeline run per session, started in the Airflow UI.

The session's Compose stack (``stack``) and its sample API (``stack_api``) are in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import STACK_ARTISTS

REPO = Path(__file__).resolve().parents[2]


def api_env(api) -> dict[str, str]:
    """The sample API's exports for a command on the host (loopback; the containers use host.docker.internal)."""
    def local(url: str) -> str:
        return url.replace("//0.0.0.0:", "//127.0.0.1:")

    return {"SPOTIFY_API_BASE_URL": local(api.api_url), "SPOTIFY_TOKEN_URL": local(api.token_url),
            "KWORB_BASE_URL": local(api.kworb_url), "SPOTIFY_CLIENT_ID": api.client_id,
            "SPOTIFY_CLIENT_SECRET": api.client_secret, "SPOTIFY_REQUESTS_PER_SECOND": "1000",
            "RECCOBEATS_API_BASE_URL": local(api.reccobeats_url), "MUSICBRAINZ_API_BASE_URL": local(api.musicbrainz_url)}


def pipeline_env(stack, api) -> dict[str, str]:
    """What a person on the host gets from ``eval "$(spotify-pipeline stack env)"`` plus the sample API's exports."""
    return {**os.environ, **stack.pipeline_env, **api_env(api), "DATA_DIR": str(stack.data_dir)}


def cli(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """``spotify-pipeline ARGS`` on the host (a script pointed at the stack's published ports)."""
    return subprocess.run([sys.executable, "-m", "spotify_pipeline.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def airflow(stack):
    """Airflow's REST API of the session stack, logged in with the documented login (admin / admin)."""
    from tests.stack.airflow_rest import AirflowRest

    return AirflowRest(stack.url("STACK_AIRFLOW_PORT"), "admin", "admin").login()


@pytest.fixture(scope="session")
def bi(stack, stack_lake, tmp_path_factory):
    """A BI tool's JDBC session (the Trino JDBC driver of the server's version) against the stack's Trino."""
    from spotify_core.settings import load_settings
    from spotify_pipeline.stack.jdbc import driver_jar, url_at
    from tests.stack.bi import BiClient

    return BiClient.build(driver_jar(load_settings({}).stack_cache_dir), tmp_path_factory.mktemp("bi"),
                          url_at("localhost", stack.port("STACK_TRINO_PORT")))


def web_api_calls(api) -> int:
    """The Spotify Web API calls the sample API has answered since its counters were last reset."""
    return sum(n for key, n in api.stats().items() if key.startswith("GET /v1/"))


@pytest.fixture(scope="session")
def ui_pipeline_run(stack, stack_api) -> dict:
    """The session's one pipeline run, started by one click in the Airflow UI (crawl in shards over both
    Celery workers, then ``Spotify_DAG`` through the landing asset); carries both runs, the wall time, the
    Web API calls of the crawl and every table's fingerprint after it: the undisturbed reference of the
    node-loss drills."""
    from tests.stack.airflow_ui import one_click_run
    from tests.stack.tables import table_fingerprints

    stack_api.reset_stats()
    run = one_click_run(stack.url("STACK_AIRFLOW_PORT"), "admin", "admin", limit=STACK_ARTISTS)
    assert run["crawl"]["state"] == "success" and run["spotify"] and run["spotify"]["state"] == "success", run
    print(f"UI-triggered run: crawl + Spotify_DAG succeeded in {run['wall_s']:.0f} s")
    run["calls"] = web_api_calls(stack_api)
    run["tables"] = table_fingerprints(stack.port("STACK_TRINO_PORT"))
    return run


@pytest.fixture(scope="session")
def stack_lake(stack, stack_api, ui_pipeline_run) -> dict[str, str]:
    """The stack with every table built in HDFS and registered (by the UI-triggered run); the host's env."""
    return pipeline_env(stack, stack_api)
