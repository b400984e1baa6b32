"""The crawl: artists.txt -> Spotify Web API -> landing zone, with the fewest calls the app may make.

This module orchestrates (chunks, landing, checkpoints, report); :mod:`crawler.fetch` knows how
to fetch each kind of object. Artists are processed in chunks (default 100). Within a chunk each
entity is one stream (a named method: ``_artist_stream``, ``_listing_stream``, ``_album_stream``,
``_track_stream``, ``_feature_stream``, then the credited artists and ``_settle``), handing the next
one what it needs through the chunk's ``_Chunk``; every stream fans out over one thread pool, shares
the client's rate limiter and batches across artists, so batch calls are full except the last of
each stream:

1. artist objects (``/artists?ids=`` by 50 where allowed, else per id) -> ``artists_raw``, and
   Spotify's genres where the object carries any -> ``genres_raw`` (:mod:`crawler.genre_stage`);
2. album listings per artist (largest page size the app may use);
3. album details for albums not yet claimed in this run nor landed (``/albums?ids=`` by 20, else
   per id), then the remaining track pages of albums with more than 50 tracks. The landed album
   is the API object with its track pages joined (``tracks.items`` complete, ``tracks.next``
   null), so the album -> track membership is in one document in every mode;
4. tracks: full objects (``/tracks?ids=`` by 50) where batch endpoints are allowed, because only
   full tracks carry popularity, ISRC and the album; in development mode full tracks would cost
   one call per track and add only the ISRC, so the simplified tracks from the album are landed;
5. audio features from the configured source (Spotify by 100, ReccoBeats by 40), for the tracks
   with none landed and no recent miss of that source in ``lookups_raw``;
6. credited artists: every artist credited on the chunk's albums and tracks that is neither an
   artist of this run nor in ``artists_raw`` yet is fetched like step 1 (by 50 where batch
   endpoints are allowed, else one call each) and landed with its genres, without listing its
   albums or checkpointing it. Albums credited to several artists appear in each one's listing,
   so without this a partial crawl would land tracks whose first artist is nowhere;
7. the chunk's artists are checkpointed ``done``.

Genres that Spotify does not give (development mode) are asked from the genre source (MusicBrainz)
on a thread of its own, by 100 artists, while the chunks go on (:mod:`crawler.genre_stage`); the
run ends when its last batch has landed. Which artists still need asking is read from the landing
zone at the start of each run, so a kill loses at most the batch in flight.

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

import json
import logging
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from crawler import lookups
from crawler.artists_file import ArtistEntry
from crawler.audio_features import Answers, FeatureSource
from crawler.fetch import Collected, Fetcher
from crawler.genre_stage import GENRE_MODES, GenreSource, GenreStream, spotify_genres, unanswered
from crawler.landing.base import LandingDocument, LandingStore, utc_now_iso
from crawler.spotify.client import ApiError, SpotifyClient
from spotify_core.vocabulary import OWN_ALBUM_GROUPS

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
    genres: str = "auto"  # GENRES_SOURCE, one of GENRE_MODES
    enrichment_retry_days: float = 30.0  # a miss of ReccoBeats/MusicBrainz is asked again after this

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"crawl mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.genres not in GENRE_MODES:
            raise ValueError(f"GENRES_SOURCE must be one of {', '.join(GENRE_MODES)}, not {self.genres!r}")


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
    genres_source: str = ""
    credited_artists: int = 0  # artists fetched because a crawled album or track credits them
    warnings: list[str] = field(default_factory=list)  # what is missing but fails no artist (a genre source down)
    mode: str = "continue"

    def summary(self, counts: dict[str, int]) -> str:
        """What the command prints and the Airflow task logs: counts, calls by endpoint, failures."""
        calls = sum(self.calls.values())
        lines = [
            f"crawl ({self.mode}) finished in {self.elapsed_s:.1f}s: {self.done} artists done, {self.skipped} already done, "
            f"{len(self.failed)} failed (of {self.total})",
            f"  mode: batch endpoints {'yes' if self.batch_endpoints else 'no' if self.batch_endpoints is False else 'not probed'}"
            f"; audio features source: {self.features_source}; genres source: {self.genres_source}",
            f"  API calls: {calls} ({calls / self.elapsed_s if self.elapsed_s else 0:.1f}/s); "
            f"429s {self.events.get('429', 0)}, retries {self.events.get('retry', 0)}, "
            f"token refreshes {self.events.get('token_refresh', 0)}",
        ]
        for endpoint, n in sorted(self.calls.items()):
            lines.append(f"    {endpoint:<28} {n}")
        if self.unavailable:
            kinds = Counter(key.split(":", 1)[0] for key in self.unavailable)
            lines.append("  unavailable now (404, recorded in unavailable_raw): "
                         + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
        lines.append("  landed this run: " + ", ".join(f"{k} {v}" for k, v in sorted(self.landed.items())))
        lines.append("  landing zone now: " + json.dumps(counts))
        lines += [f"  WARNING {warning}" for warning in self.warnings]
        for key, reason in sorted(self.failed.items()):
            lines.append(f"  FAILED {key}: {reason}")
        return "\n".join(lines)


@dataclass
class _Chunk:
    """What one chunk's streams hand each other: the artists, their listings, albums and failures."""

    artist_ids: list[str]
    fail: Callable[[str, str], None]  # (checkpoint key, reason): the crawl's record of a failed artist
    failed: set[str] = field(default_factory=set)  # artists failed in this chunk
    gone: set[str] = field(default_factory=set)  # artists landed before and 404 now
    groups: str = ""  # the include_groups of the listings
    previous: dict[str, dict] = field(default_factory=dict)  # landed listings, by artist
    listings: dict[str, list[str]] = field(default_factory=dict)  # album ids, by artist
    owners: dict[str, set[str]] = field(default_factory=dict)  # artists listing each album
    albums: list[dict] = field(default_factory=list)  # complete album objects
    track_album: dict[str, str] = field(default_factory=dict)  # track id -> album id
    bad_albums: dict[str, str] = field(default_factory=dict)  # album id -> why it failed
    lock: threading.Lock = field(default_factory=threading.Lock)

    def artist_failed(self, artist_id: str, reason: str) -> None:
        with self.lock:
            self.failed.add(artist_id)
        self.fail(artist_id, reason)

    def live(self) -> list[str]:
        return [a for a in self.artist_ids if a not in self.failed and a not in self.gone]

    def listed(self, artist_id: str, album_ids: list[str]) -> None:
        with self.lock:
            self.listings[artist_id] = album_ids
            for album_id in album_ids:
                self.owners.setdefault(album_id, set()).add(artist_id)

    def track_failed(self, track_id: str, reason: str) -> None:
        """A failed track fails its album (and so the album's artists)."""
        self.bad_albums[self.track_album[track_id]] = reason


