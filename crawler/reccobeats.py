"""Audio features from ReccoBeats, for the apps Spotify refuses them (development mode).

``GET {RECCOBEATS_API_BASE_URL}/audio-features?ids=<Spotify track ids>`` takes at most 40 ids (the
service drops the rest silently, so batches never exceed 40) and needs no key. It answers
``{"content": [...]}``: one object per track it knows, in no promised order, whose ``id`` is
ReccoBeats' own UUID; the Spotify id is the last segment of ``href``
(``https://open.spotify.com/track/<id>``), so answers are matched on that. Objects land as received
under the Spotify id; tracks absent from the answer are misses (``lookups_raw``), asked again only
after ``ENRICHMENT_RETRY_DAYS``.

The service has its own limiter (it never spends Spotify's budget) and the crawler's one retrying
GET (:mod:`crawler.http.get`): 429 waits the capped ``Retry-After`` and pauses every thread, 5xx and
transport errors are retried with backoff, other 4xx raise :class:`ApiError`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import requests

from crawler.audio_features import Answers
from crawler.http.get import RetryingGet
from crawler.http.pool import SharedPool
from crawler.http.retry import RetryPolicy
from crawler.spotify.client import ApiError
from crawler.spotify.rate_limit import RollingWindowLimiter
from spotify_core.settings import Settings
from spotify_core.vocabulary import RECCOBEATS_MAX_IDS

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
        self.limiter = limiter or RollingWindowLimiter.per_second(settings.reccobeats_requests_per_second)
        self.http = RetryingGet(self.limiter, RetryPolicy(max_retries=settings.spotify_max_retries,
                                                          max_retry_after_s=settings.spotify_max_retry_after_s),
                                settings.spotify_timeout_s, ApiError, pool=pool or SharedPool(), max_429s=MAX_429S)
        self.calls: Counter[str] = self.http.calls
        self.events: Counter[str] = self.http.events

    def fetch(self, track_ids: list[str]) -> Answers:
        answers = Answers()
        for start in range(0, len(track_ids), self.batch_size):
            chunk = track_ids[start:start + self.batch_size]
            data = self.http.get(self.url, f"reccobeats/{ENDPOINT}", {"ids": ",".join(chunk)},
                                 {"Accept": "application/json"}, parse=_json_object)
            got = match(chunk, data.get("content") or [])
            answers.found += got.found
            answers.unknown += got.unknown
        return answers


def _json_object(resp: requests.Response) -> dict:
    data = resp.json()
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data
