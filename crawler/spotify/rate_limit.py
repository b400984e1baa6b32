"""One rolling-window limiter shared by every crawler thread.

Spotify rate-limits over a rolling window, so a token bucket that allows bursts above the
window's budget would earn 429s. ``pause_until`` lets a 429's ``Retry-After`` stop all threads,
not just the one that saw it.
"""

from __future__ import annotations

import threading
import time
from collections import deque


def window_for(rate: float) -> tuple[int, float]:
    """(calls, window in seconds) for ``rate`` calls per second, fractions kept (four Airflow shards at
    10/s get 2.5/s each).

    The shortest window of at most 10 s in which ``rate`` allows a whole number of calls: 2.5/s is
    5 calls per 2 s, 0.5/s one call per 2 s; a rate with no such window gets 10 s and rounds down by
    less than 1%.
    """
    if rate <= 0:
        raise ValueError("a limiter needs a positive rate")
    for window in range(1, 11):
        calls = rate * window
        if calls >= 1 and abs(calls - round(calls)) < 1e-9:
            return round(calls), float(window)
    if rate < 1:
        return 1, 1.0 / rate
    return int(rate * 10), 10.0


class WindowBudget:
    """``max_calls`` per rolling ``window_s``, on an injectable clock and sleep: what the local limiter
    and the shared one (``shared_limit.py``) have in common."""

    def __init__(self, max_calls: int, window_s: float, clock=time.monotonic, sleep=time.sleep) -> None:
        if max_calls < 1 or window_s <= 0:
            raise ValueError("a limiter needs max_calls >= 1 and window_s > 0")
        self.max_calls = max_calls
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep

    def done(self) -> None:
        """A call that ``acquire`` let start has its answer (or failed): the window counts starts only."""


class RollingWindowLimiter(WindowBudget):
    def __init__(self, max_calls: int, window_s: float, clock=time.monotonic, sleep=time.sleep) -> None:
        super().__init__(max_calls, window_s, clock, sleep)
        self._calls: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    @classmethod
    def per_second(cls, rate: float, **kwargs) -> RollingWindowLimiter:
        """``rate`` calls per second (:func:`window_for`)."""
        return cls(*window_for(rate), **kwargs)

    def acquire(self) -> None:
        """Block until a call may start, then record it."""
        while True:
            with self._lock:
                now = self._clock()
                wait = self._paused_until - now
                if wait <= 0:
                    while self._calls and self._calls[0] <= now - self.window_s:
                        self._calls.popleft()
                    if len(self._calls) < self.max_calls:
                        self._calls.append(now)
                        return
                    wait = self._calls[0] + self.window_s - now
            self._sleep(max(wait, 0.001))

    def pause_until(self, deadline: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, deadline)

    def pause_for(self, seconds: float) -> None:
        self.pause_until(self._clock() + seconds)


class SpacedLimiter:
    """One call at a time, each starting ``interval_s`` after the previous one's answer arrived.

    For a service that measures the gap between requests as they arrive (MusicBrainz: a second).
    Spacing the starts is not enough: a thread descheduled between the limiter and its socket
    presented starts 1.1 s apart 0.89 s apart at the server, under load. Counted from the answer,
    a request cannot arrive sooner than ``interval_s`` after the previous one did.
    """

    def __init__(self, interval_s: float, clock=time.monotonic, sleep=time.sleep) -> None:
        if interval_s <= 0:
            raise ValueError("a limiter needs interval_s > 0")
        self.interval_s = interval_s
        self._clock = clock
        self._sleep = sleep
        self._turn = threading.Lock()  # held from acquire() to done(): one call at a time
        self._state = threading.Lock()
        self._ready_at = 0.0

    def acquire(self) -> None:
        """Block until no call is under way and ``interval_s`` has passed since the last answer."""
        self._turn.acquire()
        while (wait := self._until_ready()) > 0:
            self._sleep(wait)

    def done(self) -> None:
        """The call has its answer (or failed): the next may start ``interval_s`` from now."""
        self.pause_for(self.interval_s)
        self._turn.release()

    def _until_ready(self) -> float:
        with self._state:
            return self._ready_at - self._clock()

    def pause_until(self, deadline: float) -> None:
        with self._state:
            self._ready_at = max(self._ready_at, deadline)

    def pause_for(self, seconds: float) -> None:
        self.pause_until(self._clock() + seconds)
