"""The sample API against the shapes the Spotify Web API reference documents, over real HTTP."""

from __future__ import annotations

import time

import pytest
import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials

from sample_api.server import start_sample_api

ARTIST_KEYS = {"external_urls", "followers", "genres", "href", "id", "images", "name", "popularity", "type", "uri"}
SIMPLE_ALBUM_KEYS = {"album_type", "total_tracks", "available_markets", "external_urls", "href", "id", "images",
                     "name", "release_date", "release_date_precision", "type", "uri", "artists"}
ALBUM_KEYS = SIMPLE_ALBUM_KEYS | {"tracks", "copyrights", "external_ids", "genres", "label", "popularity"}
SIMPLE_TRACK_KEYS = {"artists", "available_markets", "disc_number", "duration_ms", "explicit", "external_urls",
                     "href", "id", "is_local", "name", "preview_url", "track_number", "type", "uri"}
TRACK_KEYS = SIMPLE_TRACK_KEYS | {"album", "external_ids", "popularity"}
PAGING_KEYS = {"href", "items", "limit", "next", "offset", "previous", "total"}
FEATURE_KEYS = {"acousticness", "analysis_url", "danceability", "duration_ms", "energy", "id", "instrumentalness",
                "key", "liveness", "loudness", "mode", "speechiness", "tempo", "time_signature", "track_href",
                "type", "uri", "valence"}


def token(api) -> str:
    resp = requests.post(api.token_url, data={"grant_type": "client_credentials"},
                         auth=(api.client_id, api.client_secret), timeout=5)
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    return body["access_token"]


def get(api, path: str, tok: str | None = None, **params):
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    url = path if path.startswith("http") else f"{api.api_url}/{path}"
    return requests.get(url, params=params, headers=headers, timeout=5)


@pytest.fixture(scope="module")
def api():
    with start_sample_api(n_artists=20, seed=42) as srv:
        yield srv


@pytest.fixture(scope="module")
def dev_api():
    with start_sample_api(n_artists=20, seed=42, mode="development") as srv:
        yield srv


def test_starts_fast() -> None:
    start = time.monotonic()
    with start_sample_api(n_artists=20) as srv:
        assert requests.get(f"{srv.base_url}/_stats", timeout=5).status_code == 200
    assert time.monotonic() - start < 2.0


def test_artist_shapes(api) -> None:
    tok = token(api)
    aid = api.catalog.artist_id(0)
    artist = get(api, f"artists/{aid}", tok).json()
    assert set(artist) == ARTIST_KEYS
    assert artist["type"] == "artist" and artist["uri"] == f"spotify:artist:{aid}"
    assert isinstance(artist["followers"]["total"], int) and 0 <= artist["popularity"] <= 100
    several = get(api, "artists/", tok, ids=f"{aid},{'0' * 22}").json()  # spotipy's trailing slash
    assert several["artists"][0]["id"] == aid and several["artists"][1] is None


def test_albums_paging_to_the_end(api) -> None:
    tok = token(api)
    aid = api.catalog.artist_id(0)
    page = get(api, f"artists/{aid}/albums", tok, limit=50, include_groups="album,single,compilation").json()
    assert set(page) == PAGING_KEYS and page["total"] > 50 and page["previous"] is None
    assert set(page["items"][0]) == SIMPLE_ALBUM_KEYS | {"album_group"}
    items = list(page["items"])
    while page["next"]:
        assert page["next"].startswith(api.api_url)
        page = get(api, page["next"], tok).json()
        items += page["items"]
    assert len(items) == page["total"] == len({a["id"] for a in items})


def test_album_and_track_shapes_and_track_paging(api) -> None:
    tok = token(api)
    cat = api.catalog
    big = next(a for a in range(cat.n_albums) if cat.album_track_count(a) > 50)
    album = get(api, f"albums/{cat.album_id(big)}", tok).json()
    assert set(album) == ALBUM_KEYS
    assert set(album["tracks"]) == PAGING_KEYS and len(album["tracks"]["items"]) == 50
    rest = get(api, album["tracks"]["next"], tok).json()
    assert len(album["tracks"]["items"]) + len(rest["items"]) == cat.album_track_count(big) == rest["total"]
    assert set(rest["items"][0]) == SIMPLE_TRACK_KEYS
    track = get(api, f"tracks/{rest['items'][0]['id']}", tok).json()
    assert set(track) == TRACK_KEYS and track["album"]["id"] == album["id"]
    assert track["external_ids"]["isrc"]
    ids = ",".join(t["id"] for t in album["tracks"]["items"][:50])
    assert len(get(api, "tracks", tok, ids=ids).json()["tracks"]) == 50
    albums = get(api, "albums", tok, ids=",".join(cat.album_id(a) for a in range(20))).json()["albums"]
    assert len(albums) == 20 and all(set(a) == ALBUM_KEYS for a in albums)


def test_audio_features(api) -> None:
    tok = token(api)
    cat = api.catalog
    missing = next(t for t in range(cat.n_tracks) if cat.audio_features(t, "x") is None)
    present = next(t for t in range(cat.n_tracks) if cat.audio_features(t, "x") is not None)
    body = get(api, "audio-features", tok, ids=f"{cat.track_id(present)},{cat.track_id(missing)}").json()
    assert set(body["audio_features"][0]) == FEATURE_KEYS and body["audio_features"][1] is None
    f = body["audio_features"][0]
    assert 0 <= f["danceability"] <= 1 and -1 <= f["key"] <= 11 and f["mode"] in (0, 1) and f["tempo"] > 0


