"""Shared fixtures (settings, one Spark session, the sample lake, the stack) and the test tiers.

Tiers (markers registered in pyproject.toml), given here from what a test needs unless its module
marks one itself: ``system`` needs services (the stack, Docker, an Airflow DAG run); ``contract``
checks an external contract or runs the pipeline in one process (the command line, the DAG files,
anything on the Spark session); ``unit`` needs neither. ``make test-fast`` runs ``not system``.

Marked ``system`` by their module although they need no service, as genuinely end to end:
tests/analytics/test_dashboard.py (starts the Streamlit server as the stack's ``dashboard`` service
does and drives it in headless Chromium: a browser against a server, like tests/stack/test_ui_browser.py).

``make test-fast`` runs on one xdist worker more than cores with ``--dist loadfile``: a module's tests share
a worker, so its module fixtures (test_history's lake, test_kill_resume's clean crawls) are built once;
each worker starts its own Spark session, and ``sample_lake`` is built once for the whole session: the
first worker that needs it builds it under a file lock, the others read it. (``--dist loadgroup``
with ``xdist_group`` markers would keep a module's fixtures on one worker, but xdist 3.8 marks a group
by rewriting ``item._nodeid``, which pytest 9 no longer reads: the groups are ignored.) ``make test``
runs the same, then the ``system`` tier in one process (one Compose stack per session).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from spotify_core.settings import Settings, load_settings
from spotify_pipeline.demo import DEMO_JVM_OPTIONS
from tests.helpers.quick_musicbrainz import QUICK_MUSICBRAINZ_CLIENT_S, quick_musicbrainz

# Test-sized Spark jobs end before the JIT's C2 tier pays off, as the demo's do: every driver JVM the
# suite starts (the session below, the CLI's subprocesses) compiles with C1 alone, unless the caller chose.
os.environ.setdefault("SPARK_SUBMIT_OPTS", DEMO_JVM_OPTIONS)

TIERS = ("unit", "contract", "system")
SYSTEM_FOLDERS = ("stack",)  # tests/stack: the Compose stacks (the session's cluster, the single-node one)
CONTRACT_FOLDERS = ("dags",)  # tests/dags: the DAG files as Airflow parses them


# The order xdist hands out modules in (make test-fast passes --no-loadscope-reorder): these first, then the
# others with the most tests first (xdist's own order). The sample lake's builder first: the modules that
# read the lake wait for it, and it uses the cores the first modules (crawls paced by their sample API,
# timeouts) leave idle. Then the command-line contract, long with few tests: last, as xdist would place it,
# it ran alone at the end.
STARTED_FIRST = ("tests/spark/test_pipeline.py", "tests/core/test_cli_contract.py")


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


def uses_the_stack(item: pytest.Item) -> bool:
    """The test needs the session's Compose stack (``fixturenames`` holds every fixture it depends on)."""
    return item.get_closest_marker("stack") is not None or "stack" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not any(item.get_closest_marker(tier) for tier in TIERS):
            item.add_marker(getattr(pytest.mark, tier_of(item)))
    # The session's Compose stack stays up from its first user to the end of the run: everything else
    # runs before it (timing-sensitive crawler and Spark tests on a quiet machine, the single-node stack's
    # own start-and-query test), its users last.
    sizes = Counter(str(item.path) for item in items)

    def order(item: pytest.Item) -> tuple[int, int, int]:
        tier = 2 if uses_the_stack(item) else 1 if item.get_closest_marker("system") else 0
        return (tier, _started_first(item), -sizes[str(item.path)]) if tier == 0 else (tier, 0, 0)

    items.sort(key=order)  # stable: a module's tests, and the system tiers' modules, keep their order


def _started_first(item: pytest.Item) -> int:
    path = Path(str(item.path)).relative_to(Path(__file__).parent.parent).as_posix()
    return STARTED_FIRST.index(path) if path in STARTED_FIRST else len(STARTED_FIRST)


@pytest.fixture
def make_settings(tmp_path: Path):
    """Settings with DATA_DIR in tmp_path, optionally pointed at a running sample API.

    Pointed at a sample API, the crawl runs at full speed: no Spotify or ReccoBeats rate (the sample
    enforces none unless a test configures one) and a quick MusicBrainz (``quick_musicbrainz``); a test
    about a rate passes its own value.
    """

    def make(api=None, **changes: object) -> Settings:
        settings = load_settings({"DATA_DIR": str(tmp_path / "data")})
        if api is not None:
            quick_musicbrainz(api)
            settings = settings.replace(
                spotify_api_base_url=api.api_url, spotify_token_url=api.token_url, kworb_base_url=api.kworb_url,
                spotify_client_id=api.client_id, spotify_client_secret=api.client_secret,
                spotify_requests_per_second=1000.0, reccobeats_requests_per_second=1000.0,
                musicbrainz_min_interval_s=QUICK_MUSICBRAINZ_CLIENT_S,
                # The sample's ReccoBeats and MusicBrainz: tests never call the real services.
                reccobeats_api_base_url=api.reccobeats_url, musicbrainz_api_base_url=api.musicbrainz_url,
            )
        return settings.replace(**changes) if changes else settings

    return make


