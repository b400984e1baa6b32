"""ReccoBeats' audio-features endpoint of the sample API, over real HTTP."""

from __future__ import annotations

import uuid

import pytest
import requests

from sample_api.server import start_sample_api
from tests.sample_api.test_server import get, token

RECCOBEATS_KEYS = {"id", "href", "acousticness", "danceability", "energy", "instrumentalness", "key", "liveness",
                   "loudness", "mode", "speechiness", "tempo", "valence"}
UNIT = ("acousticness", "danceability", "energy", "instrumentalness", "liveness", "speechiness", "valence")


def features(api, ids: list[str], **kwargs) -> requests.Response:
    return requests.get(f"{api.reccobeats_url}/audio-features", params={"ids": ",".join(ids)}, timeout=5, **kwargs)


def spotify_id(obj: dict) -> str:
    return obj["href"].rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def api():
    with start_sample_api(n_artists=20, seed=42) as srv:
        yield srv


@pytest.fixture(scope="module")
def answers(api) -> dict[str, dict]:
    """Spotify id -> ReccoBeats object, for every track of the catalog (asked 40 at a time)."""
    ids = [api.catalog.track_id(t) for t in range(api.catalog.n_tracks)]
    out: dict[str, dict] = {}
    for at in range(0, len(ids), 40):
        resp = features(api, ids[at:at + 40])
        assert resp.status_code == 200
        out.update((spotify_id(o), o) for o in resp.json()["content"])
    return out


def test_shape_without_auth_and_ids_in_href(api) -> None:
    ids = [api.catalog.track_id(t) for t in range(30)]
    resp = features(api, ids)  # no Authorization header: ReccoBeats needs none
    assert resp.status_code == 200 and set(resp.json()) == {"content"}
    content = resp.json()["content"]
    assert content and all(set(o) == RECCOBEATS_KEYS for o in content)
    assert all(o["href"] == f"https://open.spotify.com/track/{spotify_id(o)}" for o in content)
    assert {spotify_id(o) for o in content} <= set(ids)
    for o in content:
        assert uuid.UUID(o["id"]) and o["id"] != spotify_id(o)
        assert isinstance(o["key"], int) and o["mode"] in (0, 1)
    assert features(api, ids).json() == resp.json()  # deterministic, ids included


def test_answer_order_is_not_the_request_order(api) -> None:
    ids = [api.catalog.track_id(t) for t in range(40)]
    answered = [spotify_id(o) for o in features(api, ids).json()["content"]]
    assert sorted(answered) == sorted(answered, key=ids.index)  # same set ...
    assert answered != [i for i in ids if i in answered]  # ... in another order
    assert answered == [spotify_id(o) for o in features(api, list(reversed(ids))).json()["content"]]


def test_only_the_first_40_ids_are_read(api, answers) -> None:
    known = [i for i in (api.catalog.track_id(t) for t in range(api.catalog.n_tracks)) if i in answers]
    resp = features(api, known[:45])
    assert resp.status_code == 200
    assert {spotify_id(o) for o in resp.json()["content"]} == set(known[:40])
    both_forms = requests.get(f"{api.reccobeats_url}/audio-features", timeout=5,
                              params=[("ids", ",".join(known[:2])), ("ids", known[2])])
    assert {spotify_id(o) for o in both_forms.json()["content"]} == set(known[:3])


def test_values_agree_with_spotify_features(api, answers) -> None:
    tok = token(api)
    ids = list(answers)[:100]
    spotify = {f["id"]: f for f in get(api, "audio-features", tok, ids=",".join(ids)).json()["audio_features"]}
    moved = 0
    for i in ids:
        rb, sp = answers[i], spotify[i]
        assert rb["key"] == sp["key"] and rb["mode"] == sp["mode"]
        assert all(0 <= rb[f] <= 1 and abs(rb[f] - sp[f]) <= 0.0101 for f in UNIT)
        assert abs(rb["loudness"] - sp["loudness"]) <= 0.31 and abs(rb["tempo"] - sp["tempo"]) <= 0.51
        moved += rb["danceability"] != sp["danceability"]
    assert moved > 50  # another service's measurement, not a copy
    assert any(o["key"] == -1 for o in answers.values())  # no key detected


def test_unknown_tracks_are_absent_more_often_among_recent_releases(api, answers) -> None:
    cat = api.catalog
    tok = token(api)
    unknown = [t for t in range(cat.n_tracks) if cat.track_id(t) not in answers]
    assert 0.10 <= len(unknown) / cat.n_tracks <= 0.20
    # Every track Spotify has no features for is unknown to ReccoBeats too.
    no_spotify = [t for t in range(300) if get(api, f"audio-features/{cat.track_id(t)}", tok).status_code == 404]
    assert no_spotify and all(cat.track_id(t) not in answers for t in no_spotify)
    year = {}
    for t in range(cat.n_tracks):
        a = cat.track_album(t)
        if a not in year:
            year[a] = int(get(api, f"albums/{cat.album_id(a)}", tok).json()["release_date"][:4])
    recent = [t for t in range(cat.n_tracks) if year[cat.track_album(t)] >= 2025]
    older = [t for t in range(cat.n_tracks) if year[cat.track_album(t)] < 2025]
    share = {name: sum(cat.track_id(t) not in answers for t in group) / len(group)
             for name, group in (("recent", recent), ("older", older))}
    assert share["recent"] > 3 * share["older"], share


def test_unknown_and_malformed_ids(api) -> None:
    resp = features(api, ["0" * 22, "not-an-id"])
    assert resp.status_code == 200 and resp.json() == {"content": []}
    missing = requests.get(f"{api.reccobeats_url}/audio-features", timeout=5)
    assert missing.status_code == 400 and missing.json()["status"] == 400


def test_own_rate_limit_and_counters_apart_from_spotify() -> None:
    with start_sample_api(n_artists=5, rate_limit=2, rate_window=30.0, reccobeats_rate_limit=3,
                          reccobeats_rate_window=30.0) as srv:
        ids = [srv.catalog.track_id(t) for t in range(10)]
        statuses = [features(srv, ids).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        limited = features(srv, ids)
        assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 30
        # Spotify's window is its own: two calls still pass after ReccoBeats ran out.
        tok = token(srv)
        assert [get(srv, f"artists/{srv.catalog.artist_id(0)}", tok).status_code for _ in range(3)] == [200, 200, 429]
        stats = srv.stats()
    assert stats["GET /reccobeats/v1/audio-features"] == 6 and stats["reccobeats_status_429"] == 3
    assert stats["requests"] == 3 and stats["status_429"] == 1  # the Web API's counters saw none of them


def test_reccobeats_answers_while_the_spotify_quota_is_spent() -> None:
    with start_sample_api(n_artists=5, quota_after=0) as srv:
        tok = token(srv)
        assert get(srv, f"artists/{srv.catalog.artist_id(0)}", tok).status_code == 429
        assert features(srv, [srv.catalog.track_id(0)]).status_code == 200
