"""The MusicBrainz genre source against the sample MusicBrainz service, over real HTTP.

The sample service is a stand-in, labeled as such: the tests run offline, and they must provoke
MusicBrainz's rules (503 beyond one request per second per client, 403 without a meaningful
User-Agent) and know each artist's intended genres. It enforces those rules: the tests of the
rules run at MusicBrainz's pace (about one second per call) with the client's own limiter; the
others use a service and clients sped up tenfold (``quick``), as the limiter is not what they test.
"""

from __future__ import annotations

import threading

import pytest
import requests

from crawler.http.retry import RetryPolicy
from crawler.musicbrainz.client import MIN_INTERVAL_S, MusicBrainzClient, MusicBrainzError
from crawler.musicbrainz.genres import MusicBrainzGenres
from crawler.spotify.rate_limit import RollingWindowLimiter, SpacedLimiter
from sample_api.musicbrainz import GENRES, NON_GENRE_TAGS, musicbrainz_minimum_calls, stats_key
from sample_api.server import start_sample_api
from spotify_core.settings import load_settings

N_ARTISTS = 250
QUICK_INTERVAL_S = 0.15  # clients of the `quick` service, which admits a request per 0.05 s


@pytest.fixture(scope="module")
def api():
    """At MusicBrainz's pace: one request per second per client."""
    with start_sample_api(n_artists=N_ARTISTS, seed=7) as srv:
        yield srv


@pytest.fixture(scope="module")
def quick():
    """The same service admitting 20 requests per second, for tests that are not about the rate."""
    with start_sample_api(n_artists=N_ARTISTS, seed=7) as srv:
        srv.musicbrainz.min_interval_s = 0.05
        yield srv


def source(api, agent: str, interval_s: float | None = None) -> MusicBrainzGenres:
    """A source with the process-wide limiter, or with its own one (a process of its own) at ``interval_s``."""
    limiter = None if interval_s is None else SpacedLimiter(interval_s)
    return MusicBrainzGenres(MusicBrainzClient(api.musicbrainz_url, agent, limiter=limiter))


def quick_source(api, agent: str) -> MusicBrainzGenres:
    return source(api, agent, QUICK_INTERVAL_S)


def catalog_genres(api, spotify_id: str) -> list[str]:
    """What the catalog says the artist plays (Spotify's genres): what MusicBrainz's tags were made from."""
    return sorted(api.catalog.artist(api.catalog.artist_index(spotify_id), "", "extended")["genres"])


def server_calls(api) -> dict[str, int]:
    stats = api.stats()
    return {k: stats[stats_key(k)] for k in ("url", "artist?query", "artist/{mbid}", "genre/all") if stats.get(stats_key(k))}


def gaps(times: list[float]) -> list[float]:
    times = sorted(times)
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def test_genres_of_every_linked_artist_with_the_fewest_calls(quick) -> None:
    quick.reset_stats()
    ids = [aid for aid, _ in quick.catalog.iter_artists()]
    src = quick_source(quick, "genre-test/1.0 ( tests@example.org )")
    result = src.fetch(ids + ids[:5])  # duplicates asked once
    linked = [i for i in ids if quick.musicbrainz.mbids(i)]
    assert 0.78 * N_ARTISTS <= len(linked) <= 0.88 * N_ARTISTS
    assert sorted(result.unknown) == sorted(set(ids) - set(linked))
    found = dict(result.found)
    assert sorted(found) == sorted(linked) and len(result.found) == len(linked)
    for spotify_id, payload in found.items():
        assert set(payload) == {"artist_id", "source", "mbid", "genres", "artist"}
        assert payload["artist_id"] == spotify_id and payload["source"] == "musicbrainz"
        assert sorted(payload["genres"]) == catalog_genres(quick, spotify_id), spotify_id
        assert not set(payload["genres"]) & set(NON_GENRE_TAGS)
        assert payload["mbid"] == min(quick.musicbrainz.mbids(spotify_id))  # several: the smallest, every run
        assert payload["artist"]["id"] == payload["mbid"] and "tags" in payload["artist"] or not payload["genres"]
    # the edge cases the catalog must contain for this test to mean something
    assert any(len(quick.musicbrainz.mbids(i)) > 1 for i in linked)
    assert any(found[i]["genres"] == [] for i in linked)
    assert any(set(t["name"] for t in found[i]["artist"].get("tags", [])) - set(GENRES) for i in linked)
    # 3 url lookups (by 100) + 3 searches (207 linked, by 100) + the genre list once
    expected = musicbrainz_minimum_calls(quick.musicbrainz, ids)
    assert expected == {"url": 3, "artist?query": 3, "genre/all": 1}
    assert dict(src.client.answers) == expected
    # what the server saw: the same calls, plus any a 503 made the client repeat
    stats = quick.stats()
    assert stats["musicbrainz_requests"] - stats.get("musicbrainz_status_503", 0) == sum(expected.values())
    assert dict(src.client.calls) == server_calls(quick)
    for key, count in musicbrainz_minimum_calls(quick.musicbrainz, ids, stats_keys=True).items():
        assert stats[key] >= count


