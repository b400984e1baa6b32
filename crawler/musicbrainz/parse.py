"""Pure parsing of MusicBrainz answers: url lookups, artist searches, genre lists, tags -> genres.

MusicBrainz's genres are the curated subset of its folksonomy tags (``GET /genre/all`` lists
them); ``inc=genres`` on an artist is that artist's tags whose name is a genre. An ``arid:``
search answers the tags of up to 100 artists at once, so intersecting them with the genre list
gives the same genres as 100 ``artist/<MBID>?inc=genres`` lookups for one call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SPOTIFY_ARTIST_URL = "https://open.spotify.com/artist/"
# Relation types linking a Spotify artist URL to an artist (Spotify is "free streaming").
STREAMING_TYPES = frozenset({"free streaming", "streaming"})


def spotify_artist_url(spotify_id: str) -> str:
    return f"{SPOTIFY_ARTIST_URL}{spotify_id}"


def spotify_artist_id(resource: str) -> str | None:
    """The Spotify id of an ``open.spotify.com/artist/<id>`` URL (query and trailing slash ignored)."""
    text = resource.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    marker = "open.spotify.com/artist/"
    if marker not in text:
        return None
    tail = text.split(marker, 1)[1]
    return tail or None


def url_entities(body: Any) -> list[dict]:
    """The url objects of a url lookup, in both of its shapes.

    Two or more ``resource`` parameters answer ``{"url-count", "url-offset", "urls": [...]}``
    (unknown URLs absent); exactly one answers the url object itself (404 when unknown).
    """
    if not isinstance(body, dict):
        return []
    if isinstance(body.get("urls"), list):
        return [u for u in body["urls"] if isinstance(u, dict)]
    return [body] if "resource" in body else []


def pick_mbid(relations: Iterable[Any]) -> str | None:
    """The artist a Spotify URL links to; with several, the smallest MBID.

    A Spotify artist URL linked to two MusicBrainz artists is a duplicate awaiting a merge (or
    a shared profile); MusicBrainz lists relations in no guaranteed order, so the smallest MBID
    makes the choice the same on every run.
    """
    mbids = sorted(
        rel["artist"]["id"] for rel in relations
        if isinstance(rel, dict) and rel.get("target-type") == "artist" and rel.get("type") in STREAMING_TYPES
        and isinstance(rel.get("artist"), dict) and rel["artist"].get("id")
    )
    return mbids[0] if mbids else None


def linked_mbids(body: Any) -> dict[str, str]:
    """Url lookup answer -> {Spotify artist id: MBID} for the URLs that link an artist."""
    out: dict[str, str] = {}
    for url in url_entities(body):
        spotify_id = spotify_artist_id(str(url.get("resource") or ""))
        mbid = pick_mbid(url.get("relations") or [])
        if spotify_id and mbid:
            out[spotify_id] = mbid
    return out


def artists_by_mbid(body: Any) -> dict[str, dict]:
    """Artist search answer -> {MBID: the artist object as received (with its ``tags``)}."""
    artists = body.get("artists") if isinstance(body, dict) else None
    return {a["id"]: a for a in artists or [] if isinstance(a, dict) and a.get("id")}


def tags_by_mbid(body: Any) -> dict[str, list[dict]]:
    """Artist search answer -> {MBID: tags}; an artist without tags has none (MusicBrainz omits the key)."""
    return {mbid: list(a.get("tags") or []) for mbid, a in artists_by_mbid(body).items()}


def _ranked(pairs: Iterable[tuple[str, Any]]) -> list[str]:
    """Names by vote count, most voted first, then by name; each once; non-positive counts dropped."""
    best: dict[str, int] = {}
    for name, count in pairs:
        votes = count if isinstance(count, int) else 1
        if votes > 0 and votes > best.get(name, 0):
            best[name] = votes
    return sorted(best, key=lambda n: (-best[n], n))


def genres_from_tags(tags: Iterable[Any], genre_names: frozenset[str]) -> list[str]:
    """The tags that are genres (names compared case-insensitively), most voted first.

    ``genre_names`` must be casefolded (see :func:`genre_set`). Tags voted down to zero or below
    are no genre of the artist, as on MusicBrainz's own pages.
    """
    pairs = []
    for tag in tags:
        if isinstance(tag, dict) and isinstance(tag.get("name"), str):
            name = tag["name"].strip().casefold()
            if name in genre_names:
                pairs.append((name, tag.get("count")))
    return _ranked(pairs)


def genres_of_artist(artist: Any) -> list[str]:
    """Genre names of an ``artist/<MBID>?inc=genres`` answer, most voted first."""
    genres = artist.get("genres") if isinstance(artist, dict) else None
    return _ranked((g["name"].strip().casefold(), g.get("count")) for g in genres or []
                   if isinstance(g, dict) and isinstance(g.get("name"), str))


def genre_set(names: Iterable[str]) -> frozenset[str]:
    return frozenset(n.strip().casefold() for n in names if n and n.strip())


def genre_names_from_text(text: str) -> list[str]:
    """``genre/all?fmt=txt``: one genre name per line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def genre_page(body: Any) -> tuple[list[str], int]:
    """``genre/all?fmt=json`` page -> (names on the page, total genre count)."""
    if not isinstance(body, dict):
        return [], 0
    names = [g["name"] for g in body.get("genres") or [] if isinstance(g, dict) and isinstance(g.get("name"), str)]
    total = body.get("genre-count")
    return names, total if isinstance(total, int) else len(names)


def arid_query(mbids: Iterable[str]) -> str:
    """Lucene query for an artist search by MBIDs: ``arid:(A OR B ...)``."""
    return "arid:(" + " OR ".join(mbids) + ")"
