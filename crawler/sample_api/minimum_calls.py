"""The theoretical minimum number of API calls to crawl a catalog, per endpoint and app mode.

Benchmarks and tests compare the crawler's real call counts with this bound: batch endpoints
full to their maximum (50 artists, 20 albums, 50 tracks, 100 audio features) in extended mode,
one call per item in development mode, and every page of albums and tracks exactly once.
"""

from __future__ import annotations

from math import ceil

from crawler.sample_api.synthetic_catalog import Catalog
from spotify_pipeline.vocabulary import DEVELOPMENT_ALBUM_PAGE, MAX_IDS, MAX_PAGE, OWN_ALBUM_GROUPS


def minimum_calls(catalog: Catalog, mode: str = "extended", include_appears_on: bool = False,
                  artists: int | None = None) -> dict[str, int]:
    """Calls for the first ``artists`` artists of the catalog (all by default)."""
    n = catalog.n_artists if artists is None else artists
    groups = OWN_ALBUM_GROUPS + (("appears_on",) if include_appears_on else ())
    page = MAX_PAGE if mode == "extended" else DEVELOPMENT_ALBUM_PAGE
    listings = 0
    albums: set[int] = set()
    for i in range(n):
        owned = catalog.artist_albums(i, groups)
        listings += max(1, ceil(len(owned) / page))
        albums.update(a for a, _ in owned)
    extra_pages = sum(ceil(max(0, catalog.album_track_count(a) - MAX_PAGE) / MAX_PAGE) for a in albums)
    tracks = sum(catalog.album_track_count(a) for a in albums)
    if mode == "extended":
        return {"artists": ceil(n / MAX_IDS["artists"]), "artists/{id}/albums": listings,
                "albums": ceil(len(albums) / MAX_IDS["albums"]), "albums/{id}/tracks": extra_pages,
                "tracks": ceil(tracks / MAX_IDS["tracks"]), "audio-features": ceil(tracks / MAX_IDS["audio-features"])}
    return {"artists/{id}": n, "artists/{id}/albums": listings, "albums/{id}": len(albums),
            "albums/{id}/tracks": extra_pages}


def catalog_tracks(catalog: Catalog, artists: int | None = None, include_appears_on: bool = False) -> int:
    n = catalog.n_artists if artists is None else artists
    groups = OWN_ALBUM_GROUPS + (("appears_on",) if include_appears_on else ())
    albums = {a for i in range(n) for a, _ in catalog.artist_albums(i, groups)}
    return sum(catalog.album_track_count(a) for a in albums)