@pytest.fixture(scope="session")
def spark(tmp_path_factory) -> Iterator:
    """One local Spark session for the whole run (start-up costs ~10 s), its driver started from the
    installation's class archive as every session of the pipeline is (spark_jobs/class_archive.py)."""
    from pyspark.sql import SparkSession

    from spark_jobs import class_archive
    from spotify_core.settings import python_workers_use_this_interpreter

    python_workers_use_this_interpreter()
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    submit_opts = os.environ.get("SPARK_SUBMIT_OPTS")
    class_archive.use_in_this_process(load_settings({}))  # read by the gateway's spark-submit, only at start
    try:
        session = (SparkSession.builder.master("local[2]").appName("tests")
                   .config("spark.sql.shuffle.partitions", "2")
                   # The suite builds the same plans again and again (each lake fixture, every rebuild and
                   # check): with room for all of them in the generated-code cache (100 by default), a
                   # repeated plan skips its Java compile (tests/spark serially: 84 -> 76 s).
                   .config("spark.sql.codegen.cache.maxEntries", "2000")
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.warehouse.dir", str(warehouse))
                   .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
                   .getOrCreate())
    finally:  # the tests' own subprocesses start with the environment they were given
        if submit_opts is None:
            os.environ.pop("SPARK_SUBMIT_OPTS", None)
        else:
            os.environ["SPARK_SUBMIT_OPTS"] = submit_opts
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_lake(request, tmp_path_factory):
    """The sample catalog crawled, exported and built through every layer, once per session, also across
    xdist workers (tests/helpers/sample_lake.py). It is shared: tests that change it work on a copy."""
    from tests.helpers.sample_lake import shared_sample_lake

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # each worker's basetemp is a folder of the session's
        root = root.parent
    return shared_sample_lake(root, lambda: request.getfixturevalue("spark"))


@contextmanager
def outside_the_test_timeout() -> Iterator[None]:
    """Pause pytest-timeout's alarm (its signal method) for the block: the session's stack start is not the
    cost of whichever test asks for the stack first."""
    import signal

    remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        yield
    finally:
        if remaining:
            signal.setitimer(signal.ITIMER_REAL, remaining)


# A tiny catalog for the stack's sample API: the stack tests are about the services, not the volume
# (4 artists, ~900 tracks; with 3 the sample API's kworb listeners page has no rows and `kworb` stops).
STACK_ARTISTS = 4
STACK_RATE = 10


@pytest.fixture(scope="session")
def stack_api() -> Iterator:
    """The session stack's Spotify, kworb, ReccoBeats and MusicBrainz: the sample API on every interface of
    the host, so the containers reach it as ``host.docker.internal`` (tests on the host use 127.0.0.1)."""
    from sample_api.server import make_server

    api = make_server(STACK_ARTISTS, 11, host="0.0.0.0").start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture(scope="session")
def stack(stack_api, tmp_path_factory) -> Iterator:
    """The Compose stack of the session, shared by every stack test: the cluster profile (3 DataNodes,
    2 Spark workers, a Trino coordinator with 2 workers, Airflow on Celery with 2 workers), built from the
    project's images, brought up once from empty volumes (``docker compose up -d --build --wait``), its
    sources the session's sample API, and taken down with its volumes at the end, also on failure or SIGTERM.

    Where Docker cannot be had, the tests that use it are skipped with one line (under CI=true: failed).
    """
    import urllib.parse

    from tests.helpers.compose_teardown import torn_down
    from tests.stack.compose_harness import ComposeStack, docker_ready, skip_or_fail

    reason = docker_ready()
    if reason:
        skip_or_fail(reason)
    base = f"http://host.docker.internal:{urllib.parse.urlsplit(stack_api.api_url).port}"
    handle = ComposeStack({
        "SPOTIFY_API_BASE_URL": f"{base}/v1", "SPOTIFY_TOKEN_URL": f"{base}/api/token",
        "KWORB_BASE_URL": f"{base}/kworb", "SPOTIFY_CLIENT_ID": stack_api.client_id,
        # one budget of 10 calls a second for every crawl shard (Redis): the crawl runs long enough for the
        # Airflow-worker drill to kill a shard mid-way (tests/stack/test_node_loss.py)
        "SPOTIFY_CLIENT_SECRET": stack_api.client_secret, "SPOTIFY_REQUESTS_PER_SECOND": str(STACK_RATE),
        "RECCOBEATS_API_BASE_URL": f"{base}/reccobeats/v1", "MUSICBRAINZ_API_BASE_URL": f"{base}/musicbrainz/ws/2",
        # features and genres from the sample's Spotify endpoints: one source answers everything
        "AUDIO_FEATURES_SOURCE": "spotify", "GENRES_SOURCE": "spotify",
        # no weekly slot: unpausing the crawl DAG (the trigger form offers it) adds no run beside the click
        "CRAWL_SCHEDULE": "none",
        # a tiny catalog: each step's fresh executors would spend more on C2 compiles than on the data
        # (gold 60 -> 31 s, silver 115 -> 72 s on this stack; docs/performance.md)
        "SPARK_EXECUTOR_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    }, data_dir=tmp_path_factory.mktemp("stack-data"))

    with torn_down(handle, "compose-stack.log"):
        with outside_the_test_timeout():   # bounded by its own UP_TIMEOUT_S (a cold build of every image)
            handle.down(volumes=True)      # every volume new: the fresh state a user's first `up` has
            handle.up()
        yield handle
