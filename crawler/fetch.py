"""Fetch strategies: each kind of Spotify object with the fewest calls these credentials allow.

Batch endpoints where the app may use them (the first batch call is the probe), one call per id
otherwise; paging objects followed to the end. Results go to callbacks as soon as each call
returns, so the crawl can land them batch by batch; failures are reported per id, never raised
(except :class:`PipelineError`: the API is gone, the crawl stops).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from crawler.audio_features import Answers, FeatureSource
from crawler.spotify import capabilities
from crawler.spotify.capabilities import REFUSED, Capability
from crawler.spotify.client import ApiError, SpotifyClient
from crawler.spotify.paging import Paginator, items
from spotify_core.vocabulary import DEVELOPMENT_ALBUM_PAGE, MAX_IDS, MAX_PAGE

Sink = Callable[[list[dict]], None]
Failure = Callable[[str, str], None]  # (id, reason)


def chunked(ids: Sequence[str], size: int) -> list[list[str]]:
    return [list(ids[i:i + size]) for i in range(0, len(ids), size)]


class BatchOrSingle:
    """Fan ids out over the pool in batches where allowed, else one by one (or as one fallback)."""

    def __init__(self, pool: ThreadPoolExecutor, capability: Capability) -> None:
        self.pool = pool
        self.capability = capability

    def run(self, ids: Sequence[str], size: int, batch: Callable[[list[str]], bool],
            single: Callable[[str], None] | None = None,
            refused: Callable[[list[str]], None] | None = None) -> None:
        """``batch(chunk)`` returns False when refused; then each id goes to ``single`` (on the pool),
        or all remaining ids to ``refused`` at once. The first batch probes alone, so a refusal costs
        one call."""
        chunks = chunked(ids, size)
        if chunks and self.capability.allowed is None and batch(chunks[0]):
            chunks.pop(0)
        if self.capability.allowed is False:
            rest = [i for c in chunks for i in c]
            if single is not None:
                list(self.pool.map(single, rest))
            elif refused is not None and rest:
                refused(rest)
        else:
            list(self.pool.map(batch, chunks))


class Fetcher:
    def __init__(self, client: SpotifyClient, pool: ThreadPoolExecutor, features: FeatureSource,
                 album_groups: Sequence[str]) -> None:
        self.client = client
        self.pool = pool
        self.features_source = features
        self.album_groups = tuple(album_groups)
        self.batch = capabilities.batch_endpoints()
        self.album_page = capabilities.album_page_50()
        self.paginator = Paginator(client.get)
        self._fan_out = BatchOrSingle(pool, self.batch)

    def several(self, kind: str, ids: list[str]) -> list[dict | None] | None:
        """A batch call (``/artists?ids=``), or None when these credentials may not batch."""
        result = self.batch.call(lambda: self.client.several(kind, ids))
        return None if result is REFUSED else result

    # -- artists ---------------------------------------------------------------------------
    def search_artist(self, name: str) -> list[dict]:
        page = self.client.get("search", {"q": name, "type": "artist", "limit": 10})
        return [a for a in (page.get("artists") or {}).get("items") or [] if a]

    def _batch(self, kind: str, sink: Sink, fail: Failure, complete: Callable[[dict], dict] | None = None,
               missing_fails: bool = True) -> Callable[[list[str]], bool]:
        """The batch call of ``kind`` for :class:`BatchOrSingle`: False when these credentials may not batch.

        An id the batch answers null for fails with exactly "<kind> not found" (``missing_fails``; else it is
        dropped); ``complete`` finishes each object (an album's track pages) before it goes to ``sink``.
        """
        noun = kind[:-1]
        finish = complete or (lambda obj: obj)

        def batch(chunk: list[str]) -> bool:
            try:
                objs = self.several(kind, chunk)
            except ApiError as exc:
                for item_id in chunk:
                    fail(item_id, f"{kind}: {exc}")
                return True
            if objs is None:
                return False
            found = [o for o in objs if o]
            if missing_fails:
                for missing in sorted(set(chunk) - {o["id"] for o in found}):
                    fail(missing, f"{noun} not found")
            try:
                sink([finish(o) for o in found])
            except ApiError as exc:
                for item_id in chunk:
                    fail(item_id, f"{noun}: {exc}")
            return True

        return batch

    def _one(self, kind: str, sink: Sink, fail: Failure, complete: Callable[[dict], dict] | None = None
             ) -> Callable[[str], None]:
        """The per-id call of ``kind``: a 404 fails with exactly "<kind> not found"."""
        noun = kind[:-1]
        finish = complete or (lambda obj: obj)

        def one(item_id: str) -> None:
            try:
                sink([finish(self.client.get(f"{kind}/{item_id}"))])
            except ApiError as exc:
                fail(item_id, f"{noun} not found" if exc.status == 404 else f"{noun}: {exc}")

        return one

    def artists(self, ids: list[str], sink: Sink, fail: Failure) -> None:
        self._fan_out.run(ids, MAX_IDS["artists"], self._batch("artists", sink, fail),
                          single=self._one("artists", sink, fail))

    # -- albums ----------------------------------------------------------------------------
    def album_ids(self, artist_id: str) -> list[str]:
        """Ids of the artist's albums, with the largest page size the app may use (raises ApiError)."""
        path = f"artists/{artist_id}/albums"
        params = {"include_groups": ",".join(self.album_groups)}
        albums = self.album_page.call(lambda: items(self.paginator.pages(path, {**params, "limit": MAX_PAGE})))
        if albums is REFUSED:
            albums = items(self.paginator.pages(path, {**params, "limit": DEVELOPMENT_ALBUM_PAGE}))
        return [a["id"] for a in albums if a]

    def complete_tracks(self, album: dict) -> dict:
        """The album with every track page joined into ``tracks.items`` (``next`` null)."""
        tracks = album.get("tracks") or {}
        joined = items(self.paginator.rest(tracks))
        album["tracks"] = {**tracks, "items": joined, "next": None, "limit": max(len(joined), tracks.get("limit", 0)),
                           "offset": 0}
        return album

    def albums(self, ids: list[str], sink: Sink, fail: Failure) -> None:
        """Album objects with complete track lists, to ``sink`` one batch (or album) at a time.

        The reason of an album Spotify answered 404 (or null in a batch) is exactly "album not found".
        """
        self._fan_out.run(ids, MAX_IDS["albums"], self._batch("albums", sink, fail, self.complete_tracks),
                          single=self._one("albums", sink, fail, self.complete_tracks))

    # -- tracks and features ---------------------------------------------------------------
    def tracks(self, ids: list[str], simplified: dict[str, dict], sink: Sink, fail: Failure) -> None:
        """Full track objects where batch endpoints are allowed; else the album's simplified tracks
        (full ones would cost one call per track and add only the ISRC)."""
        self._fan_out.run(ids, MAX_IDS["tracks"], self._batch("tracks", sink, fail, missing_fails=False),
                          refused=lambda rest: sink([simplified[t] for t in rest]))

    def features(self, track_ids: list[str], sink: Callable[[Answers], None], fail: Failure) -> None:
        """Features by the source's batch size (Spotify 100, ReccoBeats 40), each answer to ``sink``.

        With ``auto`` the first batch probes Spotify's endpoint alone; the rest are cut to the size of
        the source it chose (a development-mode run then asks ReccoBeats by 40).
        """
        source = self.features_source

        def batch(chunk: list[str]) -> list[str]:
            try:
                answers = source.fetch(chunk)
            except ApiError as exc:
                for track_id in chunk:
                    fail(track_id, f"audio features: {exc}")
                return []
            sink(answers)
            return answers.deferred

        rest = list(track_ids)
        if rest and source.name == "auto":  # not probed yet
            probe, rest = rest[:source.batch_size], rest[source.batch_size:]
            rest = batch(probe) + rest
        while rest:  # deferred ids (a probe answered by another chunk meanwhile) go round again
            rest = [i for deferred in self.pool.map(batch, chunked(rest, source.batch_size)) for i in deferred]


class Collected:
    """A thread-safe list for fan-out results, optionally landing each batch as it arrives."""

    def __init__(self, land: Sink | None = None) -> None:
        self.items: list[dict] = []
        self._land = land
        self._lock = threading.Lock()

    def __call__(self, objs: list[dict], land: bool = True) -> None:
        if land and self._land is not None and objs:
            self._land(objs)
        with self._lock:
            self.items.extend(objs)
