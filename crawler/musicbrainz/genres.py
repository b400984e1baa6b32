"""MusicBrainz as the genre source for artists Spotify gives no genres (``GENRES_SOURCE``).

``MusicBrainzGenres.fetch(spotify_ids)`` makes the fewest calls that give MusicBrainz's genres:

1. ``url?resource=<open.spotify.com artist URL>...&inc=artist-rels`` by 100: which artists
   MusicBrainz links to each Spotify id (several: the smallest MBID, see :func:`pick_mbid`);
2. ``artist?query=arid:(A OR B ...)&limit=100`` by 100 linked artists: their tags;
3. the genre list (``genre/all``) once per source object: a tag is a genre when its name is
   listed, which is how MusicBrainz derives ``inc=genres``.

An MBID missing from the search answer (the search index lags edits by minutes) falls back to
``artist/<MBID>?inc=genres``. Ids MusicBrainz links to no artist are reported ``unknown``, for
``lookups_raw``; a linked artist without genre tags is found with ``genres: []``.
Thread-safe: the crawl may call ``fetch`` from several threads; the client serializes requests.

Use (one source per run, so the genre list is fetched once)::

    source = MusicBrainzGenres.from_settings(settings)
    lookup = source.fetch(artist_ids)  # raises MusicBrainzError, an ApiError, when a call fails for good
    genres_raw:  lookup.found          # (Spotify artist id, payload)
    lookups_raw: [miss_document(i, asked_at) for i in lookup.unknown]

Pass all the ids at hand in one call: ``fetch`` batches them by 100 itself, and searches the
linked artists of every url batch together.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from crawler import lookups
from crawler.musicbrainz import parse
from crawler.musicbrainz.calls import BATCH, minimum_calls
from crawler.musicbrainz.client import MusicBrainzClient, MusicBrainzError
from spotify_core.settings import Settings

__all__ = ["GenreLookup", "MusicBrainzGenres", "genres_payload", "minimum_calls", "miss_document"]

SOURCE = "musicbrainz"
GENRE_PAGE = 100  # genre/all?fmt=json pages (only when the text form is unavailable)


@dataclass
class GenreLookup:
    """What MusicBrainz said about a list of Spotify artist ids."""

    found: list[tuple[str, dict]] = field(default_factory=list)  # (Spotify id, genres_raw payload)
    unknown: list[str] = field(default_factory=list)  # ids MusicBrainz links to no artist


def genres_payload(spotify_id: str, mbid: str, genres: list[str], artist: dict) -> dict:
    """The ``genres_raw`` payload of a MusicBrainz answer (docs/sources.md)."""
    return {"artist_id": spotify_id, "source": SOURCE, "mbid": mbid, "genres": genres, "artist": artist}


def miss_document(spotify_id: str, asked_at: str) -> tuple[str, dict]:
    """(``lookups_raw`` id, payload) of an id MusicBrainz does not know."""
    return lookups.miss_document(SOURCE, spotify_id, asked_at)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class MusicBrainzGenres:
    name = SOURCE

    def __init__(self, client: MusicBrainzClient) -> None:
        self.client = client
        self._genres: frozenset[str] | None = None
        self._genres_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> MusicBrainzGenres:
        return cls(MusicBrainzClient.from_settings(settings))

    def genre_names(self) -> frozenset[str]:
        """MusicBrainz's genre list, fetched once per source (casefolded names)."""
        with self._genres_lock:
            if self._genres is None:
                self._genres = parse.genre_set(self._fetch_genre_list())
            return self._genres

    def _fetch_genre_list(self) -> list[str]:
        try:
            names = parse.genre_names_from_text(self.client.genre_list_text())
        except MusicBrainzError as exc:
            if exc.status not in (400, 404, 406):
                raise
            names = []
        if names and not names[0].startswith(("{", "<")):
            return names
        # A server without the text form: the JSON pages.
        names, total = parse.genre_page(self.client.genre_list_page(0, GENRE_PAGE))
        while len(names) < total:
            page, _ = parse.genre_page(self.client.genre_list_page(len(names), GENRE_PAGE))
            if not page:
                break
            names.extend(page)
        if not names:
            raise MusicBrainzError(None, "genre/all", "the genre list is empty")
        return names

    def fetch(self, artist_ids: list[str]) -> GenreLookup:
        """Genres of the given Spotify artists, batched by 100 (raises :class:`MusicBrainzError`)."""
        ids = list(dict.fromkeys(artist_ids))
        if not ids:
            return GenreLookup()
        mbid_of: dict[str, str] = {}
        for chunk in _chunks(ids, BATCH):
            mbid_of.update(parse.linked_mbids(self.client.lookup_urls([parse.spotify_artist_url(i) for i in chunk])))
        result = GenreLookup(unknown=[i for i in ids if i not in mbid_of])
        if not mbid_of:
            return result
        genre_names = self.genre_names()
        artists: dict[str, dict] = {}
        for chunk in _chunks(sorted(set(mbid_of.values())), BATCH):
            artists.update(parse.artists_by_mbid(self.client.search_artists(parse.arid_query(chunk), limit=BATCH)))
        for spotify_id in ids:
            mbid = mbid_of.get(spotify_id)
            if mbid is None:
                continue
            artist = artists.get(mbid)
            if artist is not None:
                genres = parse.genres_from_tags(artist.get("tags") or [], genre_names)
            else:  # not in the search index yet: the artist itself
                artist = self.client.artist(mbid)
                if artist is None:  # linked to an artist since deleted or merged away
                    result.unknown.append(spotify_id)
                    continue
                artists[mbid] = artist
                genres = parse.genres_of_artist(artist)
            result.found.append((spotify_id, genres_payload(spotify_id, mbid, genres, artist)))
        return result
