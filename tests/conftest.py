"""Shared fixtures: a sample API per test module, settings pointed at it, one Spark session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spotify_pipeline.settings import Settings, load_settings


@pytest.fixture
def make_settings(tmp_path: Path):
    """Settings with DATA_DIR in tmp_path, optionally pointed at a running sample API."""

    def make(api=None, **changes: object) -> Settings:
        settings = load_settings({"DATA_DIR": str(tmp_path / "data")})
        if api is not None:
            settings = settings.replace(
                spotify_api_base_url=api.api_url, spotify_token_url=api.token_url, kworb_base_url=api.kworb_url,
                spotify_client_id=api.client_id, spotify_client_secret=api.client_secret,
                spotify_requests_per_second=1000.0,
                # The sample's ReccoBeats and MusicBrainz: tests never call the real services.
                reccobeats_api_base_url=api.reccobeats_url, musicbrainz_api_base_url=api.musicbrainz_url,
            )
        return settings.replace(**changes) if changes else settings

    return make


@pytest.fixture(scope="session")
def spark(tmp_path_factory) -> Iterator:
    """One local Spark session for the whole run (start-up costs ~10 s)."""
    from pyspark.sql import SparkSession

    from spotify_pipeline.settings import python_workers_use_this_interpreter

    python_workers_use_this_interpreter()
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (SparkSession.builder.master("local[2]").appName("tests")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.warehouse.dir", str(warehouse))
               .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def stack():
    """The real local stack, shared by the session: ``stack.up("mongo", ...)`` starts what a test needs.

    Ports at STACK_PORT_OFFSET=1000, state in a temporary folder, downloads in the shared cache;
    every process it started is stopped at the end, also on failure.
    """
    import shutil
    import signal
    import tempfile

    from tests.stack.harness import StackHandle

    # Not under pytest's 0700 basetemp: PostgreSQL runs as the `postgres` user and must reach its folder.
    root = Path(tempfile.mkdtemp(prefix="spotify-stack-test-"))
    root.chmod(0o755)
    handle = StackHandle(root)

    def interrupted(signum, frame):  # a CI runner's SIGTERM still stops the stack (teardown below)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupted)
    try:
        yield handle
    finally:
        handle.down()
        shutil.rmtree(root, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)
