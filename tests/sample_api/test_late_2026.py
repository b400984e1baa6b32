"""What users of the Web API meet in late 2026, reproduced by the sample API over real HTTP:
development-mode shapes, a spent quota, integer fields as floats, collaborations outside a ranked
list, and the minimum-calls bound that covers them."""

from __future__ import annotations

from math import ceil

import pytest
import requests

from crawler.kworb import merge_rankings, parse_kworb_page
from sample_api.minimum_calls import (
    RECCOBEATS_CALLS,
    catalog_tracks,
    credited_artist_calls,
    credited_outside,
    minimum_calls,
)
from sample_api.process import sample_api_process
from sample_api.server import start_sample_api
from tests.sample_api.test_server import get, token

QUOTA_BODY = {"error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}}
GONE_LATE_2026 = {"available_markets", "album_group", "linked_from"}


@pytest.fixture(scope="module")
def dev_api():
    with start_sample_api(n_artists=20, seed=42, mode="development") as srv:
        yield srv


@pytest.fixture(scope="module")
def ext_api():
    with start_sample_api(n_artists=20, seed=42) as srv:
        yield srv


# ------------------------------------------------------------------ development mode, late 2026
def test_development_artists_carry_no_genres_key(dev_api, ext_api) -> None:
    tok = token(dev_api)
    for i in range(20):
        assert "genres" not in get(dev_api, f"artists/{dev_api.catalog.artist_id(i)}", tok).json()
    hits = get(dev_api, "search", tok, q=dev_api.catalog.artist_name(2), type="artist", limit=5).json()
    assert hits["artists"]["items"] and all("genres" not in a for a in hits["artists"]["items"])
    # Extended mode unchanged: genres present, an empty list for some artists.
    tok = token(ext_api)
    genres = [get(ext_api, f"artists/{ext_api.catalog.artist_id(i)}", tok).json()["genres"] for i in range(20)]
    assert any(g == [] for g in genres) and any(g for g in genres)


def test_development_albums_and_tracks_lost_markets_groups_and_links(dev_api, ext_api) -> None:
    tok = token(dev_api)
    cat = dev_api.catalog
    listing = get(dev_api, f"artists/{cat.artist_id(0)}/albums", tok, limit=10).json()["items"]
    album = get(dev_api, f"albums/{cat.album_id(0)}", tok).json()
    track = get(dev_api, f"tracks/{cat.track_id(0)}", tok).json()
    objects = [*listing, album, album["tracks"]["items"][0], track, track["album"]]
    assert all(not GONE_LATE_2026 & set(o) for o in objects)
    assert album["external_ids"]["upc"] and track["external_ids"]["isrc"]
    tok = token(ext_api)
    ext_listing = get(ext_api, f"artists/{cat.artist_id(0)}/albums", tok, limit=10).json()["items"]
    assert {"available_markets", "album_group"} <= set(ext_listing[0])
    assert "available_markets" in get(ext_api, f"tracks/{cat.track_id(0)}", tok).json()


# ------------------------------------------------------------------ spent quota
def test_spent_quota_refuses_every_web_api_call_until_lifted() -> None:
    with start_sample_api(n_artists=5, quota_after=3) as srv:
        tok = token(srv)
        cat = srv.catalog
        paths = [f"artists/{cat.artist_id(0)}", f"albums/{cat.album_id(0)}", f"tracks/{cat.track_id(0)}"]
        assert [get(srv, p, tok).status_code for p in paths] == [200, 200, 200]
        for path in [*paths, f"artists/{cat.artist_id(1)}/albums", "search?q=a&type=artist"]:
            resp = get(srv, path, tok)
            assert resp.status_code == 429 and resp.json() == QUOTA_BODY, path
            assert int(resp.headers["Retry-After"]) >= 3600  # hours, not seconds
        assert token(srv)  # the token endpoint and kworb pages are not the Web API
        assert requests.get(f"{srv.kworb_url}/artists.html", timeout=5).status_code == 200
        assert srv.stats()["quota_exceeded"] == 5
        srv.configure(quota_after=None)
        assert get(srv, paths[0], tok).status_code == 200
        srv.configure(quota_after=1)  # a fresh count
        assert [get(srv, paths[0], tok).status_code for _ in range(2)] == [200, 429]
        assert requests.post(f"{srv.base_url}/_admin/quota?after=none", timeout=5).json() == {"quota_after": None}
        assert get(srv, paths[0], tok).status_code == 200
        assert requests.post(f"{srv.base_url}/_admin/quota?after=x", timeout=5).status_code == 400


# ------------------------------------------------------------------ integer fields as floats
def _walk(obj: object, path: str = ""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v, f"{path}[]")
    else:
        yield path, obj


def test_integer_fields_answered_as_integral_floats() -> None:
    fields = ("duration_ms", "popularity", "height", "width", "track_number", "disc_number", "total_tracks",
              "followers.total")
    with start_sample_api(n_artists=5) as srv:
        tok = token(srv)
        cat = srv.catalog
        paths = [f"artists/{cat.artist_id(0)}", f"albums/{cat.album_id(0)}", f"tracks/{cat.track_id(0)}"]
        plain = [get(srv, p, tok).json() for p in paths]
        srv.configure(float_integers=True)
        responses = [get(srv, p, tok) for p in paths]
    floated = [r.json() for r in responses]
    assert '"duration_ms": ' in responses[2].text and f'"duration_ms": {plain[2]["duration_ms"]}.0' in responses[2].text
    for before, after in zip(plain, floated, strict=True):
        old, new = dict(_walk(before)), dict(_walk(after))
        assert old == new  # the same numbers (an integral float equals its integer) ...
        for path, value in _walk(after):
            if path.endswith(fields):
                assert type(value) is float and value.is_integer(), path  # ... as floats
            elif path.endswith((".total", ".limit", ".offset")):
                assert type(value) is int, path  # paging counters stay integers
    seen = {p.rsplit(".", 1)[-1] for obj in floated for p, v in _walk(obj) if type(v) is float}
    assert {"duration_ms", "popularity", "height", "width", "track_number", "disc_number", "total_tracks",
            "total"} <= seen


# ------------------------------------------------------------------ collaborations outside a ranked list
def _ranked_ids(api, n: int) -> list[str]:
    pages = [parse_kworb_page(requests.get(f"{api.kworb_url}/{page}", timeout=5).content.decode(), page)
             for page in ("artists.html", "listeners.html")]
    return [e.spotify_id for e in merge_rankings(*pages, limit=n)]


def _crawl_over_http(api, artist_ids: list[str], limit: int) -> tuple[list[dict], list[dict]]:
    """(albums, simplified tracks) a crawl of ``artist_ids`` lands: every listed album, every track page."""
    tok = token(api)
    album_ids: dict[str, None] = {}
    for aid in artist_ids:
        page = get(api, f"artists/{aid}/albums", tok, limit=limit, include_groups="album,single,compilation").json()
        while True:
            album_ids.update((a["id"], None) for a in page["items"])
            if not page["next"]:
                break
            page = get(api, page["next"], tok).json()
    albums, tracks = [], []
    for album_id in album_ids:
        album = get(api, f"albums/{album_id}", tok).json()
        albums.append(album)
        page = album["tracks"]
        tracks += page["items"]
        while page["next"]:
            page = get(api, page["next"], tok).json()
            tracks += page["items"]
    return albums, tracks


@pytest.mark.parametrize("mode", ["extended", "development"])
def test_top_15_crawl_lands_tracks_first_credited_to_uncrawled_artists(mode, ext_api, dev_api) -> None:
    api = ext_api if mode == "extended" else dev_api
    cat = api.catalog
    top = _ranked_ids(api, 15)
    albums, tracks = _crawl_over_http(api, top, 50 if mode == "extended" else 10)
    outsiders_first = [t for t in tracks if t["artists"][0]["id"] not in top]
    assert outsiders_first, "a partial crawl must land tracks of artists it did not crawl"
    collab = next(a for a in albums if len(a["artists"]) > 1 and a["artists"][0]["id"] not in top)
    assert collab["artists"][1]["id"] in top  # listed under the top artist credited second
    # The collaboration is listed under both artists, in their own groups (not appears_on).
    tok = token(api)
    owner = collab["artists"][0]["id"]
    owned = get(api, f"artists/{owner}/albums", tok, limit=10, include_groups="album,single,compilation").json()
    listed = [a["id"] for a in owned["items"]]
    while owned["next"]:
        owned = get(api, owned["next"], tok).json()
        listed += [a["id"] for a in owned["items"]]
    assert collab["id"] in listed
    # A few percent of all albums are such collaborations, deterministically by seed.
    shares = [sum(len(cat.album_artists(a)) > 1 for a in range(cat.n_albums)) / cat.n_albums]
    assert 0.01 <= shares[0] <= 0.08

    # The minimum-calls bound counts exactly the credited artists this crawl did not crawl.
    credited = {a["id"] for album in albums for a in album["artists"]} | {a["id"] for t in tracks for a in t["artists"]}
    outside = credited - set(top)
    index = {cat.artist_id(i): i for i in range(cat.n_artists)}
    assert {cat.artist_id(i) for i in credited_outside(cat, [index[a] for a in top])} == outside
    expected = ceil(len(outside) / 50) if mode == "extended" else len(outside)
    assert credited_artist_calls(cat, mode, 15) == expected
    calls = minimum_calls(cat, mode, artists=15, ranked=True, credited_artists=True, features_source="auto")
    if mode == "extended":
        assert calls["artists"] == 1 + ceil(len(outside) / 50)
        assert calls["audio-features"] == ceil(len(tracks) / 100) and RECCOBEATS_CALLS not in calls
    else:
        assert calls["artists/{id}"] == 15 + len(outside)
        assert calls[RECCOBEATS_CALLS] == ceil(len(tracks) / 40) and "audio-features" not in calls
    assert catalog_tracks(cat, 15, ranked=True) == len(tracks)
    assert calls["albums" if mode == "extended" else "albums/{id}"] == (
        ceil(len(albums) / 20) if mode == "extended" else len(albums))


def test_minimum_calls_defaults_and_feature_sources(ext_api) -> None:
    cat = ext_api.catalog
    tracks = catalog_tracks(cat)
    assert minimum_calls(cat, "extended") == minimum_calls(cat, "extended", features_source="spotify")
    assert minimum_calls(cat, "extended")["audio-features"] == ceil(tracks / 100)
    assert "audio-features" not in minimum_calls(cat, "development")  # Spotify refuses them there
    assert RECCOBEATS_CALLS not in minimum_calls(cat, "extended", features_source="auto")
    assert minimum_calls(cat, "development", features_source="auto")[RECCOBEATS_CALLS] == ceil(tracks / 40)
    assert minimum_calls(cat, "extended", features_source="reccobeats")[RECCOBEATS_CALLS] == ceil(tracks / 40)
    assert not {"audio-features", RECCOBEATS_CALLS} & set(minimum_calls(cat, "extended", features_source="none"))
    # Crawling every artist leaves no credited artist outside the crawl.
    assert minimum_calls(cat, credited_artists=True) == minimum_calls(cat)
    with pytest.raises(ValueError):
        minimum_calls(cat, features_source="musicbrainz")


# ------------------------------------------------------------------ the command line
def test_command_line_flags_reach_the_server() -> None:
    flags = ["--quota-after", "2", "--quota-retry-after", "7200", "--float-integers", "--reccobeats-rate-limit", "1"]
    with sample_api_process(5, "development", extra_args=flags) as env:
        base = env["SPOTIFY_API_BASE_URL"]
        tok = requests.post(env["SPOTIFY_TOKEN_URL"], data={"grant_type": "client_credentials"},
                            auth=(env["SPOTIFY_CLIENT_ID"], env["SPOTIFY_CLIENT_SECRET"]), timeout=5).json()
        headers = {"Authorization": f"Bearer {tok['access_token']}"}
        kworb = requests.get(f"{env['KWORB_BASE_URL']}/artists.html", timeout=5).content.decode()
        artist_id = parse_kworb_page(kworb, "artists.html")[0].spotify_id
        artist = requests.get(f"{base}/artists/{artist_id}", headers=headers, timeout=5).json()
        albums = requests.get(f"{base}/artists/{artist_id}/albums", headers=headers, timeout=5)
        assert "genres" not in artist and type(artist["images"][0]["height"]) is float
        assert albums.status_code == 400  # development mode: limit 20 refused
        spent = requests.get(f"{base}/artists/{artist_id}", headers=headers, timeout=5)
        assert spent.status_code == 429 and spent.headers["Retry-After"] == "7200" and spent.json() == QUOTA_BODY
        reccobeats = env["RECCOBEATS_API_BASE_URL"]
        assert reccobeats.endswith("/reccobeats/v1")
        first = requests.get(f"{reccobeats}/audio-features?ids={artist_id}", timeout=5)
        assert first.status_code == 200 and first.json() == {"content": []}  # an artist id: no track known
        assert requests.get(f"{reccobeats}/audio-features?ids={artist_id}", timeout=5).status_code == 429


def test_recorded_payload_samples_match_what_the_server_reproduces() -> None:
    """tests/payload_samples.py (for the Spark tests) and the sample API describe the same quirks."""
    from sample_api.quirks import FLOAT_FIELDS
    from tests import payload_samples as samples

    floated = {p for obj in (samples.ARTIST_FLOAT_INTEGERS, samples.ALBUM_FLOAT_INTEGERS, samples.TRACK_FLOAT_INTEGERS)
               for p, v in _walk(obj) if type(v) is float}
    assert floated and all(p.rsplit(".", 1)[-1] in FLOAT_FIELDS or p.endswith("followers.total") for p in floated)
    assert "genres" not in samples.ARTIST_DEVELOPMENT_2026
    assert not GONE_LATE_2026 & set(samples.TRACK_DEVELOPMENT_2026) and samples.TRACK_DEVELOPMENT_2026["external_ids"]
    assert all(set(o) == {"id", "href", "acousticness", "danceability", "energy", "instrumentalness", "key",
                          "liveness", "loudness", "mode", "speechiness", "tempo", "valence"}
               for o in samples.RECCOBEATS_AUDIO_FEATURES["content"])
    with start_sample_api(n_artists=3, quota_after=0) as srv:
        resp = get(srv, f"artists/{srv.catalog.artist_id(0)}", token(srv))
    assert resp.json() == samples.QUOTA_EXCEEDED_BODY
