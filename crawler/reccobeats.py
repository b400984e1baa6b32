"""Audio features from ReccoBeats, for the apps Spotify refuses them (development mode).

``GET {RECCOBEATS_API_BASE_URL}/audio-features?ids=<Spotify track ids>`` takes at most 40 ids (the
service drops the rest silently, so batches never exceed 40) and needs no key. It answers
``{"content": [...]}``: one object per track it knows, in no promised order, whose ``id`` is
ReccoBeats' own UUID; the Spotify id is the last segment of ``href``
(``https://open.spotify.com/track/<id>``), so answers are matched on that. Objects land as received
under the Spotify id; tracks absent from the answer are misses (``lookups_raw``), asked again only
after ``ENRICHMENT_RETRY_DAYS``.

The service has its own limiter (it never spends Spotify's budget) and the crawler's retry policy
(:mod:`crawler.http.retry`): 429 waits the capped ``Retry-After`` and pauses every thread, 5xx and
transport errors are retried with backoff, other 4xx raise :class:`ApiError`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from crawler.audio_features import Answers
from crawler.http.pool import SharedPool
from crawler.http.retry import TRANSPORT_ERRORS, Outcome, RetryPolicy, classify
from crawler.spotify.client import ApiError
from crawler.spotify.rate_limit import RollingWindowLimiter
from spotify_pipeline.settings import Settings
from spotify_pipeline.vocabulary import RECCOBEATS_MAX_IDS

log = logging.getLogger(__name__)
ENDPOINT = "audio-features"
MAX_429S = 1_000  # a service that never lets us through


def spotify_track_id(obj: dict) -> str | None:
    """The Spotify id of a ReccoBeats object: the last path segment of its ``href``."""
    href = obj.get("href") if isinstance(obj, dict) else None
    if not isinstance(href, str) or "/track/" not in href:
        return None
    segment = urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1]
    return segment or None


def match(asked: list[str], content: list[Any]) -> Answers:
    """Pair each answered object with the asked id in its ``href``; the asked ids left over are unknown.

    Objects for ids nobody asked about (or without an ``href``) are ignored, never landed under a guess.
    """
    wanted = set(asked)
    found: dict[str, dict] = {}
    for obj in content or []:
        track_id = spotify_track_id(obj)
        if track_id in wanted and track_id not in found:
            found[track_id] = obj
    return Answers(found=list(found.items()), unknown=[t for t in asked if t not in found])


class ReccoBeatsFeatures:
    """A :class:`~crawler.audio_features.FeatureSource` over the ReccoBeats API."""

    name = "reccobeats"
    miss_source = "reccobeats"  # misses land in lookups_raw as "reccobeats:<track id>"
    batch_size = RECCOBEATS_MAX_IDS

    def __init__(self, settings: Settings, pool: SharedPool | None = None,
                 limiter: RollingWindowLimiter | None = None) -> None:
        self.url = f"{settings.reccobeats_api_base_url.rstrip('/')}/{ENDPOINT}"
        self.timeout = settings.spotify_timeout_s
        self.policy = RetryPolicy(max_retries=settings.spotify_max_retries,
                                  max_retry_after_s=settings.spotify_max_retry_after_s)
        self.limiter = limiter or RollingWindowLimiter.per_second(settings.reccobeats_requests_per_second)
        self.pool = pool or SharedPool()
        self.calls: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _count(self, counter: Counter[str], key: str) -> None:
        with self._lock:
            counter[key] += 1

    def fetch(self, track_ids: list[str]) -> Answers:
        answers = Answers()
        for start in range(0, len(track_ids), self.batch_size):
            chunk = track_ids[start:start + self.batch_size]
            got = match(chunk, self._get({"ids": ",".join(chunk)}).get("content") or [])
            answers.found += got.found
            answers.unknown += got.unknown
        return answers

    def _get(self, params: dict[str, str]) -> dict:
        key = f"reccobeats/{ENDPOINT}"
        attempt = 0
        while True:
            self.limiter.acquire()
            self._count(self.calls, key)
            resp = None
            try:
                resp = self.pool.session().get(self.url, params=params, timeout=self.timeout,
                                               headers={"Accept": "application/json"})
            except TRANSPORT_ERRORS as exc:
                reason = type(exc).__name__
            if resp is not None:
                outcome = classify(resp.status_code)
                if outcome is Outcome.OK:
                    try:
                        data = resp.json()
                    except ValueError:
                        data = None
                    if isinstance(data, dict):
                        return data
                    reason = "invalid JSON"
                elif outcome is Outcome.RATE_LIMITED:
                    self._count(self.events, "429")
                    self.limiter.pause_for(self.policy.rate_limit_wait(resp))
                    if self.events["429"] > MAX_429S:
                        raise ApiError(429, key, "rate limited without end")
                    continue  # the limiter's business, not a failed attempt
                elif outcome is Outcome.RETRIABLE:
                    reason = f"HTTP {resp.status_code}"
                else:
                    raise ApiError(resp.status_code, key, resp.text[:120])
            attempt += 1
            self._count(self.events, "retry")
            if self.policy.gives_up(attempt):
                raise ApiError(None, key, f"gave up after {attempt} attempts ({reason})")
            delay = self.policy.backoff(attempt)
            log.debug("%s: %s, retry %d in %.2fs", key, reason, attempt, delay)
            time.sleep(delay)
