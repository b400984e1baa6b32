"""Recorded payload shapes through silver, gold and warehouse: integers answered as floats, the
enrichment sources' provenance, field-named quarantine reasons, and the DuckDB reference alike."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spark_jobs import quality
from spark_jobs.runner import run_layers, spec_of
from spark_jobs.schemas import TABLES
from spark_jobs.table_io import read_table
from spotify_core.settings import load_settings
from tests.lake_tables import parquet
from tests.spark.payloads import (
    A1,
    A2,
    A3,
    AL1,
    T1,
    T2,
    T3,
    album,
    artist,
    features,
    file_features,
    float_typed_artist,
    float_typed_track,
    minimal_artist,
    musicbrainz_genres,
    reccobeats_features,
    simple_artist,
    simple_track,
)

AT = "2026-11-20T10:00:00.000000Z"
FA = "f" * 21 + "a"  # the float-typed single's album
BAD = {"t_frac": json.dumps({"id": "t_frac", "name": "x", "duration_ms": 12.5}),
       "t_text": json.dumps({"id": "t_text", "name": "x", "track_number": "seven"}),
       "t_nojson": '{"id": "t_nojson", "name": ',
       "t_noid": json.dumps({"name": "no id", "duration_ms": 1000.0})}


def _bronze(root: Path, collection: str, docs: list[tuple[str, str]]) -> None:
    out = root / "bronze_layer" / collection
    out.mkdir(parents=True)
    cols = {"_id": [d[0] for d in docs], "fetched_at": [AT] * len(docs), "run_id": ["r"] * len(docs),
            "payload": [d[1] for d in docs]}
    pq.write_table(pa.table(cols, schema=pa.schema([(c, pa.string()) for c in cols])), out / "part-0.parquet")


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    data = tmp_path_factory.mktemp("sources")
    settings = load_settings({"DATA_DIR": str(data)})
    root = Path(settings.lake_uri.removeprefix("file://"))
    alpha, beta, gamma = simple_artist(A1, "Alpha"), simple_artist(A2, "Beta"), simple_artist(A3, "Gamma")
    _bronze(root, "artists_raw", [(A1, float_typed_artist(A1, "Alpha")), (A2, minimal_artist(A2, "Beta")),
                                  (A3, artist(A3, "Gamma", ["pop"]))])
    _bronze(root, "albums_raw", [
        (AL1, album(AL1, "First", "2020-01-31", "day", [simple_track(T2, "Two", [beta], 1),
                                                        simple_track(T3, "Three", [gamma, alpha], 2)])),
        (FA, json.dumps({"id": FA, "name": "Floats", "album_type": "single", "total_tracks": 1.0,
                         "release_date": "2020", "release_date_precision": "year", "artists": [alpha],
                         "images": [{"url": "u", "height": 300.0, "width": 300.0}],
                         "tracks": {"total": 1.0, "items": [json.loads(float_typed_track(T1, FA, [alpha, beta]))]}})),
        ("al_bad", json.dumps({"id": "al_bad", "name": "x", "images": [{"url": "u", "height": 640.5}]})),
    ])
    _bronze(root, "tracks_raw", [(T1, float_typed_track(T1, FA, [alpha, beta])), *BAD.items()])
    _bronze(root, "audio_features_raw", [
        (T1, features(T1, 0.8).replace('"key": 5', '"key": 5.0')),  # Spotify's object, a float-typed key
        (T2, reccobeats_features(T2, 0.6)),                         # ReccoBeats: keyed by _id, not its UUID
        (T3, file_features(T3, 0.4)),
    ])
    _bronze(root, "genres_raw", [
        (A1, json.dumps({"id": A1, "genres": ["dance pop", "pop"]})),
        (A2, musicbrainz_genres(A2, ["rock", "pop"])),
        (A3, musicbrainz_genres(A3, ["pop", "folk"])),  # Gamma's artist object gives "pop" as well
    ])
    counts = run_layers(settings, ["silver", "gold", "warehouse"])
    return settings, root, counts


def _rows(root: Path, layer: str, table: str, columns: str) -> list[tuple]:
    return duckdb.sql(f"SELECT {columns} FROM {parquet(root, f'{layer}/{table}')} ORDER BY ALL").fetchall()


def test_features_are_keyed_by_landing_id_with_their_source(lake) -> None:
    _, root, _ = lake
    got = _rows(root, "silver_layer", "silver_feature_music", "track_id, features_source, danceability, key, "
                                                               "time_signature, duration_ms")
    assert got == [(T1, "spotify", 0.8, 5, 4, 180000), (T2, "reccobeats", 0.6, -1, None, None),
                   (T3, "file", 0.4, 2, 3, None)]
    dash = _rows(root, "warehouse_layer", "warehouse_track_dashboard", "track_id, has_features, features_source")
    assert dash == [(T1, True, "spotify"), (T2, True, "reccobeats"), (T3, True, "file")]


def test_genres_carry_their_source_and_a_genre_given_twice_is_kept_once_from_spotify(lake) -> None:
    _, root, _ = lake
    got = _rows(root, "silver_layer", "silver_artists_genres", "artist_id, genre, genre_source")
    assert got == sorted([(A1, "dance pop", "spotify"), (A1, "pop", "spotify"), (A2, "pop", "musicbrainz"),
                          (A2, "rock", "musicbrainz"), (A3, "folk", "musicbrainz"), (A3, "pop", "spotify")])
    gold = dict(_rows(root, "gold_layer", "gold_track_metadata", "track_id, genres"))
    assert gold[T3] == ["dance pop", "folk", "pop"]  # the set over Gamma's and Alpha's genres


def test_a_float_typed_track_and_a_minimal_artist_reach_gold(lake) -> None:
    _, root, _ = lake
    got = _rows(root, "gold_layer", "gold_track_metadata",
                "track_id, track_name, album_name, artist_name, duration_ms, popularity, isrc")
    assert (T1, "Float Track", "Floats", "Alpha", 204053, 85, "USUM72000001") in got
    artists = _rows(root, "silver_layer", "silver_artists", "artist_id, artist_name, followers, popularity, image_url")
    assert artists[:2] == [(A1, "Alpha", 1234567, 85, "https://i.scdn.co/image/a"), (A2, "Beta", None, None, None)]
    albums = _rows(root, "silver_layer", "silver_album", "album_id, total_tracks")
    assert (FA, 1) in albums


def test_quarantine_reasons_say_what_is_wrong(lake) -> None:
    _, root, counts = lake
    got = duckdb.sql(f"SELECT source, _id, reason FROM {parquet(root, 'bronze_layer/_quarantine')} ORDER BY ALL"
                     ).fetchall()
    assert got == [("albums_raw", "al_bad", "field images[].height is not an integer"),
                   ("tracks_raw", "t_frac", "field duration_ms is not an integer"),
                   ("tracks_raw", "t_noid", "payload has no id"),
                   ("tracks_raw", "t_nojson", "payload is not valid JSON"),
                   ("tracks_raw", "t_text", "field track_number is not an integer")]
    assert counts["_quarantine"] == 5


def test_quality_checks_cover_the_sources(spark, lake) -> None:
    settings, _, _ = lake
    names = ("silver_feature_music", "silver_artists_genres", "warehouse_track_dashboard", "tracks_data",
             "silver_artists", "silver_album", "gold_track_metadata")
    t = {name: read_table(spark, settings, TABLES[name]) for name in names}

    def declared(tables) -> dict[tuple[str, str], quality.CheckResult]:
        checks = quality.declared_checks(tables, [TABLES[n] for n in names], timedelta(days=36500))
        return {(r.name, r.table): r for r in quality.run_concurrently(checks)}

    results = declared(t)
    assert {table: r.passed for (name, table), r in results.items() if name == "allowed_values"} == {
        "silver_feature_music.features_source": True, "silver_artists_genres.genre_source": True,
        "warehouse_track_dashboard.features_source": True}
    assert results["reference", "tracks_data.artist_id"].passed
    assert all(r.passed for r in results.values()), [r.line() for r in results.values() if not r.passed]
    planted = t["silver_feature_music"].limit(1).withColumn("features_source", t["silver_feature_music"]["track_id"])
    bad = declared({**t, "silver_feature_music": t["silver_feature_music"].unionByName(planted)})
    failed = {key: r for key, r in bad.items() if not r.passed}
    assert set(failed) == {("allowed_values", "silver_feature_music.features_source"),
                           ("primary_key", "silver_feature_music")}
    assert failed["allowed_values", "silver_feature_music.features_source"].observed == \
        "1 rows outside spotify, reccobeats, file"


def test_duckdb_reference_builds_the_same_tables(lake, tmp_path) -> None:
    from bench import duckdb_reference

    _, root, _ = lake
    duck = duckdb_reference.build(root / "bronze_layer", tmp_path / "duck")
    names = [n for n in duck["rows"] if n in TABLES or n == "_quarantine"]
    result = duckdb_reference.compare(root, tmp_path / "duck", [spec_of(n) for n in names])
    assert {"silver_feature_music", "silver_artists_genres", "warehouse_track_dashboard", "_quarantine"} <= set(result)
    assert {name: r for name, r in result.items() if not r["identical"]} == {}
