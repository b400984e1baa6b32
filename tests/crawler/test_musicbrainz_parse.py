"""Pure parsing of MusicBrainz answers, on shapes taken from the MusicBrainz web service."""

from __future__ import annotations

from crawler.musicbrainz import parse
from crawler.musicbrainz.genres import genres_payload, minimum_calls, miss_document

A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"
SPOTIFY = "0TnOYISbd1XYRBk9myaseg"


def relation(mbid: str, rel_type: str = "free streaming", target: str = "artist") -> dict:
    return {"type": rel_type, "target-type": target, "direction": "backward", "ended": False,
            target: {"id": mbid, "name": "X", "sort-name": "X"}}


def test_url_lookup_both_shapes() -> None:
    url = {"id": "u1", "resource": parse.spotify_artist_url(SPOTIFY), "relations": [relation(A)]}
    batch = {"url-count": 1, "url-offset": 0, "urls": [url]}
    assert parse.linked_mbids(batch) == {SPOTIFY: A}
    assert parse.linked_mbids(url) == {SPOTIFY: A}  # one resource: the url object itself
    assert parse.linked_mbids({"url-count": 0, "url-offset": 0, "urls": []}) == {}
    assert parse.linked_mbids(None) == {}


def test_several_artists_pick_the_smallest_mbid_whatever_the_order() -> None:
    for rels in ([relation(B), relation(A)], [relation(A), relation(B)]):
        url = {"resource": parse.spotify_artist_url(SPOTIFY), "relations": rels}
        assert parse.linked_mbids(url) == {SPOTIFY: A}


def test_only_streaming_links_to_artists_count() -> None:
    rels = [relation(A, target="release"), relation(B, rel_type="wikidata")]
    assert parse.pick_mbid(rels) is None
    assert parse.linked_mbids({"resource": parse.spotify_artist_url(SPOTIFY), "relations": rels}) == {}
    assert parse.linked_mbids({"resource": parse.spotify_artist_url(SPOTIFY)}) == {}  # no inc=artist-rels


def test_spotify_id_from_resource() -> None:
    assert parse.spotify_artist_id(f"https://open.spotify.com/artist/{SPOTIFY}") == SPOTIFY
    assert parse.spotify_artist_id(f"https://open.spotify.com/artist/{SPOTIFY}/?si=x") == SPOTIFY
    assert parse.spotify_artist_id("https://open.spotify.com/album/abc") is None


def test_genres_are_the_tags_in_the_genre_list() -> None:
    genres = parse.genre_set(["Rock", "hip hop", "k-pop", "jazz"])
    tags = [{"count": 3, "name": "rock"}, {"count": 9, "name": "seen live"}, {"count": 5, "name": "Hip Hop"},
            {"count": 2, "name": "british"}, {"count": 0, "name": "jazz"}, {"count": 5, "name": "k-pop"}]
    # most voted first, ties by name; "seen live"/"british" are tags, not genres; a tag voted to 0 is gone
    assert parse.genres_from_tags(tags, genres) == ["hip hop", "k-pop", "rock"]
    assert parse.genres_from_tags([], genres) == []


def test_search_answer_and_artist_genres() -> None:
    body = {"created": "2026-12-05T00:00:00.000Z", "count": 2, "offset": 0,
            "artists": [{"id": A, "name": "X", "score": 100, "tags": [{"count": 1, "name": "pop"}]},
                        {"id": B, "name": "Y", "score": 100}]}
    assert parse.tags_by_mbid(body) == {A: [{"count": 1, "name": "pop"}], B: []}
    assert parse.artists_by_mbid(body)[B]["name"] == "Y"
    artist = {"id": A, "genres": [{"name": "pop", "count": 1, "id": "g1", "disambiguation": ""},
                                  {"name": "dance pop", "count": 4, "id": "g2", "disambiguation": ""}]}
    assert parse.genres_of_artist(artist) == ["dance pop", "pop"]


def test_genre_list_forms() -> None:
    assert parse.genre_names_from_text("acid jazz\nrock\n\n") == ["acid jazz", "rock"]
    page = {"genre-count": 301, "genre-offset": 100, "genres": [{"id": "g", "name": "pop", "disambiguation": ""}]}
    assert parse.genre_page(page) == (["pop"], 301)
    assert parse.arid_query([A, B]) == f"arid:({A} OR {B})"


def test_landing_shapes_follow_docs_sources() -> None:
    payload = genres_payload(SPOTIFY, A, ["pop"], {"id": A})
    assert payload == {"artist_id": SPOTIFY, "source": "musicbrainz", "mbid": A, "genres": ["pop"],
                       "artist": {"id": A}}
    assert miss_document(SPOTIFY, "2026-12-05T00:00:00Z") == (
        f"musicbrainz:{SPOTIFY}", {"source": "musicbrainz", "id": SPOTIFY, "asked_at": "2026-12-05T00:00:00Z"})


def test_minimum_calls() -> None:
    assert minimum_calls(250, 207) == {"url": 3, "artist?query": 3, "genre/all": 1}
    assert minimum_calls(100, 100) == {"url": 1, "artist?query": 1, "genre/all": 1}
    assert minimum_calls(101, 0) == {"url": 2}
    assert minimum_calls(0, 0) == {}
