"""A spent Spotify quota (429, Retry-After in hours, reason QUOTA_EXCEEDED) stops the crawl cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest

from crawler.artists_file import write_artists_file
from crawler.crawl import CHUNKS_IN_FLIGHT
from crawler.landing.sqlite import SQLiteLandingStore
from crawler.spotify.quota import EXIT_QUOTA_SPENT, QuotaExhausted, names_quota, quota_spent
from sample_api.server import start_sample_api
from spotify_core.settings import load_settings
from tests.crawler.conftest import entries_for
from tests.helpers.quick_musicbrainz import quick_musicbrainz

NOW = datetime(2026, 12, 5, 1, 0, 0, tzinfo=UTC)
QUOTA_BODY = {"error": {"status": 429, "message": "API rate limit exceeded", "reason": "QUOTA_EXCEEDED"}}
WORKERS = 2
COLLECTIONS = ("artists_raw", "albums_raw", "tracks_raw", "audio_features_raw", "genres_raw")


# ---------------------------------------------------------------- recognising the answer (pure)
@pytest.mark.parametrize("body", [
    QUOTA_BODY,
    {"error": {"status": 429, "message": "quota_exceeded for this app"}},
    {"reason": "QUOTA_EXCEEDED"},
    {"error": {"status": 429, "details": [{"reason": "QUOTA_EXCEEDED"}]}},
    "QUOTA_EXCEEDED",
])
def test_the_reason_is_found_wherever_it_appears(body) -> None:
    assert names_quota(body)
    spent = quota_spent("7200", body, max_retry_after_s=60.0, now=NOW)
    assert isinstance(spent, QuotaExhausted)
    assert spent.resume_at == NOW + timedelta(hours=2)


def test_an_ordinary_rate_limit_is_not_a_spent_quota() -> None:
    body = {"error": {"status": 429, "message": "API rate limit exceeded"}}
    assert not names_quota(body)
    assert quota_spent("3", body, max_retry_after_s=60.0, now=NOW) is None
    assert quota_spent(None, body, max_retry_after_s=60.0, now=NOW) is None


def test_a_retry_after_beyond_the_cap_counts_as_a_spent_quota_even_with_an_empty_body() -> None:
    spent = quota_spent("13749", {}, max_retry_after_s=60.0, now=NOW)
    assert spent is not None and spent.resume_at == NOW + timedelta(seconds=13749)
    assert "SPOTIFY_MAX_RETRY_AFTER_S" in str(spent)


def test_the_message_names_the_resume_time_in_utc_and_the_exit_code_is_tempfail() -> None:
    spent = quota_spent("3600", QUOTA_BODY, max_retry_after_s=60.0, now=NOW)
    assert "resume after 2026-12-05 02:00 UTC" in str(spent)
    assert spent.exit_code == EXIT_QUOTA_SPENT == 75
    assert "no resume time" in str(quota_spent(None, QUOTA_BODY, max_retry_after_s=60.0, now=NOW))
    # never printed earlier than the real time: 02:00:01 is "after 02:01"
    assert "resume after 2026-12-05 02:01 UTC" in str(quota_spent("3601", QUOTA_BODY, max_retry_after_s=60.0, now=NOW))


# ---------------------------------------------------------------- the crawl stops, then resumes
# The sample API's quota flag: after ``quota_after`` Web API calls every /v1 call answers 429,
# ``Retry-After`` in hours and a QUOTA_EXCEEDED body, until ``configure(quota_after=None)`` lifts it.
def _refused(api) -> int:
    return api.stats().get("quota_exceeded", 0)


def _env(api, data_dir) -> dict[str, str]:
    return {**os.environ, "SPOTIFY_API_BASE_URL": api.api_url, "SPOTIFY_TOKEN_URL": api.token_url,
            "SPOTIFY_CLIENT_ID": api.client_id, "SPOTIFY_CLIENT_SECRET": api.client_secret,
            "SPOTIFY_REQUESTS_PER_SECOND": "200", "DATA_DIR": str(data_dir),
            # the sample's ReccoBeats and MusicBrainz: tests never call the real services
            "RECCOBEATS_API_BASE_URL": api.reccobeats_url, "MUSICBRAINZ_API_BASE_URL": api.musicbrainz_url,
            "RECCOBEATS_REQUESTS_PER_SECOND": "1000", **quick_musicbrainz(api)}


def _run_ids(path) -> dict[str, dict[str, str]]:
    store = SQLiteLandingStore(path)
    try:
        return {c: {d.id: d.run_id for d in store.iter_raw(c)} for c in COLLECTIONS}
    finally:
        store.close()


def test_a_spent_quota_stops_the_crawl_at_once_and_the_next_run_finishes_it(tmp_path) -> None:
    # Development mode: one call per album, so many calls are queued when the quota runs out.
    with start_sample_api(n_artists=12, seed=11, mode="development", quota_after=40, quota_retry_after=7200) as api:
        artists = tmp_path / "artists.txt"
        write_artists_file(artists, entries_for(api))
        data = tmp_path / "data"
        # The server announces 2 hours: a crawl that waited it out would hit the subprocess timeout.
        proc = subprocess.run([sys.executable, "-m", "spotify_pipeline", "crawl", "--artists", str(artists),
                               "--workers", str(WORKERS), "--run-id", "first"],
                              env=_env(api, data), capture_output=True, text=True, timeout=120)
        assert proc.returncode == EXIT_QUOTA_SPENT, proc.stderr[-2000:]
        errors = [line for line in proc.stderr.splitlines() if "error" in line]
        assert len(errors) == 1, proc.stderr[-2000:]
        assert "quota spent" in errors[0] and " UTC" in errors[0] and "resume after" in errors[0]
        assert "Traceback" not in proc.stderr
        # No storm: after the first quota answer only the calls already in flight reached the server.
        assert 1 <= _refused(api) <= WORKERS + CHUNKS_IN_FLIGHT
        first = _run_ids(data / "landing.sqlite")
        assert first["albums_raw"], "what landed before the quota ran out must stay landed"
        assert len(first["tracks_raw"]) < api.catalog.n_tracks

        api.configure(quota_after=None)  # the quota window has passed
        settings = load_settings(_env(api, data))
        from crawler.crawl import CrawlOptions
        from crawler.factory import build_crawler

        store = SQLiteLandingStore(settings.landing_sqlite_path)
        try:
            report = build_crawler(settings, store, CrawlOptions(run_id="second", workers=WORKERS)).run(
                entries_for(api))
        finally:
            store.close()
        after = _run_ids(data / "landing.sqlite")
    assert not report.failed
    assert len(after["tracks_raw"]) == api.catalog.n_tracks
    assert len(after["artists_raw"]) == api.catalog.n_artists
    for collection in COLLECTIONS:
        # Nothing landed twice: every document of the first run still carries its run id, and the second
        # run landed exactly the documents that were missing.
        assert {i: after[collection][i] for i in first[collection]} == first[collection], collection
        assert report.landed.get(collection, 0) == len(after[collection]) - len(first[collection]), collection


def test_after_the_first_quota_answer_no_thread_reaches_the_server() -> None:
    from crawler.spotify.client import SpotifyClient

    with start_sample_api(n_artists=2, seed=5, quota_after=1) as api:
        client = SpotifyClient(load_settings(_env(api, "unused")))
        artist_id = next(iter(api.catalog.iter_artists()))[0]
        client.get(f"artists/{artist_id}")
        with pytest.raises(QuotaExhausted) as first:
            client.get(f"artists/{artist_id}/albums")
        assert first.value.resume_at is not None
        errors: list[BaseException] = []

        def call() -> None:
            try:
                client.get(f"artists/{artist_id}")
            except QuotaExhausted as exc:
                errors.append(exc)

        threads = [threading.Thread(target=call) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        refused = _refused(api)
    assert len(errors) == 6 and all(e.resume_at == first.value.resume_at for e in errors)
    assert refused == 1  # every later call was stopped before the network
    assert client.events["quota_exceeded"] == 1


def test_the_airflow_task_fails_without_retrying_on_a_spent_quota(tmp_path) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from spotify_pipeline import tasks

    with start_sample_api(n_artists=4, seed=3, quota_after=5) as api:
        artists = tmp_path / "artists.txt"
        write_artists_file(artists, entries_for(api))
        settings = load_settings(_env(api, tmp_path / "data"))
        with pytest.raises(AirflowFailException, match="quota spent.*resume after .* UTC"):
            tasks.crawl_shard(str(artists), 1, WORKERS, "airflow-run", settings=settings)
        assert 1 <= _refused(api) <= WORKERS + CHUNKS_IN_FLIGHT


def test_the_exit_code_is_documented_in_the_crawl_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "spotify_pipeline", "crawl", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert "75" in proc.stdout and "quota" in proc.stdout
    assert json.dumps(EXIT_QUOTA_SPENT) in proc.stdout
