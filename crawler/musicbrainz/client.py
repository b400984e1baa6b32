"""MusicBrainz web service client: one request per second per process, a meaningful User-Agent.

MusicBrainz answers 503 to a client that asks more than once per second and blocks (403) one
without a User-Agent naming the application and a contact (``app/version ( contact )``). So:

* one limiter per MusicBrainz host is shared by every thread and every client object of the
  process (:func:`shared_limiter`): one request at a time, each ``MIN_INTERVAL_S`` after the
  previous one's answer, so no two arrive closer than that however the threads are scheduled;
* every request carries ``MUSICBRAINZ_USER_AGENT``;
* 503/429 pause all threads for the capped ``Retry-After`` (else a backoff); other 5xx,
  timeouts and dropped connections are retried with backoff (the crawler's one retrying GET,
  :mod:`crawler.http.get`); other
  4xx fail at once. Every failure is one line (:class:`MusicBrainzError`, an ``ApiError``, so
  a crawl treats it like any failed API call: that batch's genres stay missing, the run goes on);
* a 403 (User-Agent refused) or a dead server (``UNREACHABLE_AFTER`` calls in a row without any
  answer) fails every later call at once instead of waiting out retries per batch.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import requests

from crawler.http.get import Limiter, RetryingGet, json_body
from crawler.http.pool import SharedPool
from crawler.http.retry import RetryPolicy
from crawler.spotify.client import ApiError
from crawler.spotify.rate_limit import SpacedLimiter
from spotify_core.settings import Settings

# MusicBrainz allows one request per second, counted as they arrive: the limiter counts from each answer.
MIN_INTERVAL_S = 1.0
TIMEOUT_S = 30.0

_limiters: dict[tuple[str, float], SpacedLimiter] = {}
_limiters_lock = threading.Lock()


def shared_limiter(base_url: str, interval_s: float = MIN_INTERVAL_S) -> SpacedLimiter:
    """The process-wide limiter of a MusicBrainz host (one request per ``interval_s``).

    Parallel crawl shards are separate processes: each gets ``interval_s`` times the number of
    shards running at once (``spotify_pipeline.tasks``), so together they stay within the rate.
    """
    host = urlsplit(base_url).netloc.lower()
    with _limiters_lock:
        limiter = _limiters.get((host, interval_s))
        if limiter is None:
            limiter = _limiters[(host, interval_s)] = SpacedLimiter(interval_s)
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
                 policy: RetryPolicy | None = None, limiter: Limiter | None = None,
                 pool: SharedPool | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.user_agent = user_agent.strip()
        self.policy = policy or RetryPolicy(max_retries=6, max_retry_after_s=60.0)
        self.limiter = limiter or shared_limiter(self.base_url)
        self._broken: MusicBrainzError | None = None
        self.http = RetryingGet(self.limiter, self.policy, timeout_s, MusicBrainzError,
                                pool=pool or SharedPool(max_connections=4), slow_down=frozenset({429, 503}),
                                guard=self._raise_if_broken, on_fatal=self._refused,
                                on_unreachable=self._unreachable, give_up_status=True)
        self.pool = self.http.pool
        self.calls: Counter[str] = self.http.calls  # requests sent, by endpoint (retries included)
        self.answers: Counter[str] = self.http.answers  # calls answered (retries not counted), by endpoint
        self.events: Counter[str] = self.http.events  # 503s, retries, give-ups

    @classmethod
    def from_settings(cls, settings: Settings) -> MusicBrainzClient:
        return cls(settings.musicbrainz_api_base_url, settings.musicbrainz_user_agent,
                   limiter=shared_limiter(settings.musicbrainz_api_base_url, settings.musicbrainz_min_interval_s))

    def total_calls(self) -> int:
        return self.http.total_calls()

    def get(self, path: str, params: list[tuple[str, str]] | dict[str, str], *, text: bool = False,
            missing_ok: bool = False) -> Any:
        """GET ``{base}/{path}``: parsed JSON (or the body text), None for a 404 when ``missing_ok``."""
        headers = {"User-Agent": self.user_agent, "Accept": "text/plain" if text else "application/json"}
        return self.http.get(f"{self.base_url}/{path.lstrip('/')}", endpoint_key(path), params, headers,
                             parse=_text if text else json_body, missing_ok=missing_ok)

    def _raise_if_broken(self) -> None:
        if self._broken is not None:
            raise self._broken

    def _refused(self, resp: requests.Response, error: Exception) -> Exception:
        """A 403 is MusicBrainz refusing the User-Agent: every later call would be refused too."""
        if resp.status_code != 403:
            return error
        self._broken = MusicBrainzError(403, getattr(error, "endpoint", "").removeprefix("musicbrainz "),
                                        f"refused the User-Agent {self.user_agent!r} "
                                        "(set MUSICBRAINZ_USER_AGENT to 'app/version ( contact )')")
        return self._broken

    def _unreachable(self, reason: str, in_a_row: int) -> None:
        if self._broken is None:
            self._broken = MusicBrainzError(None, "service", f"unreachable at {self.base_url}: "
                                            f"{in_a_row} calls in a row got no answer ({reason})")

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


def _text(resp: requests.Response) -> str:
    return resp.text
