"""ReccoBeats features, the genres stage and credited artists, against the sample API's three services."""

from __future__ import annotations

import json
import sqlite3
from math import ceil

from crawler.artists_file import ArtistEntry
from crawler.crawl import CrawlOptions
from crawler.factory import build_crawler
from crawler.genre_stage import spotify_genres
from crawler.landing.sqlite import SQLiteLandingStore
from crawler.reccobeats import ReccoBeatsFeatures, match
from sample_api.minimum_calls import minimum_calls
from sample_api.reccobeats import STATS_KEY
from sample_api.server import start_sample_api
from tests.crawler.conftest import entries_for, spotify_calls

RECCOBEATS = "reccobeats/audio-features"


def _landed(settings, collection: str) -> dict[str, dict]:
    store = SQLiteLandingStore(settings.landing_sqlite_path)
    try:
        return {d.id: json.loads(d.payload_json) for d in store.iter_raw(collection)}
    finally:
        store.close()


def _crawl_recording(settings, entries, **options):
    """A crawl whose genre source records every batch of artist ids it is asked about."""
    asked: list[list[str]] = []
    store = SQLiteLandingStore(settings.landing_sqlite_path)
    try:
        opts = {"genres": settings.genres_source, "enrichment_retry_days": settings.enrichment_retry_days, **options}
        crawler = build_crawler(settings, store, CrawlOptions(run_id=opts.pop("run_id", "test"), **opts))
        source = crawler.genre_source
        if source is not None:
            fetch = source.fetch
            source.fetch = lambda ids: (asked.append(list(ids)), fetch(ids))[1]
        return crawler.run(entries), asked
    finally:
        store.close()


def test_reccobeats_asks_by_40_and_lands_each_object_under_the_spotify_id_of_its_href(make_settings) -> None:
    with start_sample_api(n_artists=10, seed=3, mode="development") as api:
        asked = [api.catalog.track_id(t) for t in range(100)][::-1]  # not the service's order
        answers = ReccoBeatsFeatures(make_settings(api)).fetch(asked)
        assert api.stats()[STATS_KEY] == 3  # 40 + 40 + 20: the 41st id of a call would be dropped
    found = dict(answers.found)
    assert found and answers.unknown and set(found) | set(answers.unknown) == set(asked)
    assert not set(found) & set(answers.unknown)
    for track_id, obj in found.items():
        assert obj["href"] == f"https://open.spotify.com/track/{track_id}" and obj["id"] != track_id
    # Matching ignores order and objects nobody asked about.
    a, b = {"id": "u1", "href": "https://open.spotify.com/track/A"}, {"id": "u2", "href": "https://open.spotify.com/track/B"}
    stray = {"id": "u3", "href": "https://open.spotify.com/track/Z"}
    got = match(["A", "B", "C"], [b, stray, a])
    assert dict(got.found) == {"A": a, "B": b} and got.unknown == ["C"]


def test_reccobeats_429s_are_waited_out_and_retried(make_settings) -> None:
    with start_sample_api(n_artists=10, seed=3) as api:
        api.configure(reccobeats_rate_limit=2, reccobeats_rate_window=1.0)
        source = ReccoBeatsFeatures(make_settings(api, reccobeats_requests_per_second=100.0))
        ids = [api.catalog.track_id(t) for t in range(200)]
        answers = source.fetch(ids)
        stats = api.stats()
    assert source.events["429"] > 0 and stats["reccobeats_status_429"] == source.events["429"]
    assert len(answers.found) + len(answers.unknown) == 200 and len(answers.found) > 150