def test_search_and_limits(api) -> None:
    tok = token(api)
    name = api.catalog.artist_name(2)
    body = get(api, "search", tok, q=name, type="artist", limit=5).json()
    assert set(body["artists"]) == PAGING_KEYS and body["artists"]["items"][0]["name"] == name
    assert get(api, "search", tok, q=name, type="artist", limit=51).status_code == 400


@pytest.mark.parametrize(("path", "params", "status"), [
    ("artists/tooShort", {}, 400),
    ("artists/" + "0" * 22, {}, 404),
    ("artists", {"ids": ",".join(["0" * 22] * 51)}, 400),
    ("albums", {"ids": ",".join(["0" * 22] * 21)}, 400),
    ("audio-features", {"ids": ",".join(["0" * 22] * 101)}, 400),
])
def test_errors_have_spotify_bodies(api, path, params, status) -> None:
    resp = get(api, path, token(api), **params)
    assert resp.status_code == status
    assert resp.json()["error"]["status"] == status and resp.json()["error"]["message"]


def test_token_errors(api) -> None:
    assert get(api, f"artists/{api.catalog.artist_id(0)}").json() == {
        "error": {"status": 401, "message": "No token provided"}}
    assert get(api, f"artists/{api.catalog.artist_id(0)}", "bogus").json()["error"]["message"] == \
        "Invalid access token"
    bad = requests.post(api.token_url, data={"grant_type": "client_credentials"}, auth=("x", "y"), timeout=5)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"


def test_token_expiry() -> None:
    with start_sample_api(n_artists=5, token_ttl=1) as srv:
        tok = token(srv)
        assert get(srv, f"artists/{srv.catalog.artist_id(0)}", tok).status_code == 200
        time.sleep(1.2)
        resp = get(srv, f"artists/{srv.catalog.artist_id(0)}", tok)
        assert resp.status_code == 401 and resp.json()["error"]["message"] == "The access token expired"


def test_development_mode(dev_api) -> None:
    tok = token(dev_api)
    cat = dev_api.catalog
    aid = cat.artist_id(0)
    for path, params in [("artists", {"ids": aid}), ("albums", {"ids": cat.album_id(0)}),
                         ("tracks", {"ids": cat.track_id(0)}), ("audio-features", {"ids": cat.track_id(0)}),
                         (f"audio-features/{cat.track_id(0)}", {}), (f"artists/{aid}/top-tracks", {})]:
        assert get(dev_api, path, tok, **params).status_code == 403, path
    artist = get(dev_api, f"artists/{aid}", tok).json()
    assert "followers" not in artist and "popularity" not in artist
    assert get(dev_api, f"artists/{aid}/albums", tok, limit=50).status_code == 400
    page = get(dev_api, f"artists/{aid}/albums", tok, limit=10).json()
    assert len(page["items"]) == 10 and "album_group" not in page["items"][0]
    album = get(dev_api, f"albums/{cat.album_id(0)}", tok).json()
    assert "label" not in album and "popularity" not in album
    assert get(dev_api, "search", tok, q="a", type="artist", limit=11).status_code == 400


def test_rate_limit_answers_429_then_recovers() -> None:
    with start_sample_api(n_artists=5, rate_limit=5, rate_window=1.0) as srv:
        tok = token(srv)
        statuses = [get(srv, f"artists/{srv.catalog.artist_id(0)}", tok).status_code for _ in range(8)]
        assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 3
        limited = get(srv, f"artists/{srv.catalog.artist_id(0)}", tok)
        assert int(limited.headers["Retry-After"]) >= 1
        time.sleep(1.1)
        assert get(srv, f"artists/{srv.catalog.artist_id(0)}", tok).status_code == 200
        assert srv.stats()["status_429"] == 4


@pytest.mark.parametrize("fault", ["fault_rate", "drop_rate", "truncate_rate", "slow_rate"])
def test_each_fault_is_observed(fault) -> None:
    with start_sample_api(n_artists=5, **{fault: 1.0}, slow_seconds=0.3) as srv:
        tok = token(srv)  # the token endpoint is never faulted
        url = f"artists/{srv.catalog.artist_id(0)}"
        if fault == "drop_rate":
            with pytest.raises(requests.ConnectionError):
                get(srv, url, tok)
        elif fault == "fault_rate":
            assert get(srv, url, tok).status_code in (500, 502, 503)
        elif fault == "truncate_rate":
            resp = get(srv, url, tok)
            assert resp.status_code == 200
            with pytest.raises(ValueError):
                resp.json()
        else:
            start = time.monotonic()
            assert get(srv, url, tok).status_code == 200
            assert time.monotonic() - start >= 0.3
        assert any(k.startswith("fault_") for k in srv.stats())


def test_kworb_pages_served_as_utf8_without_charset(api) -> None:
    resp = requests.get(f"{api.kworb_url}/artists.html", timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/html"
    assert 'class="addpos sortable"' in resp.content.decode("utf-8")
    assert requests.get(f"{api.kworb_url}/listeners.html", timeout=5).status_code == 200


def test_spotipy_parses_the_sample_api(api) -> None:
    auth = SpotifyClientCredentials(api.client_id, api.client_secret, cache_handler=MemoryCacheHandler())
    auth.OAUTH_TOKEN_URL = api.token_url
    sp = spotipy.Spotify(auth_manager=auth, retries=0)
    sp.prefix = api.api_url + "/"
    aid = api.catalog.artist_id(0)
    assert sp.artist(aid)["id"] == aid
    albums = sp.artist_albums(aid, limit=50)
    assert len(albums["items"]) == 50 and sp.next(albums)["offset"] == 50
    tracks = sp.album_tracks(albums["items"][0]["id"])
    assert tracks["items"] and sp.tracks([t["id"] for t in tracks["items"]])["tracks"][0]["album"]
    assert len(sp.artists([aid, api.catalog.artist_id(1)])["artists"]) == 2
