"""The crawl: artists.txt -> Spotify Web API -> landing zone, with the fewest calls the app may make.

Artists are processed in chunks (default 100). Within a chunk every stage fans out over one
thread pool and batches across artists, so batch calls are full except the last of each stage:

1. artist objects (``/artists?ids=`` by 50 where allowed, else per id) -> ``artists_raw`` and
   ``genres_raw``;
2. album listings per artist (largest page size the app may use);
3. album details for albums not yet claimed in this run nor landed (``/albums?ids=`` by 20, else
   per id), then the remaining track pages of albums with more than 50 tracks. The landed album
   is the API object with its track pages joined (``tracks.items`` complete, ``tracks.next``
   null), so the album -> track membership is in one document in every mode;
4. tracks: full objects (``/tracks?ids=`` by 50) where batch endpoints are allowed, because only
   full tracks carry popularity, ISRC and the album; in development mode full tracks would cost
   one call per track and add only the ISRC, so the simplified tracks from the album are landed;
5. audio features by 100 from the configured source;
6. albums are landed last: an album in the store means its tracks and features are there, so a
   resumed crawl can skip it. Then the chunk's artists are checkpointed ``done``.

A killed crawl resumes from the checkpoints: done artists are skipped, landed albums and tracks
are not fetched again.

Modes (``CrawlOptions.mode``): ``continue`` (default) does what is missing; ``refresh`` (the
weekly run) refetches every artist object and album listing but only the albums, tracks and
features not landed yet; ``full`` refetches everything. Each artist's listing is landed in
``listings_raw``; an album that drops out of it is looked up once, and a 404 (like a 404 on a
known artist) lands in ``unavailable_raw`` with the date instead of failing the run.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from crawler.artists_file import ArtistEntry
from crawler.audio_features import FeatureSource
from crawler.landing.base import LandingDocument, LandingStore, utc_now_iso
from crawler.spotify.client import ApiError, SpotifyClient

log = logging.getLogger(__name__)

ARTIST_BATCH, ALBUM_BATCH, TRACK_BATCH = 50, 20, 50
CHUNKS_IN_FLIGHT = 2
BASE_GROUPS = ("album", "single", "compilation")


def normalize_name(name: str) -> str:
    """Comparable form of an artist name: accents, case, punctuation and '&'/'and' differences folded."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("&", " and ").replace("+", " and ")
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return " ".join(text.split())


MODES = ("continue", "refresh", "full")


@dataclass
class CrawlOptions:
    run_id: str
    workers: int = 8
    mode: str = "continue"  # one of MODES
    include_appears_on: bool = False
    ttl_hours: float | None = None
    chunk_size: int = 100
    # A refresh lands few albums per artist: bigger chunks keep its album/track batches full.
    refresh_chunk_size: int = 1000
    clock: Callable[[], str] = utc_now_iso  # ``fetched_at`` of landed documents

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"crawl mode must be one of {', '.join(MODES)}, not {self.mode!r}")


@dataclass
class CrawlReport:
    total: int = 0
    done: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)  # "album:<id>" / "artist:<id>" -> detected at
    landed: Counter = field(default_factory=Counter)
    calls: Counter = field(default_factory=Counter)
    events: Counter = field(default_factory=Counter)
    elapsed_s: float = 0.0
    batch_endpoints: bool | None = None
    features_source: str = ""
    mode: str = "continue"


