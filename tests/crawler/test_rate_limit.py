import threading

import pytest

from crawler.spotify.rate_limit import RollingWindowLimiter, SpacedLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.now += s


def test_never_more_than_max_calls_in_any_window() -> None:
    clock = FakeClock()
    limiter = RollingWindowLimiter(5, 1.0, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(23):
        limiter.acquire()
        stamps.append(clock.now)
    for i, t in enumerate(stamps):
        assert sum(1 for u in stamps if t <= u < t + 1.0) <= 5, i
    assert 4.0 <= stamps[-1] <= 4.01  # 23 calls at 5/s: the last starts after 4 full windows


def test_pause_stops_everyone_until_deadline() -> None:
    clock = FakeClock()
    limiter = RollingWindowLimiter(100, 1.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.pause_for(7.5)
    limiter.acquire()
    assert clock.now >= 7.5


def test_fractional_rate() -> None:
    limiter = RollingWindowLimiter.per_second(0.5)
    assert (limiter.max_calls, limiter.window_s) == (1, 2.0)


def test_fractional_rates_above_one_are_not_truncated() -> None:
    """Four Airflow shards sharing 10 calls/s get 2.5/s each, not 2 (8 in total)."""
    clock = FakeClock()
    limiter = RollingWindowLimiter.per_second(2.5, clock=clock, sleep=clock.sleep)
    assert limiter.max_calls / limiter.window_s == 2.5
    stamps = []
    while clock.now < 20.0:
        limiter.acquire()
        stamps.append(clock.now)
    assert 49 <= sum(1 for t in stamps if t < 20.0) <= 51  # 2.5/s over 20 s
    for rate in (10.0, 3.3, 0.25, 7.0 / 3, 1234.5):
        lim = RollingWindowLimiter.per_second(rate)
        assert abs(lim.max_calls / lim.window_s - rate) / rate < 0.01, rate


def test_spaced_limiter_counts_from_each_answer_and_lets_one_call_at_a_time() -> None:
    clock = FakeClock()
    limiter = SpacedLimiter(1.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()  # the first call starts at once
    assert clock.now == 0.0
    clock.sleep(0.3)  # its answer takes 0.3 s
    limiter.done()
    limiter.acquire()  # one second from the answer, not from the start
    assert clock.now == pytest.approx(1.3)
    limiter.pause_for(5.0)  # a 503's Retry-After, seen by the call under way
    limiter.done()
    limiter.acquire()
    assert clock.now == pytest.approx(6.3)
    limiter.done()
    second = threading.Thread(target=limiter.acquire)
    limiter.acquire()  # held until done(): another thread waits for it
    second.start()
    second.join(0.2)
    assert second.is_alive()
    limiter.done()
    second.join(5)
    assert not second.is_alive()
