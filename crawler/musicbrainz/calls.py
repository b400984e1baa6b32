"""The fewest MusicBrainz calls that give the genres of a set of Spotify artists (pure; no HTTP).

Crawl call-count tests and the sample service compare real counts with this bound. Keys are the
client's endpoint names (:func:`crawler.musicbrainz.client.endpoint_key`).
"""

from __future__ import annotations

from math import ceil

from spotify_core.vocabulary import MUSICBRAINZ_MAX_RESOURCES

BATCH = MUSICBRAINZ_MAX_RESOURCES


def minimum_calls(asked: int, linked: int, genre_list_calls: int = 1) -> dict[str, int]:
    """Calls for ``asked`` distinct Spotify ids of which ``linked`` have an MBID; zero counts left out.

    ``url`` lookups by 100 ids, ``artist?query`` searches by 100 linked artists, and the genre
    list once (``genre_list_calls``: 1 with ``genre/all?fmt=txt``, the pages of 100 otherwise).
    """
    calls = {"url": ceil(asked / BATCH), "artist?query": ceil(linked / BATCH),
             "genre/all": genre_list_calls if linked else 0}
    return {k: v for k, v in calls.items() if v}
