"""Similarity scoring and `spotify-pipeline recommend`, against neighbours worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.recommend import recommend, resolve_seed
from spark_jobs.similarity import FEATURES, Tracks, top_k
from spotify_core.settings import get_settings, load_settings
from spotify_pipeline.cli import main
from tests.analytics.tiny_lake import write_tiny_lake


def frame(rows: list[tuple]) -> pd.DataFrame:
    """rows: (track_id, name, artist, isrc, genres, {feature: z})."""
    return pd.DataFrame([{"track_id": t, "track_name": n, "artist_name": a, "isrc": i, "genres": g,
                          **{f: z.get(f, 0.0) for f in FEATURES}} for t, n, a, i, g, z in rows])


def ids_of(found, candidates: pd.DataFrame, row: int = 0) -> list[str]:
    return [candidates["track_id"][i] for i in found.index[row] if i >= 0]


def test_genre_overlap_lifts_a_nearly_as_close_track() -> None:
    cands = frame([("s", "S", "A", None, ["pop"], {}),
                   ("a", "A", "B", None, ["rock"], {"energy": 1.0}),       # d 1.0, overlap 0   -> 1.0
                   ("b", "B", "C", None, ["pop"], {"energy": 1.2}),        # d 1.2, overlap 1   -> 0.7
                   ("h", "H", "D", None, ["pop", "jazz"], {"tempo": 1.4}),  # d 1.4, overlap 1/2 -> 1.15
                   ("z", "Z", "E", None, ["pop"], {"tempo": 3.0})])        # d 3.0              -> 2.5
    found = top_k(Tracks.from_frame(cands[:1]), Tracks.from_frame(cands), 3)
    assert ids_of(found, cands) == ["b", "a", "h"]
    assert np.allclose(found.distance[0], [1.2, 1.0, 1.4])
    assert np.allclose(found.genre_overlap[0], [1.0, 0.0, 0.5])
    assert np.allclose(found.score[0], [0.7, 1.0, 1.15])


def test_seed_and_its_duplicates_are_never_returned() -> None:
    cands = frame([("s", "Song", "Ann", "ISRC1", [], {}),
                   ("same_isrc", "Song (Remastered)", "Ann", "ISRC1", [], {}),
                   ("same_name", "  SONG ", "ann", None, [], {}),
                   ("other", "Other", "Bob", None, [], {"key": 2.0}),
                   ("no_isrc", "No Isrc", "Cy", None, [], {"key": 3.0})])
    found = top_k(Tracks.from_frame(cands[:1]), Tracks.from_frame(cands), 10)
    assert ids_of(found, cands) == ["other", "no_isrc"]  # two missing ISRCs are not "the same ISRC"
    assert list(found.index[0][2:]) == [-1] * 8


def test_equal_scores_are_ordered_by_track_id_and_batches_match_single_seeds() -> None:
    cands = frame([("s", "S", "A", None, [], {}),
                   ("t2", "T2", "B", None, [], {"valence": 1.0}),
                   ("t1", "T1", "C", None, [], {"valence": -1.0}),
                   ("t3", "T3", "D", None, [], {"liveness": 1.0})])
    both = top_k(Tracks.from_frame(cands), Tracks.from_frame(cands), 3)
    assert ids_of(both, cands, 0) == ["t1", "t2", "t3"]
    for row in range(len(cands)):
        single = top_k(Tracks.from_frame(cands[row:row + 1]), Tracks.from_frame(cands), 3)
        assert list(single.index[0]) == list(both.index[row])


@pytest.fixture
def lake_settings(tmp_path: Path):
    write_tiny_lake(tmp_path / "lake")
    return load_settings({"DATA_DIR": str(tmp_path)})


def test_recommend_over_the_lake(lake_settings) -> None:
    from analytics.data import catalog_tracks

    catalog = catalog_tracks(lake_settings)
    rec = recommend(catalog, resolve_seed(catalog, track_id="s"), 10)
    # c 0.5; b 1.2 - 0.5 = 0.7; a 1.0; far 10 - 0.5; never the duplicates nor the track without features
    assert [n["track_id"] for n in rec.neighbours] == ["c", "b", "a", "far"]
    assert [n["score"] for n in rec.neighbours] == [0.5, 0.7, 1.0, 9.5]


def test_seed_by_name_and_by_duplicate_name(lake_settings) -> None:
    from analytics.data import catalog_tracks

    catalog = catalog_tracks(lake_settings)
    assert catalog["track_id"][resolve_seed(catalog, name="gamma")] == "c"
    # "seed song" matches s and dup_name: two releases of one song, so not ambiguous
    assert catalog["track_id"][resolve_seed(catalog, name="Seed Song")] in ("s", "dup_name")


def cli(settings, monkeypatch, *argv: str) -> int:
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    try:
        return main(["recommend", *argv])
    finally:
        get_settings.cache_clear()


def test_cli_json_and_table(lake_settings, monkeypatch, capsys) -> None:
    assert cli(lake_settings, monkeypatch, "--track", "s", "-k", "2", "--format", "json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["seed"] == {"track_id": "s", "track_name": "Seed Song", "artist_name": "Ann", "genres": ["pop"]}
    assert [(n["rank"], n["track_id"], n["genre_overlap"]) for n in out["neighbours"]] == [(1, "c", 0.0),
                                                                                           (2, "b", 1.0)]
    assert cli(lake_settings, monkeypatch, "--name", "Alpha", "-k", "1") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("tracks like Alpha - Bob (a; genres: rock)")
    assert lines[3].split(" | ")[1].strip() == "b"  # a -> b: d 0.2; c: d sqrt(1.25)


def test_cli_errors_are_one_line(lake_settings, monkeypatch, capsys) -> None:
    assert cli(lake_settings, monkeypatch, "--track", "nope") == 1
    assert cli(lake_settings, monkeypatch, "--name", "a") == 1     # substring of several different songs
    assert cli(lake_settings, monkeypatch, "--track", "nov") == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3
    assert "no track with id 'nope'" in err[0]
    assert "tracks match 'a'" in err[1] and "a (Alpha - Bob)" in err[1] and "--track ID" in err[1]
    assert "nov (No Vector - Fay) has no audio features" in err[2]


def test_cli_on_an_empty_lake_names_the_command(tmp_path, monkeypatch, capsys) -> None:
    assert cli(load_settings({"DATA_DIR": str(tmp_path)}), monkeypatch, "--track", "x") == 1
    assert "warehouse_track_dashboard is not in the lake yet: run `spotify-pipeline demo`" in capsys.readouterr().err


def test_cli_usage(monkeypatch, tmp_path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["recommend", "--track", "a", "--name", "b"])
    assert exc.value.code == 2