class Crawler:
    def __init__(self, client: SpotifyClient, store: LandingStore, features: FeatureSource,
                 options: CrawlOptions, progress: Callable[[str], None] | None = None,
                 genre_source: GenreSource | None = None) -> None:
        self.client = client
        self.store = store
        self.features = features
        self.genre_source = genre_source if options.genres in ("auto", "musicbrainz") else None
        self.opt = options
        self.fetch: Fetcher | None = None  # built per run, on the run's thread pool
        self.genres: GenreStream | None = None  # built per run when a genre source is asked
        self.report = CrawlReport(features_source=features.name, mode=options.mode,
                                  genres_source=self._genres_label())
        self._claimed: set[str] = set()  # album ids handled in this run (albums are shared)
        self._run_artists: set[str] = set()  # artist ids this run crawls
        self._credited: set[str] = set()  # credited artist ids claimed by a chunk of this run
        self._events: Counter = Counter()  # the crawl's own events, beside the client's
        self._aliases: dict[str, list[str]] = {}  # artist id -> "name:..." keys resolved to it
        self._lock = threading.Lock()
        self._progress = progress
        self._cutoff = (
            (datetime.now(UTC) - timedelta(hours=options.ttl_hours)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            if options.ttl_hours else None
        )
        # Misses recorded after this are not asked again (ENRICHMENT_RETRY_DAYS).
        self._retry_cutoff = (datetime.now(UTC) - timedelta(days=options.enrichment_retry_days)
                              ).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _genres_label(self) -> str:
        mode = self.opt.genres
        if mode == "auto" and self.genre_source is not None:
            return f"auto (spotify, else {self.genre_source.name})"
        return mode

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
        """Artist objects, their Spotify genres where given; the others queued for the genre source."""
        self._land("artists_raw", ((o["id"], o) for o in objs))
        land, ask = spotify_genres(self.opt.genres, objs)
        self._land("genres_raw", land)
        if self.genres is not None and ask:
            self.genres.add(self._unanswered_genres(ask))

    def _unanswered_genres(self, artist_ids: list[str]) -> list[str]:
        if self.opt.mode == "full":
            return artist_ids
        return unanswered(self.store, self.genre_source.name, artist_ids, self._retry_cutoff)

    def _land_genre_answers(self, found: list[tuple[str, dict]], unknown: list[str]) -> None:
        self._land("genres_raw", found)
        self._land_misses(self.genre_source.name, unknown)

    def _land_misses(self, source: str | None, ids: list[str]) -> None:
        """Ids ``source`` was asked about and did not know (``lookups_raw``), asked again after the retry interval."""
        if source is None or not ids:
            return
        now = self.opt.clock()
        self._land(lookups.COLLECTION, (lookups.miss_document(source, i, now) for i in ids))

    def _not_missed(self, source: str | None, ids: list[str]) -> list[str]:
        """``ids`` without a miss of ``source`` recorded within the retry interval (full mode asks again)."""
        if source is None or self.opt.mode == "full" or not ids:
            return ids
        asked = lookups.recent_misses(self.store, source, ids, self._retry_cutoff)
        return [i for i in ids if i not in asked]

    def _land_features(self, answers: Answers) -> None:
        self._land("audio_features_raw", answers.found)
        self._land_misses(self.features.miss_source, answers.unknown)

    def _land_credited(self, albums: list[dict], album_failed: Callable[[str, str], None]) -> None:
        """Fetch the artists credited on ``albums`` (and their tracks) that nothing has landed: no listing, no checkpoint.

        A credited artist Spotify answers 404 for is logged and counted (nothing to land); any other
        failure fails the albums crediting it, so their artists are not checkpointed and a rerun retries.
        """
        albums_of: dict[str, set[str]] = {}
        for album in albums:
            for item in (album, *((album.get("tracks") or {}).get("items") or [])):
                for artist in (item or {}).get("artists") or []:
                    if artist and artist.get("id"):
                        albums_of.setdefault(artist["id"], set()).add(album["id"])
        with self._lock:
            new = set(albums_of) - self._run_artists - self._credited
            self._credited.update(new)
        new -= self.store.existing_ids("artists_raw", new)
        if not new:
            return

        def fail(artist_id: str, reason: str) -> None:
            if reason == "artist not found":
                log.warning("credited artist %s: not found on Spotify (credited on %s)", artist_id,
                            ", ".join(sorted(albums_of[artist_id])))
                with self._lock:
                    self._events["credited_artist_not_found"] += 1
                return
            for album_id in albums_of[artist_id]:
                album_failed(album_id, f"credited artist {artist_id}: {reason}")

        self.fetch.artists(sorted(new), self._land_artists, fail)
        with self._lock:
            self.report.credited_artists += len(new)

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

    # ------------------------------------------------------------------ one chunk, one stream per entity
    def _chunk(self, artist_ids: list[str]) -> None:
        """A chunk of artists through the streams in order; each stream lands what it fetches as it returns."""
        chunk = _Chunk(artist_ids, self._fail)
        self._artist_stream(chunk)
        self._listing_stream(chunk)
        self._album_stream(chunk)
        self._track_stream(chunk)
        self._feature_stream(chunk)
        self._land_credited(chunk.albums, chunk.bad_albums.__setitem__)  # enrichment: credited artists
        self._settle(chunk)

    def _artist_stream(self, chunk: _Chunk) -> None:
        """Artist objects (and their genres); the ids landed before that are gone now (404) are marked gone."""
        landed = set() if self.opt.mode != "continue" else self._landed("artists_raw", chunk.artist_ids)
        missing: set[str] = set()

        def fail(artist_id: str, reason: str) -> None:
            if reason == "artist not found":
                with chunk.lock:
                    missing.add(artist_id)
            else:
                chunk.artist_failed(artist_id, reason)

        self.fetch.artists([i for i in chunk.artist_ids if i not in landed], self._land_artists, fail)
        chunk.gone = self.store.existing_ids("artists_raw", missing) if missing else set()
        self._unavailable("artist", sorted(chunk.gone))
        for artist_id in sorted(missing - chunk.gone):
            chunk.artist_failed(artist_id, "artist not found")

    def _listing_stream(self, chunk: _Chunk) -> None:
        """Each live artist's album ids, landed in ``listings_raw`` as fetched.

        A resumed crawl (continue mode) reuses the landed listings of the same album groups instead
        of listing again; refresh and full modes list every artist again.
        """
        live = chunk.live()
        chunk.groups = ",".join(self.fetch.album_groups)
        chunk.previous = self.store.get_payloads("listings_raw", live)
        reusable = set() if self.opt.mode != "continue" else self._landed("listings_raw", live)

        def listing(artist_id: str) -> None:
            before = chunk.previous.get(artist_id)
            if artist_id in reusable and before and before.get("include_groups") == chunk.groups:
                ids = list(before.get("album_ids") or [])
            else:
                try:
                    ids = self.fetch.album_ids(artist_id)
                except ApiError as exc:
                    chunk.artist_failed(artist_id, f"album listing: {exc}")
                    return
                self._land("listings_raw", [(artist_id, {"artist_id": artist_id, "include_groups": chunk.groups,
                                                         "album_ids": ids})])
            chunk.listed(artist_id, ids)

        list(self.fetch.pool.map(listing, live))

    def _album_stream(self, chunk: _Chunk) -> None:
        """Albums listed and not claimed by another chunk, with complete track lists; and vanished ones.

        Continue mode lands each album batch as soon as its track pages are joined, so a kill loses at
        most the batches in flight; the landed albums of these (unfinished) artists are read back, and
        their tracks and features completed where the killed run stopped. Refresh and full modes land
        albums last (:meth:`_settle`): a landed album then means a complete one.
        """
        with self._lock:
            fresh = [a for a in chunk.owners if a not in self._claimed]
            self._claimed.update(fresh)
        landed = self._landed("albums_raw", fresh)
        vanished = self._vanished(chunk.previous, chunk.listings, chunk.groups)
        early = self.opt.mode == "continue"
        fetched = Collected(land=(lambda objs: self._land("albums_raw", ((a["id"], a) for a in objs)))
                            if early else None)
        self.fetch.albums([a for a in fresh if a not in landed] + vanished, fetched, chunk.bad_albums.__setitem__)
        if early and landed:
            fetched(list(self.store.get_payloads("albums_raw", landed).values()), land=False)
        chunk.albums = fetched.items
        self._unavailable("album", [a for a in vanished if chunk.bad_albums.get(a) == "album not found"])
        for album_id in vanished:  # an unlisted album that fails otherwise is no artist's failure
            chunk.bad_albums.pop(album_id, None)
        chunk.track_album = {t["id"]: a["id"] for a in chunk.albums for t in a["tracks"]["items"] if t and t.get("id")}

    def _vanished(self, previous: dict[str, dict], listings: dict[str, list[str]], groups: str) -> list[str]:
        """Albums an artist listed at its previous crawl (same groups) and no longer lists."""
        listed = {a for ids in listings.values() for a in ids}
        gone = {a for artist_id, doc in previous.items() if doc.get("include_groups") == groups
                for a in doc.get("album_ids") or [] if a not in listed}
        with self._lock:
            gone -= self._claimed
            self._claimed.update(gone)
        return sorted(gone)

    def _track_stream(self, chunk: _Chunk) -> None:
        """The chunk's tracks not landed yet: full objects where batches are allowed, else the album's simplified ones."""
        simplified = {t["id"]: t for a in chunk.albums for t in a["tracks"]["items"] if t and t.get("id")}
        landed = self._landed("tracks_raw", simplified)
        self.fetch.tracks([t for t in simplified if t not in landed], simplified,
                          lambda objs: self._land("tracks_raw", ((o["id"], o) for o in objs)), chunk.track_failed)

    def _feature_stream(self, chunk: _Chunk) -> None:
        """Features for every track of the chunk's albums, not only the tracks fetched now.

        A resumed crawl may have landed tracks whose features were still to come when it was killed.
        Tracks the source did not know recently (``lookups_raw``) are not asked again.
        """
        landed = self._landed("audio_features_raw", chunk.track_album)
        self.fetch.features(self._not_missed(self.features.miss_source,
                                             [t for t in chunk.track_album if t not in landed]),
                            self._land_features, chunk.track_failed)

    def _settle(self, chunk: _Chunk) -> None:
        """Land the complete albums (refresh, full), fail the artists of failed albums, checkpoint the rest."""
        if self.opt.mode != "continue":
            self._land("albums_raw", ((a["id"], a) for a in chunk.albums if a["id"] not in chunk.bad_albums))
        for album_id, reason in chunk.bad_albums.items():
            for artist_id in chunk.owners.get(album_id, ()):
                chunk.artist_failed(artist_id, reason)
        self._checkpoint(chunk)

    def _checkpoint(self, chunk: _Chunk) -> None:
        for artist_id in chunk.artist_ids:
            if artist_id in chunk.failed:
                for alias in self._aliases.get(artist_id, ()):
                    self._fail(alias, self.report.failed.get(artist_id, "failed"))
                continue
            status, reason = ("unavailable", "404 on refresh") if artist_id in chunk.gone else ("done", None)
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
        self._run_artists = {e.spotify_id for e in unique if e.spotify_id}
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
                self._run_artists.update(ids)
                self._start_genres()
                # Two chunks in flight: while one waits on the last calls of a phase, the other
                # keeps the workers (and the rate budget) busy. Albums shared between chunks are
                # claimed once (self._claimed), so nothing is fetched twice. A fatal error stops
                # the chunks not yet started instead of letting them all run first.
                size = self.opt.refresh_chunk_size if self.opt.mode == "refresh" else self.opt.chunk_size
                chunks = ThreadPoolExecutor(max_workers=CHUNKS_IN_FLIGHT, thread_name_prefix="chunk")
                try:
                    list(chunks.map(lambda at: self._chunk(ids[at:at + size]), range(0, len(ids), size)))
                finally:
                    chunks.shutdown(wait=True, cancel_futures=True)
                self._retry_feature_misses()
            self._finish_genres(abort=False)
        finally:
            self._finish_genres(abort=True)
            stop.set()
            reporter.join()
            self.report.features_source = self.features.name
            self.report.elapsed_s = time.monotonic() - start
            self.report.calls = Counter(self.client.calls)
            self.report.calls.update(getattr(self.features, "calls", None) or {})  # "reccobeats/..."
            if self.genre_source is not None:
                name = self.genre_source.name
                calls = getattr(self.genre_source, "calls", None) or getattr(
                    getattr(self.genre_source, "client", None), "calls", None) or {}
                self.report.calls.update({k if k.startswith(name) else f"{name}/{k}": v for k, v in calls.items()})
            self.report.batch_endpoints = self.fetch.batch.allowed if self.fetch else None
            self.report.events = Counter(self.client.events) + self._events
        return self.report

    def _retry_feature_misses(self) -> None:
        """Ask the feature source again about the tracks it did not know before the retry interval.

        The chunks ask only about tracks of albums fetched now; a refresh fetches no landed album,
        so the older misses are found in ``lookups_raw`` (full mode asked every track already).
        """
        prefix = self.features.miss_source
        if prefix is None or self.opt.mode == "full":
            return
        stale = [d.id.split(":", 1)[1] for d in self.store.iter_raw("lookups_raw")
                 if d.id.startswith(f"{prefix}:") and d.fetched_at <= self._retry_cutoff]
        answered = self.store.existing_ids("audio_features_raw", stale)
        stale = [t for t in stale if t not in answered]
        if stale:
            def failed(track_id: str, reason: str) -> None:
                log.warning("audio features of %s asked again: %s", track_id, reason)

            self.fetch.features(stale, self._land_features, failed)

    def _start_genres(self) -> None:
        """The genre source's thread, first given the landed artists still unanswered (a killed run's batch)."""
        landed = self._land_genres_left_behind()
        if self.genre_source is None:
            return
        self.genres = GenreStream(self.genre_source, self._land_genre_answers)
        # auto: an artist landed without genres_raw had none from Spotify; unanswered() drops the others.
        self.genres.add(self._unanswered_genres(landed) if self.opt.mode != "full" else [])

    def _land_genres_left_behind(self, batch: int = 1000) -> list[str]:
        """Every landed artist id, after landing the Spotify genres a killed run left behind.

        An artist and its Spotify genres land in two writes (``_land_artists``). A run killed between them
        left the artist without ``genres_raw``: the next run would skip the artist, then ask the genre source
        about it (``auto``: MusicBrainz's genres instead of Spotify's) or nobody (``spotify``). Its genres
        are in the landed artist object.
        """
        landed: list[str] = []
        left: list[tuple[str, dict]] = []
        docs = self.store.iter_raw("artists_raw")
        while chunk := [doc for _, doc in zip(range(batch), docs, strict=False)]:
            ids = [doc.id for doc in chunk]
            have = self.store.existing_ids("genres_raw", ids)
            left += spotify_genres(self.opt.genres, (json.loads(d.payload_json) for d in chunk if d.id not in have))[0]
            landed += ids
        self._land("genres_raw", left)  # after the reading: no write while the store's cursor is open
        return landed

    def _finish_genres(self, abort: bool) -> None:
        stream, self.genres = self.genres, None
        if stream is None:
            return
        stream.close(abort=abort)
        if stream.error and not abort:  # the crawl's data landed; the genres are asked again at the next run
            self.report.warnings.append(f"genres: {stream.error}; the artists not answered are asked at the next run")

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
