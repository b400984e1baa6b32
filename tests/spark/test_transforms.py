"""Silver/gold/warehouse transforms on hand-written payloads; expectations written by hand."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from spark_jobs import gold, history, silver, warehouse
from spark_jobs.schemas import BRONZE_SCHEMA, FEATURE_COLUMNS
from tests.spark.payloads import (
    A1,
    A2,
    A3,
    AL1,
    AL2,
    T1,
    T2,
    T3,
    T4,
    album,
    artist,
    features,
    full_track,
    simple_artist,
    simple_track,
)

OLD, NEW = "2026-01-01T00:00:00.000000Z", "2026-02-01T00:00:00.000000Z"


def bronze(spark, rows):
    return spark.createDataFrame([(i, at, "r", p) for i, at, p in rows], BRONZE_SCHEMA)


@pytest.fixture(scope="module")
def bronze_frames(spark):
    alpha, beta = simple_artist(A1, "Alpha"), simple_artist(A2, "Beta")
    b = {
        "artists_raw": bronze(spark, [
            (A1, OLD, artist(A1, "Alpha (old name)", ["pop"])),
            (A1, NEW, artist(A1, "Alpha", ["pop", " dance pop "])),
            (A2, NEW, artist(A2, "Beta", ["rock", "pop"], followers=None, popularity=None)),
            (A3, NEW, artist(A3, "Gamma", [])),
            ("bad", NEW, "{not json"),
            ("noid", NEW, json.dumps({"name": "no id"})),
        ]),
        "albums_raw": bronze(spark, [
            (AL1, NEW, album(AL1, "First", "1999-07-14", "day", [
                simple_track(T1, "One", [alpha, beta], 1), simple_track(T2, "Two", [alpha], 2)])),
            (AL2, NEW, album(AL2, "Second", "1987", "year", [simple_track(T3, "Three", [beta], 1)], label=None)),
        ]),
        "tracks_raw": bronze(spark, [
            (T1, NEW, full_track(T1, "One", AL1, [alpha, beta], 1, "ISRC1")),
            (T2, NEW, full_track(T2, "Two", AL1, [alpha], 2, "ISRC2")),
            (T4, NEW, full_track(T4, "Orphan", AL2, [simple_artist(A3, "Gamma")], 9, "ISRC4")),
        ]),  # T3 only exists inside its album (development mode)
        "audio_features_raw": bronze(spark, [
            (T1, OLD, features(T1, 0.1)), (T1, NEW, features(T1, 0.9, energy=0.2)), (T2, NEW, features(T2, 0.5)),
        ]),
        "genres_raw": bronze(spark, [
            (A1, NEW, json.dumps({"id": A1, "genres": ["pop", " dance pop "]})),
            (A2, NEW, json.dumps({"artist_id": A2, "genres": ["rock", "pop", ""]})),
        ]),  # Gamma has no genres_raw document: its (empty) genres come from the artist object
    }
    return b


@pytest.fixture(scope="module")
def tables(bronze_frames):
    """Silver materialized once, as the job writes it: gold and warehouse tests then plan from small
    tables instead of re-planning (and re-running) the whole parse for every assertion (64 s -> 23 s)."""
    built = silver.build_silver(bronze_frames, persist=lambda df: df.persist())
    return {name: df.localCheckpoint() for name, df in built.items()}


def test_quarantine_keeps_bad_payloads_with_reasons(tables) -> None:
    got = {(r.source, r._id, r.reason) for r in tables["_quarantine"].collect()}
    assert got == {("artists_raw", "bad", "payload is not valid JSON"), ("artists_raw", "noid", "payload has no id")}


def test_silver_artists_latest_fetch_wins_and_dev_nulls(spark, tables) -> None:
    t = tables
    got = t["silver_artists"].select("artist_id", "artist_name", "followers", "popularity")
    assertDataFrameEqual(got, [Row(artist_id=A1, artist_name="Alpha", followers=10, popularity=50),
                               Row(artist_id=A2, artist_name="Beta", followers=None, popularity=None),
                               Row(artist_id=A3, artist_name="Gamma", followers=10, popularity=50)])


def test_silver_album_release_dates_by_precision(tables) -> None:
    t = tables
    got = t["silver_album"].select("album_id", "release_date", "release_date_precision", "label", "artist_ids")
    assertDataFrameEqual(got, [
        Row(album_id=AL1, release_date=dt.date(1999, 7, 14), release_date_precision="day", label="Label",
            artist_ids=[A1]),
        Row(album_id=AL2, release_date=dt.date(1987, 1, 1), release_date_precision="year", label=None,
            artist_ids=[A1]),
    ])


def test_release_date_month_and_malformed(spark) -> None:
    from pyspark.sql import functions as F

    df = spark.createDataFrame([("2001-03", "month"), ("0000", "year"), ("garbage", "day")], "d string, p string")
    got = [r[0] for r in df.select(silver.release_date(F.col("d"), F.col("p"))).collect()]
    assert got == [dt.date(2001, 3, 1), None, None]


def test_tracks_data_combines_tracks_and_album_listings(tables) -> None:
    t = tables
    got = t["tracks_data"].select("track_id", "track_name", "album_id", "artist_id", "artist_ids", "isrc",
                                  "popularity")
    assertDataFrameEqual(got, [
        Row(track_id=T1, track_name="One", album_id=AL1, artist_id=A1, artist_ids=[A1, A2], isrc="ISRC1",
            popularity=70),
        Row(track_id=T2, track_name="Two", album_id=AL1, artist_id=A1, artist_ids=[A1], isrc="ISRC2", popularity=70),
        Row(track_id=T3, track_name="Three", album_id=AL2, artist_id=A2, artist_ids=[A2], isrc=None,
            popularity=None),
        Row(track_id=T4, track_name="Orphan", album_id=AL2, artist_id=A3, artist_ids=[A3], isrc="ISRC4",
            popularity=70),
    ])


def test_features_and_genres(tables) -> None:
    t = tables
    assertDataFrameEqual(t["silver_feature_music"].select("track_id", "danceability", "energy"),
                         [Row(track_id=T1, danceability=0.9, energy=0.2), Row(track_id=T2, danceability=0.5,
                                                                               energy=0.5)])
    assertDataFrameEqual(t["silver_artists_genres"], [
        Row(artist_id=A1, genre="pop"), Row(artist_id=A1, genre="dance pop"),
        Row(artist_id=A2, genre="rock"), Row(artist_id=A2, genre="pop")])
    assertDataFrameEqual(t["silver_track_artists"], [
        Row(track_id=T1, artist_id=A1, artist_position=1), Row(track_id=T1, artist_id=A2, artist_position=2),
        Row(track_id=T2, artist_id=A1, artist_position=1), Row(track_id=T3, artist_id=A2, artist_position=1),
        Row(track_id=T4, artist_id=A3, artist_position=1)])


def test_gold_keeps_every_track_and_unions_genres(tables) -> None:
    t = tables
    meta = gold.gold_track_metadata(t["tracks_data"], t["silver_album"], t["silver_artists"],
                                    t["silver_track_artists"], t["silver_artists_genres"])
    got = meta.select("track_id", "album_name", "artist_name", "release_date", "genres")
    assertDataFrameEqual(got, [
        Row(track_id=T1, album_name="First", artist_name="Alpha", release_date=dt.date(1999, 7, 14),
            genres=["dance pop", "pop", "rock"]),
        Row(track_id=T2, album_name="First", artist_name="Alpha", release_date=dt.date(1999, 7, 14),
            genres=["dance pop", "pop"]),
        Row(track_id=T3, album_name="Second", artist_name="Beta", release_date=dt.date(1987, 1, 1),
            genres=["pop", "rock"]),
        Row(track_id=T4, album_name="Second", artist_name="Gamma", release_date=dt.date(1987, 1, 1), genres=[]),
    ])
    matrix = gold.gold_feature_matrix(meta, t["silver_feature_music"])
    same = {"key": 5, "loudness": -6.0, "mode": 1, "speechiness": 0.05, "acousticness": 0.1,
            "instrumentalness": 0.0, "liveness": 0.1, "valence": 0.4, "tempo": 120.0, "time_signature": 4}
    assertDataFrameEqual(matrix, [  # only tracks with features; T1's latest fetch (0.9, 0.2) wins
        Row(track_id=T1, track_name="One", artist_name="Alpha", danceability=0.9, energy=0.2, **same),
        Row(track_id=T2, track_name="Two", artist_name="Alpha", danceability=0.5, energy=0.5, **same),
    ])


def test_warehouse_dashboard_and_standardization(spark, tables) -> None:
    t = tables
    meta = gold.gold_track_metadata(t["tracks_data"], t["silver_album"], t["silver_artists"],
                                    t["silver_track_artists"], t["silver_artists_genres"])
    dash = warehouse.warehouse_track_dashboard(meta, t["silver_feature_music"])
    got = dash.select("track_id", "release_year", "decade", "duration_min", "primary_genre", "genres_text",
                      "has_features", "danceability")
    assertDataFrameEqual(got, [
        Row(track_id=T1, release_year=1999, decade=1990, duration_min=3.0, primary_genre="dance pop",
            genres_text="dance pop, pop, rock", has_features=True, danceability=0.9),
        Row(track_id=T2, release_year=1999, decade=1990, duration_min=3.0, primary_genre="dance pop",
            genres_text="dance pop, pop", has_features=True, danceability=0.5),
        Row(track_id=T3, release_year=1987, decade=1980, duration_min=3.0, primary_genre="pop",
            genres_text="pop, rock", has_features=False, danceability=None),
        Row(track_id=T4, release_year=1987, decade=1980, duration_min=3.0, primary_genre=None,
            genres_text="", has_features=False, danceability=None),
    ])
    schema = "track_id string, track_name string, artist_name string, " + ", ".join(
        f"{c} {'int' if c in ('key', 'mode', 'time_signature') else 'double'}" for c in FEATURE_COLUMNS)
    base = {c: (1 if c in ("key", "mode", "time_signature") else 1.0) for c in FEATURE_COLUMNS}
    rows = [{**base, "track_id": f"x{i}", "track_name": "n", "artist_name": "a", "danceability": d,
             "energy": 0.5} for i, d in enumerate([0.2, 0.4, 0.9])]
    matrix = spark.createDataFrame([tuple(r[c] for c in ["track_id", "track_name", "artist_name",
                                                         *FEATURE_COLUMNS]) for r in rows], schema)
    # mean 0.5, population std sqrt(((-.3)^2 + (-.1)^2 + .4^2)/3) = sqrt(0.26/3) = 0.294392;
    # every other feature is constant -> 0.0, not a division by zero.
    zeros = {c: 0.0 for c in FEATURE_COLUMNS if c != "danceability"}
    assertDataFrameEqual(warehouse.warehouse_track_recommendation(matrix), [
        Row(track_id="x0", track_name="n", artist_name="a", danceability=-1.019049, **zeros),
        Row(track_id="x1", track_name="n", artist_name="a", danceability=-0.339683, **zeros),
        Row(track_id="x2", track_name="n", artist_name="a", danceability=1.358732, **zeros),
    ], atol=1e-5)


def test_silver_step_parses_each_collection_once_for_latest_and_history(spark, bronze_frames) -> None:
    """The history tables keep every fetch per date, read from the parse silver cached (no second from_json)."""
    cached = []

    def persist(df):
        cached.append(df.persist())
        return cached[-1]

    empty = {c: bronze(spark, []) for c in ("kworb_raw", "unavailable_raw")}
    try:
        out = history.build_silver_layer({**bronze_frames, **empty}, persist)
        got = out["silver_artist_snapshots"].select("artist_id", "snapshot_date", "artist_name")
        assertDataFrameEqual(got, [Row(artist_id=A1, snapshot_date=dt.date(2026, 1, 1), artist_name="Alpha (old name)"),
                                   Row(artist_id=A1, snapshot_date=dt.date(2026, 2, 1), artist_name="Alpha"),
                                   Row(artist_id=A2, snapshot_date=dt.date(2026, 2, 1), artist_name="Beta"),
                                   Row(artist_id=A3, snapshot_date=dt.date(2026, 2, 1), artist_name="Gamma")])
        assert {r.artist_id: r.artist_name for r in out["silver_artists"].collect()}[A1] == "Alpha"
        assert {(r.source, r._id) for r in out["_quarantine"].collect()} == {("artists_raw", "bad"),
                                                                          ("artists_raw", "noid")}
        for name in ("silver_artist_snapshots", "silver_track_snapshots"):
            plan = out[name]._jdf.queryExecution().optimizedPlan().toString()
            assert "InMemoryRelation" in plan and plan.count("from_json") == 2, name  # the strict parse, the wire one where it refused
    finally:
        for df in cached:
            df.unpersist()


def test_track_artists_keep_each_artist_once_at_its_first_position(spark) -> None:
    tracks = spark.createDataFrame([("t1", ["a", "b", "a", None, "c"]), ("t2", []), ("t3", None)],
                                   "track_id string, artist_ids array<string>")
    assertDataFrameEqual(silver.silver_track_artists(tracks), [
        Row(track_id="t1", artist_id="a", artist_position=1), Row(track_id="t1", artist_id="b", artist_position=2),
        Row(track_id="t1", artist_id="c", artist_position=5)])


def test_history_quarantines_a_payload_that_is_not_json_even_when_keyed_by_its_document_id(spark) -> None:
    """kworb_raw is keyed by ``_id``, not by a payload field: a broken payload must still be quarantined
    as not JSON rather than pass as a row with every field null."""
    from pyspark.sql import functions as F

    from spark_jobs import schemas as S

    kworb = bronze(spark, [("k1", NEW, json.dumps({"scrape_date": "2026-11-20", "artist_id": A1, "page": "artists.html",
                                                   "rank": 1, "metrics": {"streams_millions": 12.5}})),
                           ("k2", NEW, "{broken")])
    good, bad = history.parse_payload(kworb, S.KWORB_PAYLOAD, "kworb_raw", key=F.col("_id"))
    assert [r.key for r in good.collect()] == ["k1"]
    assert [(r.source, r._id, r.reason, r.payload) for r in bad.collect()] == [
        ("kworb_raw", "k2", "payload is not valid JSON", "{broken")]
    gone = bronze(spark, [("u1", NEW, json.dumps({"type": "album", "detected_at": NEW}))])
    _, no_id = history.parse_payload(gone, S.UNAVAILABLE_PAYLOAD, "unavailable_raw")
    assert [(r._id, r.reason) for r in no_id.collect()] == [("u1", "payload has no id")]


def test_parse_reads_integral_floats_as_integers_and_names_wrong_fields(spark) -> None:
    from spark_jobs import schemas as S

    rows = bronze(spark, [
        ("ok", NEW, json.dumps({"id": "ok", "duration_ms": 204053.0, "popularity": 85.0, "track_number": "3"})),
        ("frac", NEW, json.dumps({"id": "frac", "duration_ms": 12.5, "popularity": True})),
        ("big", NEW, json.dumps({"id": "big", "track_number": 2.0 ** 40})),  # beyond an int
        ("shape", NEW, json.dumps({"id": "shape", "explicit": "yes", "name": "x"})),
        ("text", NEW, "not json"),
    ])
    parsed = {r._id: r for r in silver.parse_fetches(rows, S.TRACK_PAYLOAD).collect()}
    ok = parsed["ok"]
    assert (ok.key, ok.p.duration_ms, ok.p.popularity, ok.p.track_number, ok._reason) == ("ok", 204053, 85, 3, None)
    assert parsed["frac"]._reason == "field duration_ms is not an integer; field popularity is not an integer"
    assert parsed["big"]._reason == "field track_number is not an integer"
    assert parsed["shape"]._reason == "payload does not match its schema: wrong type in explicit"
    assert parsed["text"]._reason == "payload is not valid JSON"
    assert all(parsed[i].key is None for i in ("frac", "big", "shape", "text"))