class _Caps:
    """What these credentials may do, learned from the first call of each kind (once per run)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.batch: bool | None = None
        self.album_limit: int | None = None


class Crawler:
    def __init__(self, client: SpotifyClient, store: LandingStore, features: FeatureSource,
                 options: CrawlOptions, progress: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.store = store
        self.features = features
        self.opt = options
        self.caps = _Caps()
        self.report = CrawlReport(features_source=features.name, mode=options.mode)
        self._claimed: set[str] = set()  # album ids handled in this run (albums are shared)
        self._aliases: dict[str, list[str]] = {}  # artist id -> "name:..." keys resolved to it
        self._lock = threading.Lock()
        self._progress = progress
        self._cutoff = (
            (datetime.now(UTC) - timedelta(hours=options.ttl_hours)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            if options.ttl_hours else None
        )

    # ------------------------------------------------------------------ helpers
    def _land(self, collection: str, docs: Iterable[tuple[str, dict]]) -> None:
        now = self.opt.clock()
        batch = [LandingDocument(i, p, now, self.opt.run_id) for i, p in docs]
        if batch:
            self.store.upsert(collection, batch)
            with self._lock:
                self.report.landed[collection] += len(batch)

    def _landed(self, collection: str, ids: Iterable[str]) -> set[str]:
        if self.opt.mode == "full":
            return set()
        return self.store.existing_ids(collection, ids, fetched_after=self._cutoff)

    def _unavailable(self, kind: str, ids: Iterable[str], status: int = 404) -> None:
        """Land a dated 404 for things that were landed before and are gone from Spotify now."""
        now = self.opt.clock()
        docs = [(f"{kind}:{i}", {"type": kind, "id": i, "status": status, "detected_at": now}) for i in ids]
        self._land("unavailable_raw", docs)
        with self._lock:
            self.report.unavailable.update((key, now) for key, _ in docs)

    def _fail(self, key: str, reason: str) -> None:
        with self._lock:
            if key not in self.report.failed:
                self.report.failed[key] = reason
        self.store.set_checkpoint(key, "failed", reason, self.opt.run_id)

    # ------------------------------------------------------------------ stages
    def _resolve(self, entry: ArtistEntry) -> str | None:
        if entry.spotify_id:
            return entry.spotify_id
        try:
            page = self.client.get("search", {"q": entry.name, "type": "artist", "limit": 10})
        except ApiError as exc:
            self._fail(entry.key, f"search failed: {exc}")
            return None
        wanted = normalize_name(entry.name)
        hits = [a for a in (page.get("artists") or {}).get("items") or [] if a and normalize_name(a["name"]) == wanted]
        if not hits:
            self._fail(entry.key, "no search result with a matching name")
            return None
        if len(hits) > 1:
            log.warning("search %r: %d artists share the name; taking the most relevant (%s)",
                        entry.name, len(hits), hits[0]["id"])
        return hits[0]["id"]

    def _several(self, kind: str, ids: list[str]) -> list[dict | None] | None:
        """A batch call, or None when these credentials may not batch (the first call is the probe)."""
        if self.caps.batch is None:
            with self.caps.lock:
                if self.caps.batch is None:
                    try:
                        result = self.client.several(kind, ids)
                    except ApiError as exc:
                        if exc.status != 403:
                            raise
                        self.caps.batch = False
                        log.info("batch endpoints refused (403): development-mode app, fetching per item")
                        return None
                    self.caps.batch = True
                    return result
        return self.client.several(kind, ids) if self.caps.batch else None

    def _fetch_artists(self, pool: ThreadPoolExecutor, ids: list[str]) -> tuple[set[str], set[str]]:
        """Land artist objects; returns (ids that failed, ids landed before that are gone now: 404)."""
        landed = set() if self.opt.mode != "continue" else self._landed("artists_raw", ids)
        todo = [i for i in ids if i not in landed]
        failed: set[str] = set()
        missing: set[str] = set()

        def fail(artist_id: str, reason: str) -> None:
            if reason == "artist not found":
                with self._lock:
                    missing.add(artist_id)
                return
            failed.add(artist_id)
            self._fail(artist_id, reason)

        def one(artist_id: str) -> None:
            try:
                self._land_artists([self.client.get(f"artists/{artist_id}")])
            except ApiError as exc:
                fail(artist_id, "artist not found" if exc.status == 404 else f"artist: {exc}")

        def batch(chunk: list[str]) -> bool:
            try:
                objs = self._several("artists", chunk)
            except ApiError as exc:
                for artist_id in chunk:
                    fail(artist_id, f"artists batch: {exc}")
                return True
            if objs is None:
                return False
            found = [o for o in objs if o]
            for artist_id in sorted(set(chunk) - {o["id"] for o in found}):
                fail(artist_id, "artist not found")
            self._land_artists(found)
            return True

        self._fan_out(pool, todo, ARTIST_BATCH, batch, one)
        gone = self.store.existing_ids("artists_raw", missing) if missing else set()
        self._unavailable("artist", sorted(gone))
        for artist_id in sorted(missing - gone):
            failed.add(artist_id)
            self._fail(artist_id, "artist not found")
        return failed, gone

    def _fan_out(self, pool: ThreadPoolExecutor, ids: list[str], size: int,
                 batch: Callable[[list[str]], bool], one: Callable[[str], None]) -> None:
        """Batches of ``size`` where the app may use batch endpoints, else one call per id.

        The first batch probes before fanning out, so that a refusal costs one call; ``batch``
        returns False when refused, and every id then goes to the pool on its own.
        """
        chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
        if chunks and self.caps.batch is None and batch(chunks[0]):
            chunks.pop(0)
        if self.caps.batch is False:
            list(pool.map(one, [i for c in chunks for i in c]))
        else:
            list(pool.map(batch, chunks))

    def _land_artists(self, objs: list[dict]) -> None:
        self._land("artists_raw", ((o["id"], o) for o in objs))
        self._land("genres_raw", ((o["id"], {"id": o["id"], "genres": o.get("genres") or []}) for o in objs))

    def _album_ids(self, artist_id: str) -> list[str]:
        groups = BASE_GROUPS + (("appears_on",) if self.opt.include_appears_on else ())
        params = {"include_groups": ",".join(groups)}
        with self.caps.lock:
            if self.caps.album_limit is None:
                try:
                    items = self.client.pages(f"artists/{artist_id}/albums", {**params, "limit": 50})
                    self.caps.album_limit = 50
                    return [a["id"] for a in items if a]
                except ApiError as exc:
                    if exc.status != 400:
                        raise
                    self.caps.album_limit = 10
                    log.info("artist albums: limit 50 refused, paging by 10 (development mode)")
        items = self.client.pages(f"artists/{artist_id}/albums", {**params, "limit": self.caps.album_limit})
        return [a["id"] for a in items if a]

    def _complete_tracks(self, album: dict) -> dict:
        tracks = album.get("tracks") or {}
        items = list(tracks.get("items") or [])
        next_url = tracks.get("next")
        while next_url:
            page = self.client.get(next_url)
            items.extend(page.get("items") or [])
            next_url = page.get("next")
        album["tracks"] = {**tracks, "items": items, "next": None, "limit": max(len(items), tracks.get("limit", 0)),
                           "offset": 0}
        return album

    def _fetch_albums(self, pool: ThreadPoolExecutor, ids: list[str]) -> tuple[list[dict], dict[str, str]]:
        """Album objects with complete track lists; and album id -> reason for those that failed.

        The reason of an album Spotify answered 404 (or null in a batch) is exactly "album not found".
        """
        failed: dict[str, str] = {}
        albums: list[dict] = []
        lock = threading.Lock()

        def got(objs: list[dict]) -> None:
            done = [self._complete_tracks(o) for o in objs]
            with lock:
                albums.extend(done)

        def one(album_id: str) -> None:
            try:
                got([self.client.get(f"albums/{album_id}")])
            except ApiError as exc:
                failed[album_id] = "album not found" if exc.status == 404 else f"album: {exc}"

        def batch(chunk: list[str]) -> bool:
            try:
                objs = self._several("albums", chunk)
            except ApiError as exc:
                for album_id in chunk:
                    failed[album_id] = f"albums: {exc}"
                return True
            if objs is None:
                return False
            found = [o for o in objs if o]
            for missing in set(chunk) - {o["id"] for o in found}:
                failed[missing] = "album not found"
            got(found)
            return True

        self._fan_out(pool, ids, ALBUM_BATCH, batch, one)
        return albums, failed

    def _fetch_tracks(self, pool: ThreadPoolExecutor, albums: list[dict]) -> tuple[list[str], dict[str, str]]:
        """Land tracks of these albums; returns the track ids landed and album id -> failure."""
        items = {t["id"]: t for a in albums for t in a["tracks"]["items"] if t and t.get("id")}
        track_album = {t: a["id"] for a in albums for t in (x["id"] for x in a["tracks"]["items"] if x and x.get("id"))}
        landed = self._landed("tracks_raw", items)
        todo = [t for t in items if t not in landed]
        failed: dict[str, str] = {}

        def batch(chunk: list[str]) -> None:
            try:
                objs = self._several("tracks", chunk)
            except ApiError as exc:
                for t in chunk:
                    failed[track_album[t]] = f"tracks: {exc}"
                return
            if objs is None:  # development mode: the album's simplified tracks are what we can have
                self._land("tracks_raw", ((t, items[t]) for t in chunk))
            else:
                self._land("tracks_raw", ((o["id"], o) for o in objs if o))

        chunks = [todo[i:i + TRACK_BATCH] for i in range(0, len(todo), TRACK_BATCH)]
        if chunks and self.caps.batch is None:
            batch(chunks.pop(0))
        if self.caps.batch is False:
            self._land("tracks_raw", ((t, items[t]) for c in chunks for t in c))
        else:
            list(pool.map(batch, chunks))
        return todo, failed

    def _fetch_features(self, pool: ThreadPoolExecutor, track_ids: list[str], track_album: dict[str, str]
                        ) -> dict[str, str]:
        landed = self._landed("audio_features_raw", track_ids)
        todo = [t for t in track_ids if t not in landed]
        failed: dict[str, str] = {}

        def batch(chunk: list[str]) -> None:
            try:
                objs = self.features.fetch(chunk)
            except ApiError as exc:
                for t in chunk:
                    failed[track_album[t]] = f"audio features: {exc}"
                return
            self._land("audio_features_raw", ((o["id"], o) for o in objs))

        list(pool.map(batch, [todo[i:i + 100] for i in range(0, len(todo), 100)]))
        return failed

    # ------------------------------------------------------------------ driver
    def _vanished(self, listings: dict[str, list[str]], groups: str) -> list[str]:
        """Albums an artist listed at its previous crawl (same groups) and no longer lists."""
        previous = self.store.get_payloads("listings_raw", listings)
        listed = {a for ids in listings.values() for a in ids}
        gone = {a for artist_id, doc in previous.items() if doc.get("include_groups") == groups
                for a in doc.get("album_ids") or [] if a not in listed}
        with self._lock:
            gone -= self._claimed
            self._claimed.update(gone)
        return sorted(gone)

    def _chunk(self, pool: ThreadPoolExecutor, artist_ids: list[str]) -> None:
        failed_artists, gone_artists = self._fetch_artists(pool, artist_ids)
        live = [a for a in artist_ids if a not in failed_artists and a not in gone_artists]
        owners: dict[str, set[str]] = {}
        listings: dict[str, list[str]] = {}
        groups = ",".join(BASE_GROUPS + (("appears_on",) if self.opt.include_appears_on else ()))

        def listing(artist_id: str) -> None:
            try:
                ids = self._album_ids(artist_id)
            except ApiError as exc:
                failed_artists.add(artist_id)
                self._fail(artist_id, f"album listing: {exc}")
                return
            with self._lock:
                listings[artist_id] = ids
                for album_id in ids:
                    owners.setdefault(album_id, set()).add(artist_id)

        list(pool.map(listing, live))
        with self._lock:
            fresh = [a for a in owners if a not in self._claimed]
            self._claimed.update(fresh)
        landed = self._landed("albums_raw", fresh)
        vanished = self._vanished(listings, groups)
        albums, album_failures = self._fetch_albums(pool, [a for a in fresh if a not in landed] + vanished)
        gone_albums = [a for a in vanished if album_failures.get(a) == "album not found"]
        self._unavailable("album", gone_albums)
        for album_id in vanished:  # an unlisted album that fails otherwise is no artist's failure
            album_failures.pop(album_id, None)
        _, track_failures = self._fetch_tracks(pool, albums)
        # Features for every track of these albums, not only the tracks fetched now: a resumed
        # crawl may have landed tracks whose features were still to come when it was killed.
        track_album = {t["id"]: a["id"] for a in albums for t in a["tracks"]["items"] if t and t.get("id")}
        feature_failures = self._fetch_features(pool, list(track_album), track_album)
        bad_albums = {**album_failures, **track_failures, **feature_failures}
        self._land("albums_raw", ((a["id"], a) for a in albums if a["id"] not in bad_albums))
        for album_id, reason in bad_albums.items():
            for artist_id in owners.get(album_id, ()):
                failed_artists.add(artist_id)
                self._fail(artist_id, reason)
        self._land("listings_raw", ((a, {"artist_id": a, "include_groups": groups, "album_ids": ids})
                                    for a, ids in listings.items() if a not in failed_artists))
        for artist_id in artist_ids:
            if artist_id in failed_artists:
                for alias in self._aliases.get(artist_id, ()):
                    self._fail(alias, self.report.failed.get(artist_id, "failed"))
                continue
            status, reason = ("unavailable", "404 on refresh") if artist_id in gone_artists else ("done", None)
            for key in (artist_id, *self._aliases.get(artist_id, ())):
                self.store.set_checkpoint(key, status, reason, self.opt.run_id)
            with self._lock:
                self.report.done += 1

    def run(self, entries: Sequence[ArtistEntry]) -> CrawlReport:
        start = time.monotonic()
        checkpoints = self.store.checkpoints()

        def is_done(key: str) -> bool:
            cp = checkpoints.get(key)
            if self.opt.mode != "continue" or cp is None or cp.status not in ("done", "unavailable"):
                return False
            return self._cutoff is None or cp.updated_at > self._cutoff

        unique = list({e.key: e for e in entries}.values())
        self.report.total = len(unique)
        pending = [e for e in unique if not is_done(e.key)]
        self.report.skipped = len(unique) - len(pending)
        stop = threading.Event()
        reporter = threading.Thread(target=self._report_loop, args=(stop, start), daemon=True)
        reporter.start()
        try:
            with ThreadPoolExecutor(max_workers=self.opt.workers, thread_name_prefix="crawl") as pool:
                ids: list[str] = []
                for entry, artist_id in zip(pending, pool.map(self._resolve, pending), strict=True):
                    if artist_id is None:
                        continue
                    if entry.spotify_id is None:  # a name resolved by search
                        if is_done(artist_id):
                            self.store.set_checkpoint(entry.key, "done", None, self.opt.run_id)
                            self.report.done += 1
                            continue
                        self._aliases.setdefault(artist_id, []).append(entry.key)
                    if artist_id not in ids:
                        ids.append(artist_id)
                # Two chunks in flight: while one waits on the last calls of a phase, the other
                # keeps the workers (and the rate budget) busy. Albums shared between chunks are
                # claimed once (self._claimed), so nothing is fetched twice. A fatal error stops
                # the chunks not yet started instead of letting them all run first.
                size = self.opt.refresh_chunk_size if self.opt.mode == "refresh" else self.opt.chunk_size
                chunks = ThreadPoolExecutor(max_workers=CHUNKS_IN_FLIGHT, thread_name_prefix="chunk")
                try:
                    list(chunks.map(lambda at: self._chunk(pool, ids[at:at + size]), range(0, len(ids), size)))
                finally:
                    chunks.shutdown(wait=True, cancel_futures=True)
        finally:
            stop.set()
            reporter.join()
            self.report.elapsed_s = time.monotonic() - start
            self.report.calls = Counter(self.client.calls)
            self.report.batch_endpoints = self.caps.batch
            self.report.events = Counter(self.client.events)
        return self.report

    def _report_loop(self, stop: threading.Event, start: float) -> None:
        while not stop.wait(2.0):
            if self._progress is None:
                continue
            r = self.report
            elapsed = time.monotonic() - start
            calls = self.client.total_calls()
            handled = r.done + len(r.failed)
            todo = r.total - r.skipped
            eta = (todo - handled) * elapsed / handled if handled else float("nan")
            self._progress(
                f"crawl: artists {handled}/{todo} ({len(r.failed)} failed) | calls {calls} "
                f"({calls / elapsed:.1f}/s) | 429s {self.client.events['429']} | "
                f"ETA {'?' if eta != eta else f'{eta:.0f}s'}"
            )
