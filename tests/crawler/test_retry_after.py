"""`Retry-After` is honoured and capped: a server announcing an hour must not hang a crawl."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from crawler.artists_file import write_artists_file
from crawler.http.retry import retry_after_seconds
from sample_api.server import start_sample_api
from tests.crawler.conftest import entries_for, landing_snapshot


def test_seconds_below_the_cap_are_waited_out() -> None:
    assert retry_after_seconds("3", default=1.0, cap=60.0) == 3.0


def test_seconds_above_the_cap_are_capped() -> None:
    assert retry_after_seconds("3600", default=1.0, cap=60.0) == 60.0


def test_http_date_is_the_time_left_until_it() -> None:
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=20), usegmt=True)
    assert abs(retry_after_seconds(header, default=1.0, cap=60.0, now=now.timestamp()) - 20.0) < 1e-6
    far = format_datetime(now + timedelta(hours=2), usegmt=True)
    assert retry_after_seconds(far, default=1.0, cap=60.0, now=now.timestamp()) == 60.0
    past = format_datetime(now - timedelta(seconds=5), usegmt=True)
    assert retry_after_seconds(past, default=1.0, cap=60.0, now=now.timestamp()) == 0.0


def test_garbage_missing_and_negative_headers_fall_back_safely() -> None:
    for header in ("soon", "", None, "nan", "12 seconds"):
        assert retry_after_seconds(header, default=1.5, cap=60.0) == 1.5, header
    assert retry_after_seconds("-10", default=1.5, cap=60.0) == 0.0


def test_a_retry_after_within_the_cap_is_waited_out_and_the_crawl_completes(tmp_path) -> None:
    """The server's own rolling window (1 s) announces at most 1 s: every thread pauses, nothing fails."""
    with start_sample_api(n_artists=4, seed=7, rate_limit=20, rate_window=1.0) as api:
        artists = tmp_path / "artists.txt"
        write_artists_file(artists, entries_for(api))
        proc = subprocess.run([sys.executable, "-m", "spotify_pipeline", "crawl", "--artists", str(artists),
                               "--workers", "4"], env=_env(api, tmp_path), capture_output=True, text=True,
                              timeout=90)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert api.stats().get("status_429", 0) > 0
        snap = landing_snapshot(tmp_path / "data" / "landing.sqlite")
    assert len(snap["tracks_raw"]) == api.catalog.n_tracks


def test_an_hour_long_retry_after_beyond_the_cap_stops_the_crawl_instead_of_hanging(tmp_path) -> None:
    """3600 s announced with a 0.5 s cap: a spent quota (exit 75), not an hour's sleep nor a 429 storm."""
    with start_sample_api(n_artists=4, seed=7, rate_limit=4, rate_window=1.0, retry_after=3600) as api:
        artists = tmp_path / "artists.txt"
        write_artists_file(artists, entries_for(api))
        env = {**_env(api, tmp_path), "SPOTIFY_MAX_RETRY_AFTER_S": "0.5"}
        proc = subprocess.run([sys.executable, "-m", "spotify_pipeline", "crawl", "--artists", str(artists),
                               "--workers", "4"], env=env, capture_output=True, text=True, timeout=90)
        assert proc.returncode == 75, proc.stderr[-2000:]
        assert "Retry-After 3600s" in proc.stderr and "resume after" in proc.stderr
        assert 1 <= api.stats().get("status_429", 0) <= 4 + 2  # the first answer and the calls in flight


def _env(api, tmp_path) -> dict[str, str]:
    return {**os.environ, "SPOTIFY_API_BASE_URL": api.api_url, "SPOTIFY_TOKEN_URL": api.token_url,
            "SPOTIFY_CLIENT_ID": api.client_id, "SPOTIFY_CLIENT_SECRET": api.client_secret,
            "SPOTIFY_REQUESTS_PER_SECOND": "100", "DATA_DIR": str(tmp_path / "data"),
            "RECCOBEATS_API_BASE_URL": api.reccobeats_url, "MUSICBRAINZ_API_BASE_URL": api.musicbrainz_url}
