"""Shared fixtures (settings, one Spark session, the sample lake, the stack) and the test tiers.

Tiers (markers registered in pyproject.toml), given here from what a test needs unless its module
marks one itself: ``system`` needs services (the stack, Docker, an Airflow DAG run); ``contract``
checks an external contract or runs the pipeline in one process (the command line, the DAG files,
anything on the Spark session); ``unit`` needs neither. ``make test-fast`` runs ``not system``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spotify_pipeline.settings import Settings, load_settings

TIERS = ("unit", "contract", "system")
SYSTEM_FOLDERS = ("stack",)  # tests/stack: the Compose stack and the local-process stack
CONTRACT_FOLDERS = ("dags",)  # tests/dags: the DAG files as Airflow parses them


def tier_of(item: pytest.Item) -> str:
    """The tier a test belongs to, from what it needs (see the module docstring)."""
    parts = Path(str(item.path)).relative_to(Path(__file__).parent).parts
    folder = parts[0] if len(parts) > 1 else ""
    fixtures = set(getattr(item, "fixturenames", ()))
    if folder in SYSTEM_FOLDERS or "stack" in fixtures or item.get_closest_marker("airflow"):
        return "system"
    if (folder in CONTRACT_FOLDERS or "spark" in fixtures or item.get_closest_marker("spark")
            or "contract" in item.path.name):
        return "contract"
    return "unit"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not any(item.get_closest_marker(tier) for tier in TIERS):
            item.add_marker(getattr(pytest.mark, tier_of(item)))


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
def sample_lake(spark, tmp_path_factory):
    """The sample catalog crawled, exported and built through every layer, once per session
    (tests/helpers/sample_lake.py). Tests that change it work on a copy, except the rerun check."""
    from tests.helpers.sample_lake import build_sample_lake

    return build_sample_lake(tmp_path_factory.mktemp("sample-lake"))


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
