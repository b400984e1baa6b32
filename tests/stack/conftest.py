"""Fixtures of the stack tests that need data: one sample API and one pipeline run per session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.sample_api.server import start_sample_api

REPO = Path(__file__).resolve().parents[2]
# A tiny catalog: the stack tests are about the services, not the volume (4 artists, ~900 tracks;
# with 3 the sample API's kworb listeners page has no rows and `kworb` stops).
STACK_ARTISTS = 4


@pytest.fixture(scope="session")
def stack_api() -> Iterator:
    with start_sample_api(n_artists=STACK_ARTISTS, seed=11) as api:
        yield api


def api_env(api) -> dict[str, str]:
    return {"SPOTIFY_API_BASE_URL": api.api_url, "SPOTIFY_TOKEN_URL": api.token_url, "KWORB_BASE_URL": api.kworb_url,
            "SPOTIFY_CLIENT_ID": api.client_id, "SPOTIFY_CLIENT_SECRET": api.client_secret,
            "SPOTIFY_REQUESTS_PER_SECOND": "1000", "RECCOBEATS_API_BASE_URL": api.reccobeats_url,
            "MUSICBRAINZ_API_BASE_URL": api.musicbrainz_url}


def pipeline_env(stack, api) -> dict[str, str]:
    """What a person gets from ``eval "$(spotify-pipeline stack env)"`` plus the sample API's exports."""
    return {**os.environ, **stack.env, **api_env(api), "DATA_DIR": str(stack.settings.data_dir)}


def cli(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spotify_pipeline.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def bi(stack, stack_lake, tmp_path_factory):
    """A BI tool's JDBC session (the Trino JDBC driver of the server's version) against the stack's Trino."""
    from spotify_pipeline.stack.jdbc import driver_jar, jdbc_url
    from tests.stack.bi import BiClient

    return BiClient.build(driver_jar(stack.ctx), tmp_path_factory.mktemp("bi"), jdbc_url(stack.ctx))


class AirflowStack:
    """The five Airflow services on the session stack, crawling ``api``.

    Own run dir and logs under ``state`` (stopping them stops nothing else); the same ports, PostgreSQL,
    lake and metastore as ``make stack``. The session's other services stand in the table as done
    one-shots. ``CRAWL_SCHEDULE=none``: the crawl DAG has no weekly slot, so unpausing it (the trigger
    form's "unpause on trigger") adds no scheduled run beside the one a person clicks.
    """

    def __init__(self, stack, api, state: Path) -> None:
        import dataclasses

        from spotify_pipeline.stack.services import for_profile
        from spotify_pipeline.stack.supervisor import Supervisor

        self.stack = stack
        self.ctx = dataclasses.replace(stack.ctx, state=state, logs=state / "logs",
                                       env={**stack.ctx.env, **api_env(api), "CRAWL_SCHEDULE": "none"})
        others = [dataclasses.replace(s, oneshot=True, command=lambda ctx: [], install=None, init=None,
                                      post_start=None, depends_on=(), ports=())
                  for s in for_profile("full") if not s.name.startswith("airflow-")]
        self.supervisor = Supervisor(self.ctx, [*others, *(s for s in for_profile("full")
                                                          if s.name.startswith("airflow-"))], say=lambda line: None)

    def up(self) -> AirflowStack:
        self.stack.up(*PIPELINE_SERVICES)
        self.supervisor.up()
        return self

    def down(self) -> list[str]:
        return self.supervisor.down()

    def rest(self, password_suffix: str = ""):
        from spotify_pipeline.stack import airflow
        from tests.stack.airflow_rest import AirflowRest

        user, password = airflow.admin_login(self.ctx)
        return AirflowRest(airflow.api_url(self.ctx), user, password + password_suffix).login()


PIPELINE_SERVICES = ("postgres", "mongo", "hdfs-init", "spark-worker", "hive-metastore", "trino")


@pytest.fixture(scope="session")
def airflow_stack(stack, stack_api, tmp_path_factory) -> Iterator[AirflowStack]:
    af = AirflowStack(stack, stack_api, tmp_path_factory.mktemp("airflow-stack")).up()
    try:
        yield af
    finally:
        af.down()


@pytest.fixture(scope="session")
def ui_pipeline_run(stack, airflow_stack) -> dict:
    """The session's one pipeline run, started by one click in the Airflow UI (crawl, then ``Spotify_DAG``
    through the landing asset); carries both runs, the wall time and every table's fingerprint after it."""
    from tests.stack.airflow_ui import one_click_run
    from tests.stack.tables import table_fingerprints

    run = one_click_run(airflow_stack.ctx, limit=STACK_ARTISTS)
    assert run["crawl"]["state"] == "success" and run["spotify"] and run["spotify"]["state"] == "success", run
    print(f"UI-triggered run: crawl + Spotify_DAG succeeded in {run['wall_s']:.0f} s")
    run["tables"] = table_fingerprints(stack.ctx.port("trino"))
    return run


@pytest.fixture(scope="session")
def stack_lake(stack, stack_api, ui_pipeline_run) -> dict[str, str]:
    """The stack with every table built in HDFS and registered (by the UI-triggered run); the pipeline env."""
    return pipeline_env(stack, stack_api)