def test_never_faster_than_one_request_per_second(api) -> None:
    """Two threads share one source, and a second source in the same process: one limiter for all."""
    agent = "rate-test/1.0 ( tests@example.org )"
    ids = [aid for aid, _ in api.catalog.iter_artists()]
    shared, other = source(api, agent), source(api, agent)
    errors: list[BaseException] = []

    def work(src: MusicBrainzGenres, part: list[str]) -> None:
        try:
            src.fetch(part)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(shared, ids[k * 40:(k + 1) * 40])) for k in range(2)]
    threads.append(threading.Thread(target=work, args=(other, ids[80:120])))
    api.reset_stats()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times = api.musicbrainz.request_times(agent)
    assert len(times) >= 6
    assert min(gaps(times)) >= 1.0  # measured at the server, from request arrivals
    assert not errors
    assert shared.client.answers["genre/all"] == 1  # two threads, one genre list


def test_user_agent_is_sent_and_a_generic_one_is_refused(api) -> None:
    agent = "ua-test/2.3 ( https://example.org/contact )"
    assert source(api, agent).fetch([api.catalog.artist_id(0)]) is not None
    assert api.musicbrainz.request_times(agent)  # the server saw exactly that User-Agent
    api.reset_stats()
    blocked = source(api, "python-requests/2.32.3")
    with pytest.raises(MusicBrainzError) as err:
        blocked.fetch([api.catalog.artist_id(0)])
    assert err.value.status == 403
    assert "MUSICBRAINZ_USER_AGENT" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(MusicBrainzError):  # refused once, not asked again
        blocked.fetch([api.catalog.artist_id(1)])
    assert api.stats()["musicbrainz_requests"] == 1
    bare = requests.get(f"{api.musicbrainz_url}/genre/all", params={"fmt": "txt"}, timeout=5,
                        headers={"User-Agent": ""})
    assert bare.status_code == 403


def test_the_default_user_agent_is_accepted() -> None:
    from sample_api.musicbrainz import meaningful_user_agent

    assert meaningful_user_agent(load_settings({}).musicbrainz_user_agent)


def test_503_from_the_rate_rule_is_waited_out(api) -> None:
    ids = [aid for aid, _ in api.catalog.iter_artists()][:120]
    agent = "retry-test/1.0 ( tests@example.org )"
    # Another process on the same address with the same User-Agent just called: MusicBrainz's
    # rate rule answers this process's first request 503 (the server counts per client address and
    # User-Agent); this process starts with its own limiter, which knows nothing of the other one.
    assert requests.get(f"{api.musicbrainz_url}/genre/all", params={"fmt": "txt"}, timeout=5,
                        headers={"User-Agent": agent}).status_code == 200
    src = source(api, agent, MIN_INTERVAL_S)
    api.reset_stats()
    result = src.fetch(ids)
    assert src.client.events["503"] >= 1 and api.stats()["musicbrainz_status_503"] >= 1
    found = dict(result.found)
    assert found and all(sorted(p["genres"]) == catalog_genres(api, i) for i, p in found.items())
    assert sorted(result.unknown) == sorted(set(ids) - set(found))


def test_a_busy_server_is_retried(quick) -> None:
    ids = [aid for aid, _ in quick.catalog.iter_artists()][:30]
    src = quick_source(quick, "busy-test/1.0 ( tests@example.org )")
    quick.musicbrainz.fail_next(2)  # 503 twice in a row
    result = src.fetch(ids)
    assert src.client.events["503"] == 2
    found = dict(result.found)
    assert found and all(sorted(p["genres"]) == catalog_genres(quick, i) for i, p in found.items())
    assert sorted(result.unknown) == sorted(set(ids) - set(found))
    quick.musicbrainz.fail_next(1, status=500)  # other 5xx: retried with backoff too
    again = src.fetch(ids)
    assert src.client.events["retry"] == 3
    assert dict(again.found) == found and again.unknown == result.unknown


