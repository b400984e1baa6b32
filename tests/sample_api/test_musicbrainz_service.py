"""The sample MusicBrainz service (an offline stand-in) against the shapes and rules of the real web service.

Shapes follow MusicBrainz's documented answers: the url lookup's two forms (one resource: the
url object or 404; several: ``url-count``/``url-offset``/``urls`` with unknown URLs absent), the
search's ``created``/``count``/``offset``/``artists`` with ``tags``, ``inc=genres`` objects, and
``genre/all`` as JSON pages or plain text.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from sample_api.musicbrainz import (
    CATALOG_GENRES,
    GENRES,
    NON_GENRE_TAGS,
    MusicBrainzService,
    meaningful_user_agent,
    stats_key,
)
from sample_api.server import start_sample_api
from sample_api.synthetic_catalog import generate_catalog

AGENT = "service-test/1.0 ( tests@example.org )"
URL_KEYS = {"id", "resource", "relations"}
RELATION_KEYS = {"type", "type-id", "target-type", "direction", "begin", "end", "ended", "attributes",
                 "attribute-ids", "attribute-values", "source-credit", "target-credit", "artist"}


@pytest.fixture(scope="module")
def api():
    with start_sample_api(n_artists=120, seed=3) as srv:
        srv.musicbrainz.min_interval_s = 0.0  # shapes here; the rate rule has its own test
        yield srv


def get(api, path: str, agent: str | None = AGENT, **params):
    headers = {"User-Agent": agent} if agent is not None else {}
    return requests.get(f"{api.musicbrainz_url}/{path}", params=params, headers=headers, timeout=5)


def spotify_url(spotify_id: str) -> str:
    return f"https://open.spotify.com/artist/{spotify_id}"


def split(api) -> tuple[list[str], list[str]]:
    ids = [aid for aid, _ in api.catalog.iter_artists()]
    return [i for i in ids if api.musicbrainz.mbids(i)], [i for i in ids if not api.musicbrainz.mbids(i)]


def test_url_lookup_batch_and_single_forms(api) -> None:
    linked, unlinked = split(api)
    resources = [spotify_url(i) for i in linked[:3] + unlinked[:2]]
    body = get(api, "url", resource=resources, inc="artist-rels", fmt="json").json()
    assert set(body) == {"url-count", "url-offset", "urls"} and body["url-offset"] == 0
    assert body["url-count"] == 3 and [u["resource"] for u in body["urls"]] == resources[:3]  # unknown absent
    url = body["urls"][0]
    assert set(url) == URL_KEYS and set(url["relations"][0]) == RELATION_KEYS
    rel = url["relations"][0]
    assert rel["type"] == "free streaming" and rel["target-type"] == "artist"
    assert rel["artist"]["id"] in api.musicbrainz.mbids(linked[0])
    assert {"id", "name", "sort-name"} <= set(rel["artist"])
    one = get(api, "url", resource=spotify_url(linked[0]), inc="artist-rels", fmt="json")
    assert one.status_code == 200 and one.json()["resource"] == spotify_url(linked[0])  # the url object itself
    missing = get(api, "url", resource=spotify_url(unlinked[0]), inc="artist-rels", fmt="json")
    assert missing.status_code == 404 and missing.json()["error"] == "Not Found"
    no_rels = get(api, "url", resource=spotify_url(linked[0]), fmt="json").json()
    assert "relations" not in no_rels


def test_at_most_100_resources(api) -> None:
    linked, _ = split(api)
    resources = [spotify_url(linked[k % len(linked)]) for k in range(101)]
    assert get(api, "url", resource=resources, inc="artist-rels", fmt="json").status_code == 400
    assert get(api, "url", resource=resources[:100], inc="artist-rels", fmt="json").status_code == 200


def test_duplicate_links_answer_several_artists(api) -> None:
    catalog = generate_catalog(400, seed=3)
    service = MusicBrainzService(catalog)
    doubles = [aid for aid, _ in catalog.iter_artists() if len(service.mbids(aid)) > 1]
    assert doubles  # ~3% of linked artists
    assert all(service.mbids(d) == sorted(service.mbids(d)) for d in doubles)


def test_about_83_percent_linked_deterministically() -> None:
    catalog = generate_catalog(2000, seed=11)
    service = MusicBrainzService(catalog)
    linked = [aid for aid, _ in catalog.iter_artists() if service.mbids(aid)]
    assert 0.80 <= len(linked) / 2000 <= 0.86
    again = MusicBrainzService(generate_catalog(2000, seed=11))
    assert all(again.mbids(aid) == service.mbids(aid) for aid in linked[:50])
    assert all(uuid.UUID(m).version == 5 for aid in linked[:50] for m in service.mbids(aid))


def test_arid_search_with_tags(api) -> None:
    linked, _ = split(api)
    mbids = sorted({m for i in linked[:30] for m in api.musicbrainz.mbids(i)})
    query = "arid:(" + " OR ".join(mbids) + ")"
    body = get(api, "artist", query=query, limit=100, fmt="json").json()
    assert set(body) == {"created", "count", "offset", "artists"} and body["count"] == len(mbids)
    assert sorted(a["id"] for a in body["artists"]) == mbids
    tags = [t for a in body["artists"] for t in a.get("tags", [])]
    assert tags and all(set(t) == {"count", "name"} for t in tags)
    assert {t["name"] for t in tags} & set(NON_GENRE_TAGS)  # tags that the genre list leaves out
    assert all(a["score"] == 100 for a in body["artists"])
    page = get(api, "artist", query=query, limit=10, offset=10, fmt="json").json()
    assert page["count"] == len(mbids) and len(page["artists"]) == 10 and page["offset"] == 10
    assert get(api, "artist", query=query, limit=101, fmt="json").status_code == 400


def test_artist_lookup_with_genres(api) -> None:
    linked, _ = split(api)
    spotify_id = next(i for i in linked if api.catalog.artist(api.catalog.artist_index(i), "")["genres"])
    mbid = api.musicbrainz.mbids(spotify_id)[0]
    artist = get(api, f"artist/{mbid}", inc="genres", fmt="json").json()
    assert artist["id"] == mbid
    assert all(set(g) == {"name", "count", "id", "disambiguation"} for g in artist["genres"])
    expected = sorted(api.catalog.artist(api.catalog.artist_index(spotify_id), "", "extended")["genres"])
    assert sorted(g["name"] for g in artist["genres"]) == expected
    assert "genres" not in get(api, f"artist/{mbid}", fmt="json").json()
    assert get(api, f"artist/{uuid.uuid4()}", fmt="json").status_code == 404
    assert get(api, "artist/not-an-mbid", fmt="json").status_code == 400


def test_genre_list_pages_and_text(api) -> None:
    names, offset, total = [], 0, None
    while total is None or offset < total:
        body = get(api, "genre/all", limit=100, offset=offset, fmt="json").json()
        assert set(body) == {"genre-count", "genre-offset", "genres"} and body["genre-offset"] == offset
        assert all(set(g) == {"id", "name", "disambiguation"} for g in body["genres"])
        total = body["genre-count"]
        names += [g["name"] for g in body["genres"]]
        offset += 100
    assert 200 <= total <= 500 and names == list(GENRES)
    text = get(api, "genre/all", fmt="txt")
    assert text.headers["Content-Type"].startswith("text/plain") and text.text.splitlines() == list(GENRES)


def test_every_catalog_genre_is_a_genre_and_no_other_tag_is() -> None:
    catalog = generate_catalog(300, seed=5)
    spotify_genres = {g for i in range(catalog.n_artists) for g in catalog.artist(i, "", "extended")["genres"]}
    assert spotify_genres <= set(CATALOG_GENRES) <= set(GENRES)
    assert not set(NON_GENRE_TAGS) & set(GENRES)


def test_calls_are_counted_in_stats(api) -> None:
    api.reset_stats()
    get(api, "genre/all", fmt="txt")
    get(api, "genre/all", fmt="txt")
    get(api, "artist", query="arid:(00000000-0000-5000-8000-000000000000)", fmt="json")
    stats = requests.get(f"{api.base_url}/_stats", timeout=5).json()
    assert stats[stats_key("genre/all")] == 2 and stats[stats_key("artist?query")] == 1
    assert stats["musicbrainz_requests"] == 3
    assert "requests" not in stats  # the /v1 counter stays Spotify's


def test_user_agent_rule(api) -> None:
    assert get(api, "genre/all", agent=None, fmt="txt").status_code == 403
    for agent in ("python-requests/2.32.3", "curl/8.5.0", "myapp", "myapp/1.0"):
        resp = get(api, "genre/all", agent=agent, fmt="txt")
        assert resp.status_code == 403, agent
        assert "User-Agent" in resp.json()["error"]
    assert meaningful_user_agent("my-app/0.3 ( me@example.org )")
    assert get(api, "genre/all", fmt="txt").status_code == 200


def test_one_request_per_second_per_client() -> None:
    with start_sample_api(n_artists=10, seed=3) as srv:
        first = get(srv, "genre/all", fmt="txt")
        second = get(srv, "genre/all", fmt="txt")  # right after: too fast for MusicBrainz
        other = get(srv, "genre/all", agent="other-app/2.0 ( x@example.org )", fmt="txt")  # another client
        assert first.status_code == 200 and other.status_code == 200
        assert second.status_code == 503
        assert "exceeding the allowable rate limit" in second.json()["error"]
        assert int(second.headers["Retry-After"]) >= 1
        assert srv.stats()["musicbrainz_status_503"] == 1
