"""The theoretical minimum number of API calls to crawl a catalog, per endpoint and app mode.

Benchmarks and tests compare the crawler's real call counts with this bound: batch endpoints
full to their maximum (50 artists, 20 albums, 50 tracks, 100 audio features) in extended mode,
one call per item in development mode, and every page of albums and tracks exactly once.

Two options bring in what a partial crawl of the real catalog meets:

- ``credited_artists=True``: the artists credited on the landed albums and tracks but not crawled
  themselves (collaborations, features) get their artist objects fetched too, in a pass of their
  own: batches of 50 in extended mode, one call each in development mode
  (:func:`credited_outside`, :func:`credited_artist_calls`).
- ``features_source``: ``"spotify"`` (the default: Spotify's endpoint where the mode allows it,
  none in development mode), ``"auto"`` (Spotify's in extended mode, ReccoBeats in development
  mode), ``"reccobeats"`` or ``"none"``. ReccoBeats reads 40 ids a call: ceil(tracks / 40) calls,
  counted under :data:`RECCOBEATS_CALLS`.

``ranked=True`` takes the first ``artists`` artists of the kworb ranking (what a crawl of
``spotify-pipeline kworb --limit N`` sees) instead of the first of the catalog.

:func:`refresh_minimum_calls` is the bound for an incremental refresh between two generations of
the same catalog (see ``Catalog.evolve``): every artist object again, every live artist's album
listing again, and only what changed beyond that — new albums with their tracks and features,
plus one lookup of each album that vanished from its artist's listing (to confirm the 404).
"""

from __future__ import annotations

from collections.abc import Iterable
from math import ceil

from sample_api.synthetic_catalog import Catalog
from spotify_core.vocabulary import (
    DEVELOPMENT_ALBUM_PAGE,
    MAX_IDS,
    MAX_PAGE,
    OWN_ALBUM_GROUPS,
    RECCOBEATS_MAX_IDS,
)

RECCOBEATS_CALLS = "reccobeats/audio-features"  # the key of ReccoBeats calls in the returned counts
FEATURE_SOURCES = ("spotify", "auto", "reccobeats", "none")


def _groups(include_appears_on: bool) -> tuple[str, ...]:
    return OWN_ALBUM_GROUPS + (("appears_on",) if include_appears_on else ())


def _crawled(catalog: Catalog, artists: int | None, ranked: bool) -> list[int]:
    """Indices of the artists a crawl asks for: the first ``artists`` of the catalog or the ranking."""
    order = catalog.ranked_artists() if ranked else list(range(catalog.n_artists))
    return order if artists is None else order[:artists]


def _listings(catalog: Catalog, crawled: Iterable[int], groups: tuple[str, ...]) -> dict[int, list[int]]:
    """Artist index -> album indices it lists, for the live artists among ``crawled``."""
    return {i: [a for a, _ in catalog.artist_albums(i, groups)] for i in crawled if not catalog.is_removed_artist(i)}


def _feature_calls(mode: str, features_source: str, tracks: int) -> dict[str, int]:
    if features_source not in FEATURE_SOURCES:
        raise ValueError(f"features_source must be one of {FEATURE_SOURCES}, not {features_source!r}")
    source = {"auto": "spotify" if mode == "extended" else "reccobeats"}.get(features_source, features_source)
    if source == "spotify" and mode == "extended":
        return {"audio-features": ceil(tracks / MAX_IDS["audio-features"])}
    if source == "reccobeats":
        return {RECCOBEATS_CALLS: ceil(tracks / RECCOBEATS_MAX_IDS)}
    return {}


