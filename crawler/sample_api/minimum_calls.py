"""The theoretical minimum number of API calls to crawl a catalog, per endpoint and app mode.

Benchmarks and tests compare the crawler's real call counts with this bound: batch endpoints
full to their maximum (50 artists, 20 albums, 50 tracks, 100 audio features) in extended mode,
one call per item in development mode, and every page of albums and tracks exactly once.

:func:`refresh_minimum_calls` is the bound for an incremental refresh between two generations of
the same catalog (see ``Catalog.evolve``): every artist object again, every live artist's album
listing again, and only what changed beyond that — new albums with their tracks and features,
plus one lookup of each album that vanished from its artist's listing (to confirm the 404).
"""

from __future__ import annotations

from math import ceil

from crawler.sample_api.synthetic_catalog import Catalog
from spotify_pipeline.vocabulary import DEVELOPMENT_ALBUM_PAGE, MAX_IDS, MAX_PAGE, OWN_ALBUM_GROUPS


def _groups(include_appears_on: bool) -> tuple[str, ...]:
    return OWN_ALBUM_GROUPS + (("appears_on",) if include_appears_on else ())


def _listings(catalog: Catalog, n: int, groups: tuple[str, ...]) -> dict[int, list[int]]:
    """Artist index -> album indices it lists, for the live artists among the first ``n``."""
    return {i: [a for a, _ in catalog.artist_albums(i, groups)] for i in range(n) if not catalog.is_removed_artist(i)}


def _calls(mode: str, n_artists: int, listings: dict[int, list[int]], albums: set[int], lookups: int,
           catalog: Catalog) -> dict[str, int]:
    page = MAX_PAGE if mode == "extended" else DEVELOPMENT_ALBUM_PAGE
    listing_calls = sum(max(1, ceil(len(owned) / page)) for owned in listings.values())
    extra_pages = sum(ceil(max(0, catalog.album_track_count(a) - MAX_PAGE) / MAX_PAGE) for a in albums)
    tracks = sum(catalog.album_track_count(a) for a in albums)
    if mode == "extended":
        calls = {"artists": ceil(n_artists / MAX_IDS["artists"]), "artists/{id}/albums": listing_calls,
                 "albums": ceil(lookups / MAX_IDS["albums"]), "albums/{id}/tracks": extra_pages,
                 "tracks": ceil(tracks / MAX_IDS["tracks"]), "audio-features": ceil(tracks / MAX_IDS["audio-features"])}
    else:
        calls = {"artists/{id}": n_artists, "artists/{id}/albums": listing_calls, "albums/{id}": lookups,
                 "albums/{id}/tracks": extra_pages}
    return {k: v for k, v in calls.items() if v}


def minimum_calls(catalog: Catalog, mode: str = "extended", include_appears_on: bool = False,
                  artists: int | None = None) -> dict[str, int]:
    """Calls for the first ``artists`` artists of the catalog (all by default); zero counts left out."""
    n = catalog.n_artists if artists is None else artists
    listings = _listings(catalog, n, _groups(include_appears_on))
    albums = {a for owned in listings.values() for a in owned}
    return _calls(mode, n, listings, albums, len(albums), catalog)


def refresh_minimum_calls(before: Catalog, after: Catalog, mode: str = "extended",
                          include_appears_on: bool = False) -> dict[str, int]:
    """Calls of a refresh of every artist of ``after`` when everything of ``before`` has landed.

    ``before`` and ``after`` are the same catalog (seed) at two generations.
    """
    groups = _groups(include_appears_on)
    old = _listings(before, before.n_artists, groups)
    new = _listings(after, after.n_artists, groups)
    landed = {a for owned in old.values() for a in owned}
    fresh = {a for owned in new.values() for a in owned} - landed
    vanished = {a for i, owned in old.items() if i in new for a in owned} - {a for owned in new.values() for a in owned}
    return _calls(mode, after.n_artists, new, fresh, len(fresh) + len(vanished), after)


def catalog_tracks(catalog: Catalog, artists: int | None = None, include_appears_on: bool = False) -> int:
    n = catalog.n_artists if artists is None else artists
    albums = {a for owned in _listings(catalog, n, _groups(include_appears_on)).values() for a in owned}
    return sum(catalog.album_track_count(a) for a in albums)
