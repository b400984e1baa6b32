"""One retry policy for every HTTP call the crawler makes (Spotify Web API and kworb pages).

Responses are classified, never retried blindly: retriable (5xx, timeouts, connection resets,
no answer), rate-limited (429: wait the capped ``Retry-After``, which is the limiter's business
rather than a failed attempt), unauthorized (401: refresh the token), fatal (any other 4xx).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import Enum

import requests

# Exceptions meaning "no (complete) answer": worth another attempt.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
)


class Outcome(Enum):
    OK = "ok"
    RETRIABLE = "retriable"
    RATE_LIMITED = "rate-limited"
    UNAUTHORIZED = "unauthorized"
    FATAL = "fatal"


def classify(status: int | None) -> Outcome:
    """What an HTTP status (None: no answer at all) means for the caller."""
    if status is None or status >= 500:
        return Outcome.RETRIABLE
    if 200 <= status < 300:
        return Outcome.OK
    if status == 429:
        return Outcome.RATE_LIMITED
    if status == 401:
        return Outcome.UNAUTHORIZED
    return Outcome.FATAL


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


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 6
    max_retry_after_s: float = 60.0
    base_delay_s: float = 0.25
    max_delay_s: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter before retry number ``attempt`` (1-based), capped."""
        return min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)) * (0.5 + random.random())

    def rate_limit_wait(self, response: requests.Response, default: float = 1.0) -> float:
        return retry_after_seconds(response.headers.get("Retry-After"), default, self.max_retry_after_s)

    def gives_up(self, attempt: int) -> bool:
        return attempt > self.max_retries
