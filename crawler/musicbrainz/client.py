"""MusicBrainz web service client: one request per second per process, a meaningful User-Agent.

MusicBrainz answers 503 to a client that asks more than once per second and blocks (403) one
without a User-Agent naming the application and a contact (``app/version ( contact )``). So:

* one limiter per MusicBrainz host is shared by every thread and every client object of the
  process (:func:`shared_limiter`): request starts are at least ``MIN_INTERVAL_S`` apart;
* every request carries ``MUSICBRAINZ_USER_AGENT``;
* 503/429 pause all threads for the capped ``Retry-After`` (else a backoff); other 5xx,
  timeouts and dropped connections are retried with backoff (:mod:`crawler.http.retry`); other
  4xx fail at once. Every failure is one line (:class:`MusicBrainzError`, an ``ApiError``, so
  a crawl treats it like any failed API call: that batch's genres stay missing, the run goes on);
* a 403 (User-Agent refused) or a dead server (``UNREACHABLE_AFTER`` calls in a row without any
  answer) fails every later call at once instead of waiting out retries per batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from crawler.http.pool import SharedPool
from crawler.http.retry import TRANSPORT_ERRORS, Outcome, RetryPolicy, classify
from crawler.spotify.client import ApiError
from crawler.spotify.rate_limit import RollingWindowLimiter
from spotify_pipeline.settings import Settings

log = logging.getLogger(__name__)

# MusicBrainz allows one request per second; 100 ms more keeps jitter (a thread descheduled between
# the limiter and the socket, a new connection) from presenting two requests less than a second
# apart at the server.
MIN_INTERVAL_S = 1.1
TIMEOUT_S = 30.0
UNREACHABLE_AFTER = 3

_limiters: dict[tuple[str, float], RollingWindowLimiter] = {}
_limiters_lock = threading.Lock()


def shared_limiter(base_url: str, interval_s: float = MIN_INTERVAL_S) -> RollingWindowLimiter:
    """The process-wide limiter of a MusicBrainz host (one request per ``interval_s``).

    Parallel crawl shards are separate processes: each gets ``interval_s`` times the number of
    shards running at once (``spotify_pipeline.tasks``), so together they stay within the rate.
    """
    host = urlsplit(base_url).netloc.lower()
    with _limiters_lock:
        limiter = _limiters.get((host, interval_s))
        if limiter is None:
            limiter = _limiters[(host, interval_s)] = RollingWindowLimiter(1, interval_s)
        return limiter


class MusicBrainzError(ApiError):
    """A MusicBrainz call that failed for good (fatal answer or retries exhausted), in one line."""

    def __init__(self, status: int | None, endpoint: str, message: str) -> None:
        super().__init__(status, f"musicbrainz {endpoint}", message)


def endpoint_key(path: str) -> str:
    """Counter key of a call: ``url``, ``artist?query``, ``artist/{mbid}``, ``genre/all``."""
    path = path.strip("/")
    if path == "artist":
        return "artist?query"
    if path.startswith("artist/"):
        return "artist/{mbid}"
    return path


class MusicBrainzClient:
    """Thread-safe: each thread uses its own session on a shared pool; calls are serialized by the limiter."""

    def __init__(self, base_url: str, user_agent: str, *, timeout_s: float = TIMEOUT_S,
                 policy: RetryPolicy | None = None, limiter: RollingWindowLimiter | None = None,
                 pool: SharedPool | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.user_agent = user_agent.strip()
        self.timeout = timeout_s
        self.policy = policy or RetryPolicy(max_retries=6, max_retry_after_s=60.0)
        self.limiter = limiter or shared_limiter(self.base_url)
        self.pool = pool or SharedPool(max_connections=4)
        self.calls: Counter[str] = Counter()  # requests sent, by endpoint (retries included)
        self.answers: Counter[str] = Counter()  # calls answered (retries not counted), by endpoint
        self.events: Counter[str] = Counter()  # 503s, retries, give-ups
        self._lock = threading.Lock()
        self._silent_give_ups = 0
        self._broken: MusicBrainzError | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> MusicBrainzClient:
        return cls(settings.musicbrainz_api_base_url, settings.musicbrainz_user_agent,
                   limiter=shared_limiter(settings.musicbrainz_api_base_url, settings.musicbrainz_min_interval_s))

    def _count(self, counter: Counter[str], key: str) -> None:
        with self._lock:
            counter[key] += 1

    def total_calls(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def get(self, path: str, params: list[tuple[str, str]] | dict[str, str], *, text: bool = False,
            missing_ok: bool = False) -> Any:
        """GET ``{base}/{path}``: parsed JSON (or the body text), None for a 404 when ``missing_ok``."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        key = endpoint_key(path)
        headers = {"User-Agent": self.user_agent, "Accept": "text/plain" if text else "application/json"}
        attempt = 0
        while True:
            if self._broken is not None:
                raise self._broken
            self.limiter.acquire()
            self._count(self.calls, key)
            resp = None
            try:
                resp = self.pool.session().get(url, params=params, headers=headers, timeout=self.timeout)
            except TRANSPORT_ERRORS as exc:
                reason = type(exc).__name__
            if resp is not None:
                with self._lock:
                    self._silent_give_ups = 0
                status = resp.status_code
                outcome = classify(status)
                if outcome is Outcome.OK:
                    try:
                        body = resp.text if text else resp.json()
                    except ValueError:
                        reason = "invalid JSON"
                    else:
                        self._count(self.answers, key)
                        return body
                elif status == 404 and missing_ok:
                    self._count(self.answers, key)
                    return None
                elif status in (429, 503):
                    # MusicBrainz's "slow down" (or "busy"): everyone waits, then this call retries.
                    self._count(self.events, str(status))
                    self.limiter.pause_for(self.policy.rate_limit_wait(resp, default=self.policy.backoff(attempt + 1)))
                    reason = f"HTTP {status}"
                elif outcome is Outcome.RETRIABLE:
                    reason = f"HTTP {status}"
                else:
                    error = MusicBrainzError(status, key, _error_message(resp))
                    if status == 403:
                        error = MusicBrainzError(403, key, f"refused the User-Agent {self.user_agent!r} "
                                                 "(set MUSICBRAINZ_USER_AGENT to 'app/version ( contact )')")
                        self._broken = error
                    raise error
            attempt += 1
            self._count(self.events, "retry")
            if self.policy.gives_up(attempt):
                self._count(self.events, "gave_up")
                if resp is None:
                    self._note_silent_give_up(reason)
                raise MusicBrainzError(None if resp is None else resp.status_code, key,
                                       f"gave up after {attempt} attempts ({reason})")
            if resp is None or resp.status_code not in (429, 503):
                delay = self.policy.backoff(attempt)
                log.debug("musicbrainz %s: %s, retry %d in %.2fs", key, reason, attempt, delay)
                time.sleep(delay)

    def _note_silent_give_up(self, reason: str) -> None:
        with self._lock:
            self._silent_give_ups += 1
            if self._silent_give_ups >= UNREACHABLE_AFTER and self._broken is None:
                self._broken = MusicBrainzError(None, "service", f"unreachable at {self.base_url}: "
                                                f"{self._silent_give_ups} calls in a row got no answer ({reason})")

    # -- the calls the genre source makes -----------------------------------------------------
    def lookup_urls(self, resources: list[str]) -> Any:
        """``url?resource=...&inc=artist-rels`` for up to 100 URLs (a lone unknown URL: None)."""
        params = [("resource", r) for r in resources] + [("inc", "artist-rels"), ("fmt", "json")]
        return self.get("url", params, missing_ok=True)

    def search_artists(self, query: str, limit: int = 100, offset: int = 0) -> Any:
        return self.get("artist", {"query": query, "limit": str(limit), "offset": str(offset), "fmt": "json"})

    def artist(self, mbid: str, inc: str = "genres") -> Any:
        return self.get(f"artist/{mbid}", {"inc": inc, "fmt": "json"}, missing_ok=True)

    def genre_list_text(self) -> str:
        """Every genre name in one call (``genre/all?fmt=txt``)."""
        return self.get("genre/all", {"fmt": "txt"}, text=True)

    def genre_list_page(self, offset: int, limit: int = 100) -> Any:
        return self.get("genre/all", {"limit": str(limit), "offset": str(offset), "fmt": "json"})


def _error_message(resp: Any) -> str:
    try:
        body = resp.json()
    except ValueError:
        return " ".join(resp.text.split())[:160]
    err = body.get("error") if isinstance(body, dict) else None
    return " ".join(str(err or "").split())[:160]
