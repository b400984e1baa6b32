"""Fixtures of the stack tests that need data: one sample API and one pipeline run per session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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
            "SPOTIFY_REQUESTS_PER_SECOND": "1000"}


def pipeline_env(stack, api) -> dict[str, str]:
    """What a person gets from ``eval "$(spotify-pipeline stack env)"`` plus the sample API's exports."""
    return {**os.environ, **stack.env, **api_env(api), "DATA_DIR": str(stack.settings.data_dir)}


def cli(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spotify_pipeline.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


def run_pipeline(env: dict[str, str], workdir: Path) -> None:
    """kworb -> crawl -> export -> transform -> register through the command line, on the stack."""
    artists = workdir / "artists.txt"
    for step in (("kworb", "--out", str(artists), "--limit", str(STACK_ARTISTS)), ("crawl", "--artists", str(artists)),
                 ("export",), ("transform", "--layer", "all"), ("register",)):
        proc = cli(env, *step)
        assert proc.returncode == 0, f"{step[0]}: {proc.stderr[-3000:]}"


@pytest.fixture(scope="session")
def stack_lake(stack, stack_api, tmp_path_factory) -> dict[str, str]:
    """The stack with every table built in HDFS and registered in the metastore; returns the pipeline env."""
    stack.up("mongo", "hdfs-init", "spark-worker", "hive-metastore", "trino")
    env = pipeline_env(stack, stack_api)
    run_pipeline(env, tmp_path_factory.mktemp("pipeline"))
    return env


@pytest.fixture(scope="session")
def bi(stack, stack_lake, tmp_path_factory):
    """A BI tool's JDBC session (the Trino JDBC driver of the server's version) against the stack's Trino."""
    from spotify_pipeline.stack.jdbc import driver_jar, jdbc_url
    from tests.stack.bi import BiClient

    return BiClient.build(driver_jar(stack.ctx), tmp_path_factory.mktemp("bi"), jdbc_url(stack.ctx))


@contextmanager
def airflow_services(stack, api, state: Path) -> Iterator:
    """The five Airflow services on the session stack, crawling ``api``; all stopped when the block ends.

    Own run dir and logs under ``state`` (stopping them stops nothing else); the same ports, PostgreSQL,
    lake and metastore as ``make stack``. The session's other services stand in the table as done one-shots.
    """
    import dataclasses

    from spotify_pipeline.stack.services import for_profile
    from spotify_pipeline.stack.supervisor import Supervisor

    stack.up("postgres", "mongo", "hdfs-init", "spark-worker", "hive-metastore", "trino")
    ctx = dataclasses.replace(stack.ctx, state=state, logs=state / "logs", env={**stack.ctx.env, **api_env(api)})
    others = [dataclasses.replace(s, oneshot=True, command=lambda ctx: [], install=None, init=None, post_start=None,
                                  depends_on=(), ports=())
              for s in for_profile("full") if not s.name.startswith("airflow-")]
    sup = Supervisor(ctx, [*others, *(s for s in for_profile("full") if s.name.startswith("airflow-"))],
                     say=lambda line: None)
    try:
        sup.up()
        yield ctx
    finally:
        sup.down()
