"""Thread-safe Spotify Web API client: shared token and limiter, bounded retries, call counters.

spotipy handles the token exchange; data calls go through ``requests`` directly because the
crawler must own retry policy: spotipy's urllib3 retry waits out any ``Retry-After`` (a 3600 s
header hangs it) and its JSON decoding turns a truncated body into ``None``. Here:

* retriable: 429 (all threads pause for the capped ``Retry-After``), 5xx, timeouts, connection
  errors, invalid JSON on a 200 — retried with exponential backoff and jitter up to a cap;
* 401: the token is refreshed once for everyone and the call retried;
* other 4xx: raised at once as :class:`ApiError` (403 = not allowed for these credentials);
* a dead server: after ``UNREACHABLE_AFTER`` calls in a row gave up without any answer, every
  call raises :class:`PipelineError` at once, so a crawl stops with one line instead of failing
  each remaining artist after its own retries (what landed stays; the next run resumes).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from crawler.spotify.rate_limit import RollingWindowLimiter
from crawler.spotify.token import TokenManager
from spotify_pipeline.errors import PipelineError
from spotify_pipeline.settings import Settings

log = logging.getLogger(__name__)
UNREACHABLE_AFTER = 3


class ApiError(Exception):
    """A non-retriable API answer (or retries exhausted)."""

    def __init__(self, status: int | None, endpoint: str, message: str) -> None:
        super().__init__(f"{endpoint}: {status or 'no answer'} {message}".strip())
        self.status = status
        self.endpoint = endpoint


def endpoint_key(path: str) -> str:
    """Route template for counters: /v1/artists/<id>/albums -> artists/{id}/albums."""
    parts = [p for p in urlsplit(path).path.split("/") if p and p != "v1"]
    return "/".join("{id}" if len(p) == 22 and i > 0 else p for i, p in enumerate(parts)) or "/"


class SpotifyClient:
    def __init__(self, settings: Settings, limiter: RollingWindowLimiter | None = None) -> None:
        if not settings.has_credentials:
            raise PipelineError("SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET must be set to crawl")
        logging.getLogger("spotipy").setLevel(logging.WARNING)  # its debug log prints auth headers
        self.base_url = settings.spotify_api_base_url.rstrip("/")
        self.timeout = settings.spotify_timeout_s
        self.max_retries = settings.spotify_max_retries
        self.max_retry_after = settings.spotify_max_retry_after_s
        self.tokens = TokenManager(settings.spotify_client_id or "", settings.spotify_client_secret or "",
                                   settings.spotify_token_url, settings.spotify_timeout_s)
        self.limiter = limiter or RollingWindowLimiter.per_second(settings.spotify_requests_per_second)
        self._local = threading.local()
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.events: Counter[str] = Counter()  # 429s, retries, refreshes, failures
        self._silent_give_ups = 0  # calls in a row that gave up without any HTTP answer
        self._unreachable: str | None = None

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=4, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
        return session

    def _count(self, counter: Counter[str], key: str) -> None:
        with self._lock:
            counter[key] += 1

    def total_calls(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> Any:
        """GET an API path (``artists/{id}``) or an absolute ``next`` URL; returns parsed JSON."""
        url = path_or_url if path_or_url.startswith("http") else f"{self.base_url}/{path_or_url.lstrip('/')}"
        key = endpoint_key(url)
        attempt = 0
        refreshed = 0
        while True:
            if self._unreachable:
                raise PipelineError(self._unreachable)
            token = self.tokens.token()
            self.limiter.acquire()
            self._count(self.calls, key)
            reason: str
            answered = False
            try:
                resp = self._session().get(url, params=params, timeout=self.timeout,
                                           headers={"Authorization": f"Bearer {token}"})
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                reason = type(exc).__name__
            else:
                answered = True
                with self._lock:
                    self._silent_give_ups = 0
                status = resp.status_code
                if status == 200:
                    try:
                        return resp.json()
                    except ValueError:
                        reason = "invalid JSON"
                elif status == 429:
                    wait = _retry_after(resp, default=1.0, cap=self.max_retry_after)
                    self._count(self.events, "429")
                    self.limiter.pause_for(wait)
                    if self.events["429"] > 10_000:  # a server that never lets us through
                        raise ApiError(429, key, "rate limited without end")
                    continue  # a 429 is the limiter's business, not a failed attempt
                elif status == 401 and refreshed < 2:
                    refreshed += 1
                    self._count(self.events, "token_refresh")
                    self.tokens.invalidate(token)
                    continue
                elif status >= 500:
                    reason = f"HTTP {status}"
                else:
                    raise ApiError(status, key, _error_message(resp))
            attempt += 1
            self._count(self.events, "retry")
            if attempt > self.max_retries:
                self._count(self.events, "gave_up")
                if not answered:
                    self._note_silent_give_up(reason)
                raise ApiError(None, key, f"gave up after {attempt} attempts ({reason})")
            delay = min(30.0, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random())
            log.debug("%s: %s, retry %d in %.2fs", key, reason, attempt, delay)
            time.sleep(delay)

    def _note_silent_give_up(self, reason: str) -> None:
        with self._lock:
            self._silent_give_ups += 1
            if self._silent_give_ups >= UNREACHABLE_AFTER and not self._unreachable:
                self._unreachable = (f"Spotify API unreachable at {self.base_url}: {self._silent_give_ups} calls "
                                     f"in a row got no answer ({reason}); landed data is kept, run again to resume")
        if self._unreachable:
            raise PipelineError(self._unreachable)

    # -- typed helpers ------------------------------------------------------------------------
    def several(self, kind: str, ids: list[str]) -> list[dict | None]:
        """``/artists?ids=`` style batch; the response key equals ``kind`` (audio-features -> audio_features)."""
        data = self.get(kind, {"ids": ",".join(ids)})
        return list(data.get(kind.replace("-", "_")) or [])

    def pages(self, first_path: str, params: dict[str, Any]) -> list[dict]:
        """All items of a paging object, following ``next`` until it is null."""
        page = self.get(first_path, params)
        items = list(page.get("items") or [])
        while page.get("next"):
            page = self.get(page["next"])
            items.extend(page.get("items") or [])
        return items


def retry_after_seconds(header: str | None, default: float, cap: float, now: float | None = None) -> float:
    """Seconds to wait for a ``Retry-After`` header (delta-seconds or HTTP-date), never above ``cap``.

    The cap matters: Spotify may announce hours, and waiting that out hangs a crawl.
    A missing or unparseable header means ``default``.
    """
    value = default
    text = (header or "").strip()
    if text:
        try:
            value = float(text)
        except ValueError:
            try:
                when = parsedate_to_datetime(text)
            except (TypeError, ValueError):
                when = None
            if when is not None and when.tzinfo is not None:
                value = when.timestamp() - (time.time() if now is None else now)
    if value != value:  # NaN
        value = default
    return max(0.0, min(value, cap))


def _retry_after(resp: requests.Response, default: float, cap: float) -> float:
    return retry_after_seconds(resp.headers.get("Retry-After"), default, cap)


def _error_message(resp: requests.Response) -> str:
    try:
        err = resp.json().get("error")
    except ValueError:
        return resp.text[:120]
    if isinstance(err, dict):
        return str(err.get("message") or "")
    return str(err or "")
