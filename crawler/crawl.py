"""The crawl: artists.txt -> Spotify Web API -> landing zone, with the fewest calls the app may make.

This module orchestrates (chunks, landing, checkpoints, report); :mod:`crawler.fetch` knows how
to fetch each kind of object. Artists are processed in chunks (default 100). Within a chunk every
stage fans out over one thread pool and batches across artists, so batch calls are full except
the last of each stage:

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
6. the chunk's artists are checkpointed ``done``.

A kill loses at most the calls in flight: every listing, album batch, track batch and feature
batch is landed as soon as it returns. A resumed crawl skips done artists, reuses landed listings,
reads back the landed albums of unfinished artists and fetches only the tracks and features still
missing. (Refresh and full modes land albums after their tracks and features, so there a landed
album always means a complete one.)

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
from crawler.fetch import Collected, Fetcher
from crawler.landing.base import LandingDocument, LandingStore, utc_now_iso
from crawler.spotify.client import ApiError, SpotifyClient
from spotify_pipeline.vocabulary import OWN_ALBUM_GROUPS

log = logging.getLogger(__name__)

CHUNKS_IN_FLIGHT = 2


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


class Crawler:
    def __init__(self, client: SpotifyClient, store: LandingStore, features: FeatureSource,
                 options: CrawlOptions, progress: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.store = store
        self.features = features
        self.opt = options
        self.fetch: Fetcher | None = None  # built per run, on the run's thread pool
        self.report = CrawlReport(features_source=features.name, mode=options.mode)
        self._claimed: set[str] = set()  # album ids handled in this run (albums are shared)
        self._aliases: dict[str, list[str]] = {}  # artist id -> "name:..." keys resolved to it
        self._lock = threading.Lock()
        self._progress = progress
        self._cutoff = (
            (datetime.now(UTC) - timedelta(hours=options.ttl_hours)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            if options.ttl_hours else None
        )

    # ------------------------------------------------------------------ landing
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

    def _land_artists(self, objs: list[dict]) -> None:
        self._land("artists_raw", ((o["id"], o) for o in objs))
        self._land("genres_raw", ((o["id"], {"id": o["id"], "genres": o.get("genres") or []}) for o in objs))

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
            found = self.fetch.search_artist(entry.name)
        except ApiError as exc:
            self._fail(entry.key, f"search failed: {exc}")
            return None
        wanted = normalize_name(entry.name)
        hits = [a for a in found if normalize_name(a["name"]) == wanted]
        if not hits:
            self._fail(entry.key, "no search result with a matching name")
            return None
        if len(hits) > 1:
            log.warning("search %r: %d artists share the name; taking the most relevant (%s)",
                        entry.name, len(hits), hits[0]["id"])
        return hits[0]["id"]

    def _fetch_artists(self, artist_ids: list[str], artist_failed: Callable[[str, str], None]) -> set[str]:
        """Land artist objects; returns the ids landed before that are gone now (404)."""
        landed = set() if self.opt.mode != "continue" else self._landed("artists_raw", artist_ids)
        missing: set[str] = set()

        def fail(artist_id: str, reason: str) -> None:
            if reason == "artist not found":
                with self._lock:
                    missing.add(artist_id)
            else:
                artist_failed(artist_id, reason)

        self.fetch.artists([i for i in artist_ids if i not in landed], self._land_artists, fail)
        gone = self.store.existing_ids("artists_raw", missing) if missing else set()
        self._unavailable("artist", sorted(gone))
        for artist_id in sorted(missing - gone):
            artist_failed(artist_id, "artist not found")
        return gone

    def _vanished(self, previous: dict[str, dict], listings: dict[str, list[str]], groups: str) -> list[str]:
        """Albums an artist listed at its previous crawl (same groups) and no longer lists."""
        listed = {a for ids in listings.values() for a in ids}
        gone = {a for artist_id, doc in previous.items() if doc.get("include_groups") == groups
                for a in doc.get("album_ids") or [] if a not in listed}
        with self._lock:
            gone -= self._claimed
            self._claimed.update(gone)
        return sorted(gone)

    def _chunk(self, pool: ThreadPoolExecutor, artist_ids: list[str]) -> None:
        fetch = self.fetch
        failed_artists: set[str] = set()

        def artist_failed(artist_id: str, reason: str) -> None:
            with self._lock:
                failed_artists.add(artist_id)
            self._fail(artist_id, reason)

        gone_artists = self._fetch_artists(artist_ids, artist_failed)
        live = [a for a in artist_ids if a not in failed_artists and a not in gone_artists]
        owners: dict[str, set[str]] = {}
        listings: dict[str, list[str]] = {}
        groups = ",".join(fetch.album_groups)
        # Listings are landed as soon as they are fetched; a resumed crawl (continue mode) reuses
        # them instead of listing again. Refresh and full modes list every artist again.
        previous = self.store.get_payloads("listings_raw", live)
        reusable = set() if self.opt.mode != "continue" else self._landed("listings_raw", live)

        def listing(artist_id: str) -> None:
            before = previous.get(artist_id)
            if artist_id in reusable and before and before.get("include_groups") == groups:
                ids = list(before.get("album_ids") or [])
            else:
                try:
                    ids = fetch.album_ids(artist_id)
                except ApiError as exc:
                    artist_failed(artist_id, f"album listing: {exc}")
                    return
                self._land("listings_raw", [(artist_id, {"artist_id": artist_id, "include_groups": groups,
                                                         "album_ids": ids})])
            with self._lock:
                listings[artist_id] = ids
                for album_id in ids:
                    owners.setdefault(album_id, set()).add(artist_id)

        list(pool.map(listing, live))
        with self._lock:
            fresh = [a for a in owners if a not in self._claimed]
            self._claimed.update(fresh)
        landed = self._landed("albums_raw", fresh)
        vanished = self._vanished(previous, listings, groups)
        bad_albums: dict[str, str] = {}
        # Continue mode lands each album batch as soon as its track pages are joined, so a kill
        # loses at most the batches in flight; the landed albums of these (unfinished) artists are
        # read back, and their tracks and features completed where the killed run stopped.
        # Refresh and full modes land albums last: a landed album then means a complete one.
        early = self.opt.mode == "continue"
        fetched = Collected(land=(lambda objs: self._land("albums_raw", ((a["id"], a) for a in objs)))
                            if early else None)
        fetch.albums([a for a in fresh if a not in landed] + vanished, fetched, bad_albums.__setitem__)
        if early and landed:
            fetched(list(self.store.get_payloads("albums_raw", landed).values()), land=False)
        albums = fetched.items
        self._unavailable("album", [a for a in vanished if bad_albums.get(a) == "album not found"])
        for album_id in vanished:  # an unlisted album that fails otherwise is no artist's failure
            bad_albums.pop(album_id, None)
        track_album = {t["id"]: a["id"] for a in albums for t in a["tracks"]["items"] if t and t.get("id")}
        simplified = {t["id"]: t for a in albums for t in a["tracks"]["items"] if t and t.get("id")}

        def track_failed(track_id: str, reason: str) -> None:
            bad_albums[track_album[track_id]] = reason

        landed_tracks = self._landed("tracks_raw", simplified)
        fetch.tracks([t for t in simplified if t not in landed_tracks], simplified,
                     lambda objs: self._land("tracks_raw", ((o["id"], o) for o in objs)), track_failed)
        # Features for every track of these albums, not only the tracks fetched now: a resumed
        # crawl may have landed tracks whose features were still to come when it was killed.
        landed_features = self._landed("audio_features_raw", track_album)
        fetch.features([t for t in track_album if t not in landed_features],
                       lambda objs: self._land("audio_features_raw", ((o["id"], o) for o in objs)), track_failed)
        if not early:
            self._land("albums_raw", ((a["id"], a) for a in albums if a["id"] not in bad_albums))
        for album_id, reason in bad_albums.items():
            for artist_id in owners.get(album_id, ()):
                artist_failed(artist_id, reason)
        self._checkpoint(artist_ids, failed_artists, gone_artists)

    def _checkpoint(self, artist_ids: list[str], failed_artists: set[str], gone_artists: set[str]) -> None:
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

    # ------------------------------------------------------------------ driver
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
                groups = OWN_ALBUM_GROUPS + (("appears_on",) if self.opt.include_appears_on else ())
                self.fetch = Fetcher(self.client, pool, self.features, groups)
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
            self.report.batch_endpoints = self.fetch.batch.allowed if self.fetch else None
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
