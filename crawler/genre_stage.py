"""The genres stage (``GENRES_SOURCE``): Spotify's artist genres where given, a genre source for the rest.

``auto`` lands Spotify's ``genres`` for the artists whose object carries a non-empty list and asks
the genre source (MusicBrainz) about the others; ``spotify`` lands Spotify's non-empty lists only;
``musicbrainz`` asks the source about every artist; ``none`` lands no genres. An empty Spotify
list is not landed: a development-mode artist object has no genres, and landing ``[]`` would hide
that the artist still needs another source.

The source allows one request per second and answers up to 100 artists per call, so it runs on a
thread of its own (:class:`GenreStream`) that collects artist ids from every chunk and asks by
full batches of 100 while the Spotify crawl goes on; the rest is asked when the crawl's chunks are
done. Each answer lands at once (found: ``genres_raw``; unknown: ``lookups_raw``
``"<source>:<artist id>"``), so a kill loses at most the batch in flight; which artists still need
asking is read from the landing zone (:func:`unanswered`), never from checkpoints.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from crawler import lookups
from crawler.landing.base import LandingStore

log = logging.getLogger(__name__)

GENRE_MODES = ("auto", "spotify", "musicbrainz", "none")
BATCH = 100  # MusicBrainz answers at most 100 resources per call


class GenreSource(Protocol):
    name: str  # genre_source of what it lands ("musicbrainz"), and the lookups_raw prefix of its misses

    def fetch(self, artist_ids: list[str]) -> Any:
        """An answer with ``.found`` [(Spotify artist id, genres_raw payload)] and ``.unknown`` [artist id]."""


def spotify_genres(mode: str, artists: Iterable[dict]) -> tuple[list[tuple[str, dict]], list[str]]:
    """(genres_raw documents from Spotify's artist objects, artist ids to ask the genre source about)."""
    land: list[tuple[str, dict]] = []
    ask: list[str] = []
    for artist in artists:
        genres = artist.get("genres") or []
        if genres and mode in ("auto", "spotify"):
            land.append((artist["id"], {"id": artist["id"], "genres": genres}))
        elif mode == "musicbrainz" or (mode == "auto" and not genres):
            ask.append(artist["id"])
    return land, ask


def unanswered(store: LandingStore, source: str, artist_ids: Iterable[str], retry_cutoff: str | None) -> list[str]:
    """The artists with no genres landed and no miss of ``source`` recorded after ``retry_cutoff``."""
    ids = list(dict.fromkeys(artist_ids))
    if not ids:
        return []
    answered = store.existing_ids("genres_raw", ids)
    asked = lookups.recent_misses(store, source, ids, retry_cutoff)
    return [i for i in ids if i not in answered and i not in asked]


class GenreStream:
    """Artist ids to ask ``source`` about, asked by ``batch_size`` from a thread of its own.

    ``land(found, unknown)`` lands each answer as it returns. The first failure (the source is down,
    or refuses us) is kept in ``error`` and ends the asking for this run: the artists not answered
    stay unanswered in the landing zone, and the next run asks them. It fails no artist: the
    Spotify data is complete without genres, and an ingestion should not stop for them.
    """

    def __init__(self, source: GenreSource, land: Callable[[list[tuple[str, dict]], list[str]], None],
                 batch_size: int = BATCH) -> None:
        self.source = source
        self.batch_size = batch_size
        self.error: str | None = None
        self.asked = 0
        self._land = land
        self._queue: queue.Queue[list[str] | None] = queue.Queue()
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._abort = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="genres", daemon=True)
        self._thread.start()

    def add(self, artist_ids: Iterable[str]) -> None:
        with self._lock:
            fresh = [i for i in dict.fromkeys(artist_ids) if i not in self._seen]
            self._seen.update(fresh)
        if fresh:
            self._queue.put(fresh)

    def close(self, abort: bool = False) -> None:
        """Ask the rest (or, with ``abort``, only finish the batch in flight) and wait."""
        if abort:
            self._abort.set()
        self._queue.put(None)
        self._thread.join()

    def _loop(self) -> None:
        pending: list[str] = []
        while True:
            item = self._queue.get()
            if item is not None:
                pending.extend(item)
            while pending and (len(pending) >= self.batch_size or item is None):
                batch, pending = pending[:self.batch_size], pending[self.batch_size:]
                self._ask(batch)
            if item is None:
                return

    def _ask(self, batch: list[str]) -> None:
        if self.error is not None or self._abort.is_set():
            return
        try:
            answer = self.source.fetch(batch)
        except Exception as exc:  # noqa: BLE001 - any failure of the source ends asking, never the crawl
            self.error = f"{self.source.name}: {exc}"
            log.warning("genres: %s; the artists not answered are asked at the next run", self.error)
            return
        self.asked += len(batch)
        self._land(list(answer.found), list(answer.unknown))
