"""Coverage per enrichment source: counted over a hand-written lake with DuckDB, then worded."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from analytics.coverage import Coverage, coverage_lines, from_counts, read_coverage, summary_lines
from analytics.report import render
from spotify_core.settings import load_settings
from tests.lake_tables import write_version


def _write(root, layer: str, table: str, columns: dict) -> None:
    pq.write_table(pa.table(columns), write_version(root / f"{layer}_layer" / table) / "part-00000.parquet")


def test_read_coverage_counts_tracks_and_artists_per_source(tmp_path) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path)})
    lake = tmp_path / "lake"
    sources = ["reccobeats"] * 4 + ["spotify", "file"] + [None] * 4  # 10 tracks, 6 with features
    _write(lake, "warehouse", "warehouse_track_dashboard", {
        "track_id": [f"t{i}" for i in range(10)], "has_features": [s is not None for s in sources],
        "features_source": pa.array(sources, pa.string())})
    _write(lake, "silver", "silver_artists", {"artist_id": ["a", "b", "c", "d"]})
    _write(lake, "silver", "silver_artists_genres", {  # b from both sources, d none
        "artist_id": ["a", "a", "b", "b", "c"], "genre": ["pop", "rock", "pop", "folk", "jazz"],
        "genre_source": ["musicbrainz", "musicbrainz", "spotify", "musicbrainz", "musicbrainz"]})
    got = read_coverage(settings)
    assert got == Coverage(tracks=10, features={"reccobeats": 4, "spotify": 1, "file": 1}, artists=4,
                           artists_with_genres=3, genres={"musicbrainz": 3, "spotify": 1})
    assert coverage_lines(got) == ["audio features: 60 % of tracks (ReccoBeats 40 %, file 10 %, Spotify 10 %)",
                                   "genres: 75 % of artists (MusicBrainz 75 %, Spotify 25 %)"]
    assert summary_lines(settings)[0] == "== coverage by source"
    assert summary_lines(settings)[2] == "  genres: 75 % of artists (MusicBrainz 75 %, Spotify 25 %)"


def test_summary_says_when_the_lake_cannot_tell(tmp_path) -> None:
    lines = summary_lines(load_settings({"DATA_DIR": str(tmp_path)}))
    assert len(lines) == 1 and lines[0].startswith("== coverage by source: unknown (")


def test_coverage_lines_of_an_empty_or_uncovered_lake() -> None:
    assert coverage_lines(from_counts([])) == ["audio features: no tracks yet", "genres: no artists yet"]
    none = from_counts([("features", None, 5), ("artists", None, 2), ("genres_any", None, 0)])
    assert coverage_lines(none) == ["audio features: 0 % of tracks", "genres: 0 % of artists"]


def test_report_shows_the_coverage_lines() -> None:
    import pandas as pd

    from spark_jobs.similarity import FEATURES

    tracks = pd.DataFrame({"track_id": ["t"], "artist_id": ["a"], "has_features": [True], "release_year": [2020],
                           "genres": [["pop"]], **{f: [0.5] for f in FEATURES}})
    page = render(tracks, None, "now", ["audio features: 82 % of tracks (ReccoBeats 80 %, Spotify 2 %)"])
    assert "<li>audio features: 82 % of tracks (ReccoBeats 80 %, Spotify 2 %)</li>" in page
