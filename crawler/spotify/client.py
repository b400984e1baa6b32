"""Thread-safe Spotify Web API client: shared token, limiter and connection pool; one retry policy.

spotipy handles the token exchange (:class:`~crawler.spotify.token.ClientCredentialsAuth`, the
requests auth object); data calls go through ``requests`` directly because the crawler must own
retry policy: spotipy's urllib3 retry waits out any ``Retry-After`` (a 3600 s header hangs it) and
its JSON decoding turns a truncated body into ``None``. Calls go through the crawler's one retrying
GET (:mod:`crawler.http.get`), which classifies each answer:

* retriable: 5xx, timeouts, connection errors, invalid JSON on a 200 — retried with exponential
  backoff and jitter up to a cap;
* rate-limited: 429 — all threads pause for the capped ``Retry-After`` (not a failed attempt);
* unauthorized: 401 — the token is refreshed once for everyone and the call retried;
* fatal: other 4xx — raised at once as :class:`ApiError` (403 = not allowed for these credentials);
* a dead server: after ``UNREACHABLE_AFTER`` calls in a row gave up without any answer, every
  call raises :class:`PipelineError` at once, so a crawl stops with one line instead of failing
  each remaining artist after its own retries (what landed stays; the next run resumes);
* a spent quota: a 429 naming ``QUOTA_EXCEEDED`` or announcing a ``Retry-After`` beyond the cap
  (:mod:`crawler.spotify.quota`) raises :class:`QuotaExhausted` at once, and from then on every call
  of every thread raises it before reaching the network: after the first such answer only the
  calls already in flight reach Spotify.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import requests

from crawler.http.get import RetryingGet
from crawler.http.pool import SharedPool
from crawler.http.retry import RetryPolicy
from crawler.spotify.quota import QuotaExhausted, quota_spent
from crawler.spotify.rate_limit import RollingWindowLimiter
from crawler.spotify.token import ClientCredentialsAuth
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings

log = logging.getLogger(__name__)
MAX_429S = 10_000  # a server that never lets us through


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
    def __init__(self, settings: Settings, limiter: RollingWindowLimiter | None = None,
                 pool: SharedPool | None = None) -> None:
        if not settings.has_credentials:
            raise PipelineError("SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET must be set to crawl")
        logging.getLogger("spotipy").setLevel(logging.WARNING)  # its debug log prints auth headers
        self.base_url = settings.spotify_api_base_url.rstrip("/")
        self.policy = RetryPolicy(max_retries=settings.spotify_max_retries,
                                  max_retry_after_s=settings.spotify_max_retry_after_s)
        secret = settings.spotify_client_secret
        self.tokens = ClientCredentialsAuth(settings.spotify_client_id or "", secret.get_secret_value() if secret else "",
                                            settings.spotify_token_url, settings.spotify_timeout_s)
        self.limiter = limiter or RollingWindowLimiter.per_second(settings.spotify_requests_per_second)
        self._lock = threading.Lock()
        self._unreachable: str | None = None
        self.quota: QuotaExhausted | None = None  # set by the first answer saying the quota is spent
        self.http = RetryingGet(self.limiter, self.policy, settings.spotify_timeout_s, ApiError,
                                pool=pool or SharedPool(), auth=self.tokens, max_429s=MAX_429S,
                                guard=self._raise_if_stopped, on_429=self._stop_if_quota_spent,
                                on_unreachable=self._stop_unreachable)
        self.pool = self.http.pool
        self.calls: Counter[str] = self.http.calls
        self.events: Counter[str] = self.http.events  # 429s, retries, refreshes, failures

    def total_calls(self) -> int:
        return self.http.total_calls()

    def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> Any:
        """GET an API path (``artists/{id}``) or an absolute ``next`` URL; returns parsed JSON."""
        url = path_or_url if path_or_url.startswith("http") else f"{self.base_url}/{path_or_url.lstrip('/')}"
        return self.http.get(url, endpoint_key(url), params)

    def _raise_if_stopped(self) -> None:
        if self.quota is not None:
            raise QuotaExhausted(self.quota.resume_at, self.quota.why)
        if self._unreachable:
            raise PipelineError(self._unreachable)

    def _stop_if_quota_spent(self, resp: requests.Response) -> None:
        """Stop every thread when this 429 says the quota is spent (the first such answer wins)."""
        try:
            body = resp.json()
        except ValueError:
            body = resp.text
        spent = quota_spent(resp.headers.get("Retry-After"), body, self.policy.max_retry_after_s)
        if spent is None:
            return
        with self._lock:
            if self.quota is None:
                self.quota = spent
                self.http.count(self.events, "quota_exceeded")
                log.debug("%s", spent)  # the caller reports it once
        self._raise_if_stopped()

    def _stop_unreachable(self, reason: str, in_a_row: int) -> None:
        with self._lock:
            if not self._unreachable:
                self._unreachable = (f"Spotify API unreachable at {self.base_url}: {in_a_row} calls "
                                     f"in a row got no answer ({reason}); landed data is kept, run again to resume")
        raise PipelineError(self._unreachable)

    def several(self, kind: str, ids: list[str]) -> list[dict | None]:
        """``/artists?ids=`` style batch; the response key equals ``kind`` (audio-features -> audio_features)."""
        data = self.get(kind, {"ids": ",".join(ids)})
        return list(data.get(kind.replace("-", "_")) or [])
