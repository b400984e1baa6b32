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
# A tiny catalog: the stack tests are about the services, not the volume (3 artists ~ 700 tracks).
STACK_ARTISTS = 3


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
def stack_with_api(stack, stack_api):
    """The session stack whose services started from now on (Airflow) crawl the session's sample API."""
    return stack.add_env(api_env(stack_api))


@pytest.fixture(scope="session")
def stack_lake(stack_with_api, stack_api, tmp_path_factory) -> dict[str, str]:
    """The stack with every table built in HDFS and registered in the metastore; returns the pipeline env."""
    stack = stack_with_api
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
