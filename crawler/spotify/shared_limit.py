"""One rolling-window budget for every crawl process, kept in Redis.

Crawl shards run as separate Airflow tasks, on one machine or on several Celery workers. A limiter in
each process would multiply the budget by the number of shards, and dividing it up front wastes the
share of a shard that has finished or died. Here every process spends from one window: a Redis sorted
set of the window's call start times, checked and appended by one Lua script (atomic in Redis), on
Redis' own clock (``TIME``), so workers on machines whose clocks differ still share one window.

It has :class:`~crawler.spotify.rate_limit.RollingWindowLimiter`'s interface (``acquire``,
``pause_for``, ``pause_until``), so the client cannot tell them apart. A 429's ``Retry-After`` pauses
every process, not only the one that saw it. If Redis is unreachable ``acquire`` raises: the shard
fails and Airflow retries it, rather than crawl on an unknown budget.
"""

from __future__ import annotations

import hashlib
import itertools
import time
import uuid

from crawler.spotify.rate_limit import WindowBudget, window_for

# KEYS[1] the window's sorted set, KEYS[2] the pause deadline (µs, Redis time).
# ARGV[1] window (µs), ARGV[2] max calls, ARGV[3] a unique member. Returns µs to wait; 0 = recorded.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.floor(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)
"""
# KEYS[1] the pause deadline; ARGV[1] seconds from now (µs). Only ever moves the deadline later.
_PAUSE = """
local t = redis.call('TIME')
local deadline = tonumber(t[1]) * 1000000 + tonumber(t[2]) + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if deadline > current then
  redis.call('SET', KEYS[1], string.format('%d', deadline), 'PX', math.floor(tonumber(ARGV[1]) / 1000) + 1000)
end
return 0
"""


class SharedWindowLimiter(WindowBudget):
    """``max_calls`` per ``window_s`` across every process that names the same Redis and ``budget``."""

    def __init__(self, redis_client, budget: str, max_calls: int, window_s: float,
                 clock=time.monotonic, sleep=time.sleep) -> None:
        super().__init__(max_calls, window_s, clock, sleep)
        self._calls_key = f"spotify-platform:rate:{budget}:calls"
        self._pause_key = f"spotify-platform:rate:{budget}:paused"
        self._acquire = redis_client.register_script(_ACQUIRE)
        self._pause = redis_client.register_script(_PAUSE)
        self._member = f"{uuid.uuid4().hex}:{{}}"
        self._seq = itertools.count()

    @classmethod
    def per_second(cls, redis_client, budget: str, rate: float, **kwargs) -> SharedWindowLimiter:
        """The same window as the local limiter takes for ``rate`` (whole calls per window)."""
        return cls(redis_client, budget, *window_for(rate), **kwargs)

    def acquire(self) -> None:
        """Block until a call may start in the shared window, then record it there."""
        window_us = int(self.window_s * 1_000_000)
        while True:
            wait_us = int(self._acquire(keys=[self._calls_key, self._pause_key],
                                        args=[window_us, self.max_calls, self._member.format(next(self._seq))]))
            if wait_us <= 0:
                return
            self._sleep(max(wait_us / 1_000_000, 0.001))

    def pause_for(self, seconds: float) -> None:
        """Every process sharing the budget waits ``seconds`` (a 429's ``Retry-After``)."""
        if seconds > 0:
            self._pause(keys=[self._pause_key], args=[int(seconds * 1_000_000)])

    def pause_until(self, deadline: float) -> None:
        """``deadline`` on this process' clock (``time.monotonic``), as the local limiter takes it."""
        self.pause_for(deadline - self._clock())


def budget_name(source: str, client_id: str | None) -> str:
    """One budget per API app: Spotify's limit belongs to the client id, whichever machine calls."""
    app = hashlib.sha256((client_id or "anonymous").encode()).hexdigest()[:16]
    return f"{source}:{app}"


def shared_limiter(url: str, source: str, client_id: str | None, rate: float) -> SharedWindowLimiter:
    """The shared budget at ``url`` (``redis://host:port/db``) for ``rate`` calls a second."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10, health_check_interval=30)
    return SharedWindowLimiter.per_second(client, budget_name(source, client_id), rate)
