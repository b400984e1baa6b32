"""The crawl's one rate budget across processes (crawler/spotify/shared_limit.py), on a real Redis.

Several processes stand for crawl shards on different Celery workers: together they must never
exceed the budget in any window, a 429 seen by one pauses all, and each API app has its own budget.
"""

from __future__ import annotations

import multiprocessing
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from crawler.spotify.shared_limit import SharedWindowLimiter, budget_name, shared_limiter

RATE = 20.0          # calls a second, the one budget
PROCESSES = 3
CALLS_EACH = 14      # 42 calls: more than two windows' worth, so the budget must hold them back


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    # Tests install nothing: `make test` runs scripts/test-prereqs.sh first.
    binary = shutil.which("redis-server")
    assert binary, "redis-server missing: run `make test-prereqs` (make test does)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def _spend(url: str, budget_client: str, calls: int, out, start) -> None:
    limiter = shared_limiter(url, "spotify", budget_client, RATE)
    start.wait(60)   # every process spends at once, as shards on several workers do
    for _ in range(calls):
        limiter.acquire()
        out.put(time.time())


def _max_in_window(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    best, lo = 0, 0
    for hi, t in enumerate(stamps):
        while stamps[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_processes_share_one_budget(redis_url):
    """Three processes at the full rate each still make RATE calls a second between them."""
    ctx = multiprocessing.get_context("spawn")
    out, start = ctx.Queue(), ctx.Barrier(PROCESSES)
    procs = [ctx.Process(target=_spend, args=(redis_url, "app-shared", CALLS_EACH, out, start))
             for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    stamps = [out.get(timeout=60) for _ in range(PROCESSES * CALLS_EACH)]
    for p in procs:
        p.join(30)
    window = 1.0  # 20/s -> 20 calls a 1 s window
    # a small tolerance for the gap between Redis recording a call and the process stamping it
    assert _max_in_window(stamps, window - 0.05) <= RATE
    # three separate limiters would have finished in well under a second; one budget takes > 2 windows
    assert max(stamps) - min(stamps) >= 2 * window - 0.1


def test_a_pause_stops_every_process(redis_url):
    """A 429's Retry-After, seen by one shard, holds back the others too."""
    a = shared_limiter(redis_url, "spotify", "app-pause", RATE)
    b = shared_limiter(redis_url, "spotify", "app-pause", RATE)
    a.pause_for(0.8)
    started = time.monotonic()
    b.acquire()
    assert time.monotonic() - started >= 0.7


def test_each_app_has_its_own_budget(redis_url):
    """Another client id's calls do not spend this app's window."""
    first = shared_limiter(redis_url, "spotify", "app-one", RATE)
    other = shared_limiter(redis_url, "spotify", "app-two", RATE)
    for _ in range(int(RATE)):
        first.acquire()
    started = time.monotonic()
    other.acquire()
    assert time.monotonic() - started < 0.2
    assert budget_name("spotify", "app-one") != budget_name("spotify", "app-two")


def test_the_crawl_builds_the_shared_limiter(redis_url, make_settings):
    """CRAWL_RATE_STORE_URL wires it into the Spotify client the crawl uses."""
    from crawler.factory import spotify_limiter

    settings = make_settings(spotify_client_id="id", spotify_client_secret="secret")
    assert spotify_limiter(settings) is None
    assert isinstance(spotify_limiter(settings.replace(crawl_rate_store_url=redis_url)), SharedWindowLimiter)


class _Stop(Exception):
    pass


@pytest.mark.parametrize(("store_url", "rate"), [("", 2.5), ("redis://127.0.0.1:1/0", 10.0)])
def test_a_shard_takes_the_whole_rate_only_when_it_is_shared(monkeypatch, make_settings, store_url, rate):
    """Four shards at 10/s: 2.5/s each on their own, the full 10/s from the one shared window."""
    from spotify_pipeline import tasks

    seen = {}

    def capture(settings, *args, **kwargs):
        seen["rate"] = settings.spotify_requests_per_second
        raise _Stop

    monkeypatch.setattr("crawler.crawl_job.build_crawler", capture)
    settings = make_settings(spotify_requests_per_second=10.0, crawl_rate_store_url=store_url)
    settings.data_dir.mkdir(parents=True)
    shard = settings.data_dir / "artists.000.txt"
    shard.write_text("")
    with pytest.raises(_Stop):
        tasks.crawl_shard(str(shard), 4, 2, "run", settings=settings)
    assert seen["rate"] == rate
