"""Every CLI handler resolves, and every contract command runs once through `main()`.

A renamed or moved handler (``"module:function"`` strings are only imported when their command
runs) must turn this red. `demo` runs end to end in tests/dags/test_end_to_end.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys

import pytest

from sample_api.server import start_sample_api
from spotify_pipeline.cli import _resolve, build_parser, main
from tests.helpers.quick_musicbrainz import quick_musicbrainz

TOP = 15

# Handlers written by another engineer, checked as soon as their module exists (none pending now).
PENDING_HANDLERS: set[str] = set()


def _handlers() -> dict[str, str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return {name: p.get_default("handler") for name, p in sub.choices.items()}


def test_every_handler_resolves_to_a_function() -> None:
    handlers = _handlers()
    assert len(handlers) >= 12
    for name, handler in handlers.items():
        module = handler.split(":")[0]
        if handler in PENDING_HANDLERS and importlib.util.find_spec(module) is None:
            continue
        assert callable(_resolve(handler)), f"{name}: {handler}"


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run `spotify-pipeline ARGS` in-process with these environment variables; (exit code, stdout)."""
    from spotify_core.settings import get_settings

    def run(env: dict[str, str], *argv: str) -> tuple[int, str]:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        try:
            rc = main(list(argv))
        finally:
            get_settings.cache_clear()
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return rc, out

    return run


@pytest.mark.spark
def test_contract_commands_run_through_the_cli_on_the_top_of_a_ranking(spark, cli, tmp_path, monkeypatch) -> None:
    """kworb, crawl, landing-stats, export, transform, check and query, as a new user runs them: a
    development-mode app (no audio features, no genres from Spotify) crawling the top 15 of a ranking of 20.

    Every real crawl is partial, and albums credited to several artists appear in each one's listing: the
    crawl lands tracks whose first credited artist it was not asked to crawl. The gate's reference check
    (`tracks_data.artist_id` -> `silver_artists`) must pass because the crawl lands those artists, not
    because the check is loose.
    """
    for var in ("MONGO_URI", "TRINO_HOST", "HIVE_METASTORE_URI", "LAKE_URI", "WEBHDFS_URL"):
        monkeypatch.delenv(var, raising=False)
    with start_sample_api(n_artists=20, seed=42, mode="development") as api:
        env = {"SPOTIFY_API_BASE_URL": api.api_url, "SPOTIFY_TOKEN_URL": api.token_url,
               "KWORB_BASE_URL": api.kworb_url, "SPOTIFY_CLIENT_ID": api.client_id,
               "SPOTIFY_CLIENT_SECRET": api.client_secret, "SPOTIFY_REQUESTS_PER_SECOND": "1000",
               "RECCOBEATS_API_BASE_URL": api.reccobeats_url, "RECCOBEATS_REQUESTS_PER_SECOND": "1000",
               "MUSICBRAINZ_API_BASE_URL": api.musicbrainz_url, **quick_musicbrainz(api),
               "DATA_DIR": str(tmp_path / "data")}
        artists = tmp_path / "artists.txt"
        assert cli(env, "kworb", "--out", str(artists), "--limit", str(TOP))[0] == 0
        crawled = [line.split("\t")[-1].strip() for line in artists.read_text().splitlines()]
        assert len(crawled) == TOP and all(len(spotify_id) == 22 for spotify_id in crawled)
        rc, out = cli(env, "crawl", "--artists", str(artists), "--workers", "4")
        assert rc == 0, out
        rc, out = cli(env, "landing-stats")
        counts = json.loads(out)
        # the crawled artists, plus those credited on their albums (collaborations) outside the top
        assert rc == 0 and counts["artists_raw"] > TOP and counts["albums_raw"] > 0
    assert cli(env, "export")[0] == 0
    assert (tmp_path / "data" / "lake" / "bronze_layer" / "albums_raw").is_dir()
    assert cli(env, "transform", "--layer", "all")[0] == 0
    rc, out = cli(env, "check")
    assert rc == 0, out

    def query(sql: str) -> list[dict]:
        rc, out = cli(env, "query", sql, "--format", "json")
        assert rc == 0, out
        return [json.loads(line) for line in out.splitlines()]

    # Tracks first credited to an artist outside the top are there, each with its artist's name.
    outside = query(f"SELECT count(*) AS n FROM tracks_data WHERE artist_id NOT IN {tuple(crawled)}")
    assert outside[0]["n"] > 0
    assert query("SELECT count(*) AS n FROM gold_track_metadata WHERE artist_name IS NULL") == [{"n": 0}]
    # A development-mode app's gaps are filled from the two enrichment sources, with provenance.
    features = query("SELECT features_source AS s, count(*) AS n FROM silver_feature_music GROUP BY 1")
    genres = query("SELECT genre_source AS s, count(*) AS n FROM silver_artists_genres GROUP BY 1")
    assert [f["s"] for f in features] == ["reccobeats"] and features[0]["n"] > 0
    assert [g["s"] for g in genres] == ["musicbrainz"] and genres[0]["n"] > 0


def test_sample_api_command_serves_until_sigterm(tmp_path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "spotify_pipeline", "sample-api", "--port", "0",
                             "--artists", "3"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(2)]
        api_url = lines[1].strip().removeprefix("export SPOTIFY_API_BASE_URL=")
        import requests

        resp = requests.post(api_url.replace("/v1", "/api/token"), timeout=10,
                             data={"grant_type": "client_credentials"},
                             auth=("sample-client-id", "sample-client-secret"))
        assert resp.status_code == 200 and resp.json()["access_token"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
