"""ReccoBeats' audio-features endpoint over the synthetic catalog, served beside the Web API.

``GET /reccobeats/v1/audio-features?ids=<Spotify track ids>`` answers like ``api.reccobeats.com``:
no auth; at most the first 40 ids are read (the rest dropped silently, repeated ``ids=`` or
comma-separated); ``{"content": [...]}`` with one object per *known* track, in ReccoBeats' own order
(by its UUID), not the request's. Each object carries ReccoBeats' ``id`` (a UUID; here uuid5 of the
Spotify id), ``href`` (the open.spotify.com track URL, whose last segment is the Spotify id) and
Spotify's feature names and scales without ``time_signature`` and ``duration_ms``.

The values are the catalog's Spotify audio features measured again by another service: equal
``key`` and ``mode``, the others moved by a small deterministic amount. About 15% of the catalog
is unknown (absent from answers): every track without Spotify features, and a deterministic part
of the rest, far larger among recent releases (2025 on, or added by ``evolve``).

A rolling window of its own (``reccobeats_rate_limit`` per ``reccobeats_rate_window`` seconds)
answers 429 with ``Retry-After``. Calls are counted under ``reccobeats_*`` keys of ``/_stats``,
never under the Web API's ``requests``.
"""

from __future__ import annotations

import math
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

from sample_api.synthetic_catalog import Catalog
from spotify_core.vocabulary import RECCOBEATS_MAX_IDS

PREFIX = "/reccobeats/v1"
STATS_KEY = "GET /reccobeats/v1/audio-features"
_NAMESPACE = uuid.UUID("6f1f3b8e-2d7c-5a0e-9b43-7c1d2e3f4a5b")
_UNIT_FIELDS = ("acousticness", "danceability", "energy", "instrumentalness", "liveness", "speechiness", "valence")


def reccobeats_id(spotify_track_id: str) -> str:
    """ReccoBeats' UUID for a track: stable per Spotify id, unrelated to it in form."""
    return str(uuid.uuid5(_NAMESPACE, spotify_track_id))


def knows(catalog: Catalog, t: int) -> bool:
    """Whether ReccoBeats has analysed track ``t`` (deterministic by seed and track)."""
    if not catalog.has_features(t):
        return False
    unknown_share = 0.7 if catalog.is_recent_release(catalog.track_album(t)) else 0.07
    return random.Random(f"{catalog.seed}:reccobeats-known:{t}").random() >= unknown_share


def features(catalog: Catalog, t: int) -> dict | None:
    """ReccoBeats' audio-features object of track ``t``, or None when it does not know the track."""
    if not knows(catalog, t):
        return None
    spotify = catalog.audio_features(t, "")
    rng = random.Random(f"{catalog.seed}:reccobeats-values:{t}")
    tid = catalog.track_id(t)
    obj: dict = {"id": reccobeats_id(tid), "href": f"https://open.spotify.com/track/{tid}"}
    for name in _UNIT_FIELDS:
        obj[name] = round(min(1.0, max(0.0, spotify[name] + rng.uniform(-0.01, 0.01))), 4)
    obj["key"] = spotify["key"]
    obj["mode"] = spotify["mode"]
    obj["loudness"] = round(spotify["loudness"] + rng.uniform(-0.3, 0.3), 3)
    obj["tempo"] = round(spotify["tempo"] + rng.uniform(-0.5, 0.5), 3)
    return dict(sorted(obj.items()))


def requested_ids(query: dict[str, list[str]]) -> list[str]:
    """The ids ReccoBeats reads: repeated and comma-separated forms, first 40, duplicates once."""
    ids = [x.strip() for raw in query.get("ids", []) for x in raw.split(",") if x.strip()]
    return list(dict.fromkeys(ids))[:RECCOBEATS_MAX_IDS]


@dataclass
class RollingWindow:
    """Requests admitted in the last ``window`` seconds; thread-safe."""

    times: deque = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, limit: int, window: float) -> int | None:
        """None when admitted (and counted), else the seconds until a slot frees up."""
        if limit <= 0:
            return None
        now = time.monotonic()
        with self.lock:
            while self.times and self.times[0] <= now - window:
                self.times.popleft()
            if len(self.times) >= limit:
                return max(1, math.ceil(self.times[0] + window - now))
            self.times.append(now)
            return None

    def clear(self) -> None:
        with self.lock:
            self.times.clear()


def _error(status: int, reason: str, message: str, path: str) -> dict:
    # ReccoBeats answers errors in Spring Boot's default error shape.
    return {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime()), "status": status,
            "error": reason, "message": message, "path": path.removeprefix("/reccobeats")}


def answer(catalog: Catalog, path: str, query: dict[str, list[str]], window: RollingWindow, limit: int,
           period: float) -> tuple[int, dict, dict[str, str], list[str]]:
    """(status, body, headers, stats keys to count) for a GET under :data:`PREFIX`."""
    keys = ["reccobeats_requests"]
    if path.rstrip("/") != f"{PREFIX}/audio-features":
        return 404, _error(404, "Not Found", "No static resource", path), {}, [*keys, "reccobeats_status_404"]
    keys.append(STATS_KEY)
    retry_after = window.admit(limit, period)
    if retry_after is not None:
        body = _error(429, "Too Many Requests", "Rate limit exceeded", path)
        return 429, body, {"Retry-After": str(retry_after)}, [*keys, "reccobeats_status_429"]
    ids = requested_ids(query)
    if not ids:
        return 400, _error(400, "Bad Request", "ids is required", path), {}, [*keys, "reccobeats_status_400"]
    found = []
    for spotify_id in ids:
        t = catalog.track_index(spotify_id)
        obj = None if t is None else features(catalog, t)
        if obj is not None:
            found.append(obj)
    found.sort(key=lambda o: o["id"])
    return 200, {"content": found}, {}, keys