def test_auto_uses_reccobeats_after_the_refusal_and_asks_misses_again_only_after_the_retry_interval(
        crawl, make_settings) -> None:
    with start_sample_api(n_artists=8, seed=5, mode="development") as api:
        settings = make_settings(api, genres_source="none")
        first = crawl(settings, entries_for(api), workers=4)
        assert not first.failed and first.features_source == "reccobeats"
        assert first.calls["audio-features"] == 1  # the probe Spotify refused
        features, lookups = _landed(settings, "audio_features_raw"), _landed(settings, "lookups_raw")
        tracks = _landed(settings, "tracks_raw")
        misses = {k.removeprefix("reccobeats:") for k in lookups}
        assert features and misses and set(features) | misses == set(tracks) and not set(features) & misses
        assert all(doc == {"source": "reccobeats", "id": doc["id"], "asked_at": doc["asked_at"]}
                   for doc in lookups.values())
        # A resumed crawl (artists not checkpointed done) reads its albums back and asks nothing:
        # every track has features landed or a recent miss.
        store = SQLiteLandingStore(settings.landing_sqlite_path)
        try:
            for entry in entries_for(api):
                store.set_checkpoint(entry.spotify_id, "failed", "killed", "test")
        finally:
            store.close()
        resumed = crawl(settings, entries_for(api), workers=4)
        assert resumed.done == 8 and resumed.calls[RECCOBEATS] == 0
        # A refresh asks nothing either.
        api.reset_stats()
        refresh = crawl(settings, entries_for(api), workers=4, mode="refresh")
        assert refresh.calls[RECCOBEATS] == 0 and STATS_KEY not in api.stats()
        # Past the retry interval, the misses (and only they) are asked again.
        api.reset_stats()
        later = crawl(settings, entries_for(api), workers=4, mode="refresh", enrichment_retry_days=0)
        assert later.calls[RECCOBEATS] == ceil(len(misses) / 40)
    assert _landed(settings, "audio_features_raw") == features


def test_genres_auto_lands_spotify_genres_where_given_and_asks_musicbrainz_for_the_rest(make_settings) -> None:
    with start_sample_api(n_artists=30, seed=9) as api:
        settings = make_settings(api)
        report, asked = _crawl_recording(settings, entries_for(api), workers=4)
        artists = _landed(settings, "artists_raw")
        genres, lookups = _landed(settings, "genres_raw"), _landed(settings, "lookups_raw")
    assert not report.failed
    without = {i for i, a in artists.items() if not a.get("genres")}
    assert without, "the sample catalog has artists without Spotify genres"
    assert sorted(i for batch in asked for i in batch) == sorted(without)
    for artist_id, artist in artists.items():
        if artist.get("genres"):
            assert genres[artist_id] == {"id": artist_id, "genres": artist["genres"]}
        elif artist_id in genres:
            assert genres[artist_id]["source"] == "musicbrainz" and genres[artist_id]["artist_id"] == artist_id
        else:
            assert lookups[f"musicbrainz:{artist_id}"]["source"] == "musicbrainz"
    # The pure split, per mode.
    objs = [{"id": "a", "genres": ["pop"]}, {"id": "b", "genres": []}, {"id": "c"}]
    assert spotify_genres("auto", objs) == ([("a", {"id": "a", "genres": ["pop"]})], ["b", "c"])
    assert spotify_genres("spotify", objs) == ([("a", {"id": "a", "genres": ["pop"]})], [])
    assert spotify_genres("musicbrainz", objs) == ([], ["a", "b", "c"])
    assert spotify_genres("none", objs) == ([], [])


def test_genres_refresh_asks_only_unanswered_artists_and_misses_after_the_retry_interval(make_settings) -> None:
    with start_sample_api(n_artists=12, seed=4, mode="development") as api:
        settings = make_settings(api, audio_features_source="none")
        first, asked = _crawl_recording(settings, entries_for(api), workers=4)
        assert not first.failed and sorted(asked[0]) == sorted(_landed(settings, "artists_raw"))
        misses = {k.removeprefix("musicbrainz:") for k in _landed(settings, "lookups_raw")}
        assert misses and misses < set(asked[0])
        again, asked_again = _crawl_recording(settings, entries_for(api), workers=4, mode="refresh")
        assert asked_again == [] and not any(k.startswith("musicbrainz/") for k in again.calls)
        _, asked_later = _crawl_recording(settings, entries_for(api), workers=4, mode="refresh",
                                          enrichment_retry_days=0)
    assert [sorted(b) for b in asked_later] == [sorted(misses)]


