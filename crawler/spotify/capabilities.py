"""What these credentials may do, learned once per run from the first call that needs it.

Spotify answers a development-mode app's batch calls with 403, its album listings with
``limit`` above 10 with 400, and its audio-features calls with 403. The first call of a kind is
the probe (made by one thread while the others wait); its answer is remembered for the run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from crawler.spotify.client import ApiError

log = logging.getLogger(__name__)
T = TypeVar("T")


class Refused:
    """Marker result: the credentials may not make this call."""

    def __repr__(self) -> str:
        return "REFUSED"


REFUSED = Refused()


class Capability:
    def __init__(self, name: str, refused_statuses: frozenset[int], when_refused: str) -> None:
        self.name = name
        self.refused_statuses = refused_statuses
        self.when_refused = when_refused
        self.allowed: bool | None = None
        self._lock = threading.Lock()

    def call(self, attempt: Callable[[], T]) -> T | Refused:
        """``attempt()``, or REFUSED once a probe has shown the credentials may not make it.

        Errors other than a refusal propagate and leave the capability unknown (the next call probes).
        """
        if self.allowed is None:
            with self._lock:
                if self.allowed is None:
                    try:
                        result = attempt()
                    except ApiError as exc:
                        if exc.status not in self.refused_statuses:
                            raise
                        self.allowed = False
                        log.info("%s refused (%s): %s", self.name, exc.status, self.when_refused)
                        return REFUSED
                    self.allowed = True
                    return result
        return attempt() if self.allowed else REFUSED


def batch_endpoints() -> Capability:
    return Capability("batch endpoints", frozenset({403}), "development-mode app, fetching per item")


def album_page_50() -> Capability:
    return Capability("artist albums with limit 50", frozenset({400}), "paging by 10 (development mode)")


def audio_features() -> Capability:
    return Capability("audio-features", frozenset({403}),
                      "no audio features for these credentials (development mode); continuing without")


# What an object's fields say about these credentials (no call of their own: read from objects the
# crawl or the doctor fetched anyway). True: given; False: the field is absent (removed for this app);
# None: present but empty for this object, so it proves nothing.
def _given(obj: dict, key: str) -> bool | None:
    if key not in obj:
        return False
    return True if obj[key] not in (None, [], {}) else None


def artist_fields(artist: dict) -> dict[str, bool | None]:
    """Development-mode artist objects lost ``followers``/``popularity`` (2026-02) and ``genres`` (2026-08)."""
    return {"artist_genres": _given(artist, "genres"),
            "artist_followers_popularity": "followers" in artist and "popularity" in artist}


def track_fields(track: dict) -> dict[str, bool | None]:
    """A full track object: ``popularity`` is gone in development mode; ``external_ids`` came back 2026-03."""
    return {"track_popularity": "popularity" in track, "external_ids": _given(track, "external_ids")}