def test_a_bad_request_fails_at_once_in_one_line(quick) -> None:
    client = MusicBrainzClient(quick.musicbrainz_url, "bad-request-test/1.0 ( tests@example.org )")
    with pytest.raises(MusicBrainzError) as err:
        client.search_artists("arid:(x)", limit=101)
    assert err.value.status == 400 and "\n" not in str(err.value)
    assert str(err.value) == "musicbrainz artist?query: 400 Invalid limit: 101"
    assert client.calls["artist?query"] == 1 and not client.events


def test_a_dead_server_fails_later_calls_at_once() -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = MusicBrainzClient(f"http://127.0.0.1:{port}/ws/2", "dead-test/1.0 ( tests@example.org )",
                               policy=RetryPolicy(max_retries=1, base_delay_s=0.01),
                               limiter=RollingWindowLimiter(1000, 1.0))
    for _ in range(3):
        with pytest.raises(MusicBrainzError, match="gave up after 2 attempts"):
            client.genre_list_text()
    assert client.calls["genre/all"] == 6
    with pytest.raises(MusicBrainzError, match="unreachable"):
        client.genre_list_text()
    assert client.calls["genre/all"] == 6  # not asked again


def test_single_resource_form_linked_and_unknown(quick) -> None:
    ids = [aid for aid, _ in quick.catalog.iter_artists()]
    linked = next(i for i in ids if quick.musicbrainz.mbids(i))
    unlinked = next(i for i in ids if not quick.musicbrainz.mbids(i))
    src = quick_source(quick, "single-test/1.0 ( tests@example.org )")
    hit = src.fetch([linked])
    assert [i for i, _ in hit.found] == [linked] and hit.unknown == []
    miss = src.fetch([unlinked])  # a lone unknown URL answers 404
    assert miss.found == [] and miss.unknown == [unlinked]
    assert src.client.answers["genre/all"] == 1  # once per source, not per fetch


def test_artist_missing_from_the_search_index_is_looked_up(quick) -> None:
    ids = [aid for aid, _ in quick.catalog.iter_artists()]
    lagging = next(i for i in ids if quick.musicbrainz.mbids(i) and catalog_genres(quick, i))
    quick.musicbrainz.unindexed.add(min(quick.musicbrainz.mbids(lagging)))
    try:
        src = quick_source(quick, "lag-test/1.0 ( tests@example.org )")
        result = src.fetch([lagging, ids[0]])
    finally:
        quick.musicbrainz.unindexed.clear()
    payload = dict(result.found)[lagging]
    assert sorted(payload["genres"]) == catalog_genres(quick, lagging)
    assert "genres" in payload["artist"]  # the artist/<MBID>?inc=genres object as received
    assert src.client.answers["artist/{mbid}"] == 1


def test_genre_list_from_json_pages_when_the_text_form_is_refused(quick, monkeypatch) -> None:
    from sample_api import musicbrainz as service_module

    genres = quick.musicbrainz._genres

    def json_only(query: dict):
        if query.get("fmt") == ["txt"]:
            return service_module._json(400, {"error": "Invalid format: txt", "help": ""})
        return genres(query)

    monkeypatch.setattr(quick.musicbrainz, "_genres", json_only)
    src = quick_source(quick, "pages-test/1.0 ( tests@example.org )")
    assert src.genre_names() == frozenset(GENRES)
    assert src.client.answers["genre/all"] == -(-len(GENRES) // 100)  # pages of 100
    assert src.genre_names() is src.genre_names()  # fetched once


def test_source_from_settings(quick, make_settings) -> None:
    """MUSICBRAINZ_API_BASE_URL points the source at the sample service; the default User-Agent is sent."""
    settings = make_settings(musicbrainz_api_base_url=quick.musicbrainz_url)
    linked = next(aid for aid, _ in quick.catalog.iter_artists() if quick.musicbrainz.mbids(aid))
    result = MusicBrainzGenres.from_settings(settings).fetch([linked])
    assert [i for i, _ in result.found] == [linked]
    assert quick.musicbrainz.request_times(settings.musicbrainz_user_agent)
