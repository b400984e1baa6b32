"""A crawl SIGKILLed at any stage loses at most the batches in flight.

For each stage (artists, album listings, albums, tracks, features; in development mode the
stages that make calls, and ReccoBeats' features), a `spotify-pipeline crawl` process is killed while that stage's calls
are under way, then run again: the calls of both runs stay within 1.1x an uninterrupted crawl,
and the landing zone equals the uninterrupted crawl's. The uninterrupted crawl of a mode is run once,
against the server its stages' crawls use (``clean_crawl``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.artists_file import write_artists_file
from sample_api.minimum_calls import catalog_tracks, minimum_calls
from sample_api.reccobeats import STATS_KEY as RECCOBEATS_KEY
from sample_api.server import SampleApi, start_sample_api
from tests.crawler.conftest import entries_for, landing_snapshot
from tests.helpers.quick_musicbrainz import quick_musicbrainz

N_ARTISTS, SEED, WORKERS = 20, 42, 4
RATE = {"extended": "60", "development": "150"}
STAGES = {
    "extended": {"artists": "artists", "album listings": "artists/{id}/albums", "albums": "albums",
                 "tracks": "tracks", "features": "audio-features"},
    "development": {"artists": "artists/{id}", "album listings": "artists/{id}/albums", "albums": "albums/{id}",
                    "reccobeats features": "reccobeats"},
}
CASES = [(mode, stage) for mode, stages in STAGES.items() for stage in stages]


def _calls(api) -> int:
    return sum(v for k, v in api.stats().items() if k.startswith("GET /v1/"))


def _crawl_cmd(artists) -> list[str]:
    return [sys.executable, "-m", "spotify_pipeline", "crawl", "--artists", str(artists),
            "--workers", str(WORKERS)]


def _env(api, tmp, rate: str, reccobeats_rate: str = "20") -> dict[str, str]:
    return {**os.environ, "SPOTIFY_API_BASE_URL": api.api_url, "SPOTIFY_TOKEN_URL": api.token_url,
            "SPOTIFY_CLIENT_ID": api.client_id, "SPOTIFY_CLIENT_SECRET": api.client_secret,
            "SPOTIFY_REQUESTS_PER_SECOND": rate, "DATA_DIR": str(tmp / "data"),
            "RECCOBEATS_API_BASE_URL": api.reccobeats_url, "MUSICBRAINZ_API_BASE_URL": api.musicbrainz_url,
            "RECCOBEATS_REQUESTS_PER_SECOND": reccobeats_rate, **quick_musicbrainz(api)}


@dataclass(frozen=True)
class Clean:
    """The uninterrupted crawl of a mode's sample API: its calls, its landing zone, its artists.txt."""

    api: SampleApi
    artists: Path
    calls: int
    landing: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def clean_crawl(tmp_path_factory) -> Iterator[Callable[[str], Clean]]:
    """One server and one uninterrupted crawl per mode, shared by that mode's stages (the killed and
    resumed crawls run against the same server: payload hrefs carry its port)."""
    with ExitStack() as stack:
        done: dict[str, Clean] = {}

        def get(mode: str) -> Clean:
            if mode not in done:
                api = stack.enter_context(start_sample_api(n_artists=N_ARTISTS, seed=SEED, mode=mode))
                tmp = tmp_path_factory.mktemp(f"clean-{mode}")
                artists = tmp / "artists.txt"
                write_artists_file(artists, entries_for(api))
                api.reset_stats()
                clean = subprocess.run(_crawl_cmd(artists), env=_env(api, tmp, "1000", "1000"),
                                       capture_output=True, timeout=300)
                assert clean.returncode == 0, clean.stderr[-2000:]
                done[mode] = Clean(api, artists, _calls(api), landing_snapshot(tmp / "data" / "landing.sqlite"))
            return done[mode]

        yield get


@pytest.mark.parametrize(("mode", "stage"), CASES, ids=[f"{m}-{s.replace(' ', '-')}" for m, s in CASES])
def test_sigkill_during_a_stage_loses_at_most_the_batches_in_flight(mode, stage, clean_crawl, tmp_path) -> None:
    clean = clean_crawl(mode)
    api, artists = clean.api, clean.artists
    endpoint = STAGES[mode][stage]
    if endpoint == "reccobeats":
        key, threshold = RECCOBEATS_KEY, catalog_tracks(api.catalog) // 40 // 2
    else:
        key = f"GET /v1/{endpoint}"
        threshold = max(1, minimum_calls(api.catalog, mode)[endpoint] // 2)
    api.reset_stats()
    env = _env(api, tmp_path / "killed", RATE[mode])
    proc = subprocess.Popen(_crawl_cmd(artists), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while api.stats().get(key, 0) < threshold and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and api.stats().get(key, 0) >= threshold, \
        "the crawl finished (or never got there) before the kill"
    killed = _calls(api)
    # The pace only had to hold the first run in the stage until the kill; the resume runs at full speed.
    resumed = subprocess.run(_crawl_cmd(artists), env=_env(api, tmp_path / "killed", "1000", "1000"),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    total = _calls(api)
    assert landing_snapshot(tmp_path / "killed" / "data" / "landing.sqlite") == clean.landing
    assert total <= 1.1 * clean.calls, f"killed run {killed} + resumed {total - killed} calls vs {clean.calls}"
