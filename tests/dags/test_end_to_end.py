"""Both DAGs through Airflow (`airflow dags test`) against the sample API, via the demo command.

One demo run per mode: development (the default: features from the sample's ReccoBeats, genres
from its MusicBrainz; run twice to show idempotency) and extended (Spotify gives both).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.lake_tables import parquet


def _demo_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data")}
    for var in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "MONGO_URI", "TRINO_HOST", "HIVE_METASTORE_URI",
                "LAKE_URI", "AUDIO_FEATURES_SOURCE", "GENRES_SOURCE", "RECCOBEATS_API_BASE_URL",
                "MUSICBRAINZ_API_BASE_URL"):
        env.pop(var, None)
    return env


def _sources(lake: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Rows per features_source of silver_feature_music and per genre_source of silver_artists_genres."""
    features = parquet(lake, "silver_layer/silver_feature_music")
    genres = parquet(lake, "silver_layer/silver_artists_genres")
    return (dict(duckdb.sql(f"SELECT features_source, count(*) FROM {features} GROUP BY 1").fetchall()),
            dict(duckdb.sql(f"SELECT genre_source, count(*) FROM {genres} GROUP BY 1").fetchall()))


@pytest.mark.slow
@pytest.mark.airflow
@pytest.mark.timeout(1800)  # two demo runs; each subprocess has its own 900 s limit
def test_demo_runs_both_dags_and_is_idempotent(tmp_path: Path) -> None:
    env = _demo_env(tmp_path)
    cmd = [sys.executable, "-m", "spotify_pipeline", "demo", "--artists", "8"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    demo = tmp_path / "data" / "demo"
    report = json.loads((demo / "reports" / "quality.json").read_text())
    assert report["passed"] and len(report["results"]) > 30
    assert "data quality: PASSED" in first.stdout
    dashboard = parquet(demo / "lake", "warehouse_layer/warehouse_track_dashboard")
    tracks = parquet(demo / "lake", "silver_layer/tracks_data")
    n_dash, n_tracks = duckdb.sql(f"SELECT (SELECT count(*) FROM {dashboard}), (SELECT count(*) FROM {tracks})"
                                  ).fetchone()
    assert n_dash == n_tracks > 0
    # The Hive catalog was registered by the last task (embedded metastore under the demo data dir).
    assert (demo / "metastore_db").is_dir()
    # The similar-tracks task ran in the DAG, and the demo ended with its HTML report.
    similar = parquet(demo / "lake", "warehouse_layer/warehouse_track_similar")
    assert duckdb.sql(f"SELECT count(DISTINCT track_id) FROM {similar}").fetchone()[0] > 0
    html_report = demo / "reports" / "warehouse_report.html"
    assert f"report: {html_report}" in first.stdout and "Track clusters (KMeans)" in html_report.read_text()
    before = duckdb.sql(f"SELECT * FROM {dashboard} ORDER BY ALL").fetchall()

    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "sample API: 0 Web API calls this run" in second.stdout
    dashboard = parquet(demo / "lake", "warehouse_layer/warehouse_track_dashboard")  # the current version now
    assert duckdb.sql(f"SELECT * FROM {dashboard} ORDER BY ALL").fetchall() == before
    # Development mode (the default): features from ReccoBeats, genres from MusicBrainz, nothing from Spotify.
    features, genres = _sources(demo / "lake")
    assert set(features) == {"reccobeats"} and features["reccobeats"] > 0
    assert set(genres) == {"musicbrainz"} and genres["musicbrainz"] > 0
    assert "app mode: development" in first.stdout
    coverage = first.stdout.split("== coverage by source\n", 1)[1]
    assert re.search(r"audio features: \d+ % of tracks \(ReccoBeats \d+ %\)", coverage), coverage[:400]
    assert re.search(r"genres: \d+ % of artists \(MusicBrainz \d+ %\)", coverage), coverage[:400]
    assert "sample API: 0 ReccoBeats calls, 0 MusicBrainz calls this run" in second.stdout


@pytest.mark.slow
@pytest.mark.airflow
@pytest.mark.timeout(900)
def test_demo_in_extended_mode_never_calls_reccobeats(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "spotify_pipeline", "demo", "--artists", "8", "--mode", "extended"]
    run = subprocess.run(cmd, env=_demo_env(tmp_path), capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "data quality: PASSED" in run.stdout and "app mode: extended" in run.stdout
    assert "sample API: 0 ReccoBeats calls" in run.stdout
    features, genres = _sources(tmp_path / "data" / "demo" / "lake")
    assert set(features) == {"spotify"} and features["spotify"] > 0
    assert genres.get("spotify", 0) > 0