def _calls(mode: str, n_artists: int, listings: dict[int, list[int]], albums: set[int], lookups: int,
           catalog: Catalog, features_source: str = "spotify", extra_artists: int = 0) -> dict[str, int]:
    page = MAX_PAGE if mode == "extended" else DEVELOPMENT_ALBUM_PAGE
    listing_calls = sum(max(1, ceil(len(owned) / page)) for owned in listings.values())
    extra_pages = sum(ceil(max(0, catalog.album_track_count(a) - MAX_PAGE) / MAX_PAGE) for a in albums)
    tracks = sum(catalog.album_track_count(a) for a in albums)
    if mode == "extended":
        per = MAX_IDS["artists"]
        calls = {"artists": ceil(n_artists / per) + ceil(extra_artists / per), "artists/{id}/albums": listing_calls,
                 "albums": ceil(lookups / MAX_IDS["albums"]), "albums/{id}/tracks": extra_pages,
                 "tracks": ceil(tracks / MAX_IDS["tracks"])}
    else:
        calls = {"artists/{id}": n_artists + extra_artists, "artists/{id}/albums": listing_calls,
                 "albums/{id}": lookups, "albums/{id}/tracks": extra_pages}
    calls.update(_feature_calls(mode, features_source, tracks))
    return {k: v for k, v in calls.items() if v}


def credited_outside(catalog: Catalog, crawled: Iterable[int], include_appears_on: bool = False) -> set[int]:
    """Artists credited on the albums and tracks a crawl of ``crawled`` lands, that it did not crawl."""
    crawled = set(crawled)
    albums = {a for owned in _listings(catalog, crawled, _groups(include_appears_on)).values() for a in owned}
    credited = {i for a in albums for i in catalog.album_artists(a)}
    credited |= {i for a in albums for t in catalog.album_tracks(a) for i in catalog.track_artists(t)}
    return credited - crawled


def credited_artist_calls(catalog: Catalog, mode: str = "extended", artists: int | None = None,
                          include_appears_on: bool = False, ranked: bool = True) -> int:
    """Calls for the artist objects of :func:`credited_outside` a crawl of the first ``artists``
    of the ranking (of the catalog when ``ranked=False``): batches of 50, or one each in development mode."""
    outside = len(credited_outside(catalog, _crawled(catalog, artists, ranked), include_appears_on))
    return ceil(outside / MAX_IDS["artists"]) if mode == "extended" else outside


def minimum_calls(catalog: Catalog, mode: str = "extended", include_appears_on: bool = False,
                  artists: int | None = None, *, ranked: bool = False, credited_artists: bool = False,
                  features_source: str = "spotify") -> dict[str, int]:
    """Calls for the first ``artists`` artists of the catalog (all by default); zero counts left out.

    ``ranked``, ``credited_artists`` and ``features_source``: see the module docstring.
    """
    crawled = _crawled(catalog, artists, ranked)
    listings = _listings(catalog, crawled, _groups(include_appears_on))
    albums = {a for owned in listings.values() for a in owned}
    extra = len(credited_outside(catalog, crawled, include_appears_on)) if credited_artists else 0
    return _calls(mode, len(crawled), listings, albums, len(albums), catalog, features_source, extra)


def refresh_minimum_calls(before: Catalog, after: Catalog, mode: str = "extended",
                          include_appears_on: bool = False, features_source: str = "spotify") -> dict[str, int]:
    """Calls of a refresh of every artist of ``after`` when everything of ``before`` has landed.

    ``before`` and ``after`` are the same catalog (seed) at two generations.
    """
    groups = _groups(include_appears_on)
    old = _listings(before, range(before.n_artists), groups)
    new = _listings(after, range(after.n_artists), groups)
    landed = {a for owned in old.values() for a in owned}
    fresh = {a for owned in new.values() for a in owned} - landed
    vanished = {a for i, owned in old.items() if i in new for a in owned} - {a for owned in new.values() for a in owned}
    return _calls(mode, after.n_artists, new, fresh, len(fresh) + len(vanished), after, features_source)


def catalog_tracks(catalog: Catalog, artists: int | None = None, include_appears_on: bool = False,
                   ranked: bool = False) -> int:
    albums = {a for owned in _listings(catalog, _crawled(catalog, artists, ranked),
                                       _groups(include_appears_on)).values() for a in owned}
    return sum(catalog.album_track_count(a) for a in albums)