def test_spotify_genres_a_killed_run_left_behind_land_from_the_landed_artist(make_settings) -> None:
    """An artist and its Spotify genres land in two writes: killed between them, the artist is landed without
    genres_raw. The next run lands them from the landed object, and never asks MusicBrainz about it (found
    by test_kill_resume.py: once in ~15 runs the kill fell between the two writes)."""
    with start_sample_api(n_artists=12, seed=9) as api:
        settings = make_settings(api)
        report, _ = _crawl_recording(settings, entries_for(api), workers=4)
        assert not report.failed
        genres = _landed(settings, "genres_raw")
        spotify = sorted(i for i, a in _landed(settings, "artists_raw").items() if a.get("genres"))[:2]
        with sqlite3.connect(settings.landing_sqlite_path) as conn:  # the kill between the two writes
            conn.executemany("DELETE FROM genres_raw WHERE _id = ?", [(i,) for i in spotify])
        again, asked = _crawl_recording(settings, entries_for(api), workers=4)
    assert not again.failed and asked == []
    assert _landed(settings, "genres_raw") == genres


def test_a_killed_genre_batch_is_asked_again_and_nothing_else(make_settings) -> None:
    """The genre source dies after its first batch of 100: the next run asks exactly the artists not answered."""
    with start_sample_api(n_artists=150, seed=8) as api:
        settings = make_settings(api, genres_source="musicbrainz", audio_features_source="none")
        store = SQLiteLandingStore(settings.landing_sqlite_path)
        try:
            crawler = build_crawler(settings, store, CrawlOptions(run_id="dies", genres="musicbrainz"))
            fetch, batches = crawler.genre_source.fetch, []

            def dies_after_one(ids):
                batches.append(list(ids))
                if len(batches) > 1:
                    raise ConnectionError("killed")
                return fetch(ids)

            crawler.genre_source.fetch = dies_after_one
            report = crawler.run(entries_for(api))
        finally:
            store.close()
        assert [len(b) for b in batches] == [100, 50]
        assert not report.failed and report.warnings[0].startswith("genres: musicbrainz: killed")
        answered = set(_landed(settings, "genres_raw")) | {k.split(":", 1)[1] for k in _landed(settings, "lookups_raw")}
        assert answered == set(batches[0])
        _, asked = _crawl_recording(settings, entries_for(api), workers=4)
    assert sorted(i for b in asked for i in b) == sorted(batches[1])


def test_artists_credited_on_crawled_albums_are_landed_at_the_cheapest_calls(crawl, make_settings, tmp_path) -> None:
    """The top 15 of the ranking (as `kworb --limit 15` gives): every credited artist lands, at the minimal calls."""
    for mode in ("extended", "development"):
        with start_sample_api(n_artists=40, seed=42, mode=mode) as api:
            settings = make_settings(api, data_dir=tmp_path / mode, genres_source="spotify",
                                     audio_features_source="none")
            cat = api.catalog
            top = [ArtistEntry(cat.artist_name(i), cat.artist_id(i)) for i in cat.ranked_artists()[:15]]
            report = crawl(settings, top, workers=4)
            minimum = minimum_calls(cat, mode, artists=15, ranked=True, credited_artists=True, features_source="none")
            artists, albums = _landed(settings, "artists_raw"), _landed(settings, "albums_raw")
            checkpoints = SQLiteLandingStore(settings.landing_sqlite_path)
            try:
                done = set(checkpoints.checkpoints())
            finally:
                checkpoints.close()
        credited = {ar["id"] for a in albums.values() for item in (a, *a["tracks"]["items"]) for ar in item["artists"]}
        outside = credited - {e.spotify_id for e in top}
        assert outside, "the sample co-credits albums to artists outside the top 15"
        assert not report.failed and credited <= set(artists) and report.credited_artists == len(outside)
        assert done == {e.spotify_id for e in top}  # credited artists are not checkpointed as crawled
        calls = spotify_calls(report)
        if mode == "extended":
            assert calls == minimum and calls["artists"] == 2  # the crawled 15, then the credited ones
        else:
            assert calls["artists/{id}"] == 15 + len(outside) == minimum["artists/{id}"]
            assert sum(calls.values()) == sum(minimum.values()) + 2  # refused batch call and page size
