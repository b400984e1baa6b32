"""The similar-tracks/clusters job: hand-worked neighbours, blocking that stays within groups, reruns."""

from __future__ import annotations

import pytest
from pyspark.sql import Row

from spark_jobs import similar
from spark_jobs.schemas import WAREHOUSE_TRACK_RECOMMENDATION
from spark_jobs.session import conform

pytestmark = pytest.mark.spark
FEATURES = similar.FEATURES


def frames(spark, tracks: list[tuple]):
    """tracks: (track_id, name, artist, isrc, genres, {feature: z})."""
    rec = spark.createDataFrame([Row(track_id=t, track_name=n, artist_name=a,
                                     **{f: float(z.get(f, 0.0)) for f in FEATURES}) for t, n, a, _, _, z in tracks])
    meta = spark.createDataFrame([Row(track_id=t, track_name=n, artist_name=a, isrc=i, genres=g)
                                  for t, n, a, i, g, _ in tracks], "track_id string, track_name string, "
                                 "artist_name string, isrc string, genres array<string>")
    return conform(rec, WAREHOUSE_TRACK_RECOMMENDATION), meta


HAND = [
    ("s", "Seed Song", "Ann", "ISRC1", ["pop"], {}),
    ("a", "Alpha", "Bob", "ISRC2", ["rock"], {"danceability": 1.0}),
    ("b", "Beta", "Cy", None, ["pop"], {"danceability": 1.2}),
    ("c", "Gamma", "Dee", None, [], {"energy": 0.5}),
    ("dup", "Seed Song (Live)", "Ann", "ISRC1", ["pop"], {}),
    ("far", "Far Away", "Eve", None, None, {"danceability": 10.0}),
]


def neighbours(df, track_id: str) -> list[str]:
    return [r.similar_track_id for r in df.where(f"track_id = '{track_id}'").orderBy("rank").collect()]


def test_hand_worked_neighbours(spark) -> None:
    rec, meta = frames(spark, HAND)
    out = similar.build(rec, meta, k=3)
    sim = out["warehouse_track_similar"]
    # s: c 0.5, b 1.2 - 0.5 (pop) = 0.7, a 1.0; never itself nor dup (same ISRC)
    assert neighbours(sim, "s") == ["c", "b", "a"]
    # far: nearest are b (8.8), a (9.0), then s/dup/c (10, 10, 10.01): ties by id, dup before s
    assert neighbours(sim, "far") == ["b", "a", "dup"]
    row = sim.where("track_id = 's' AND rank = 2").first()
    assert (row.distance, row.genre_overlap, row.score) == (1.2, 1.0, 0.7)
    assert sim.count() == 6 * 3
    clusters = out["warehouse_track_clusters"]
    assert sorted(r.track_id for r in clusters.collect()) == ["a", "b", "c", "dup", "far", "s"]
    assert {r.track_id: r.primary_genre for r in clusters.collect()}["a"] == "rock"


def test_blocks_keep_neighbours_within_well_separated_groups(spark, monkeypatch) -> None:
    """Three far-apart groups of 20 tracks, blocks of about 20: every neighbour is in the seed's group."""
    monkeypatch.setattr(similar, "BLOCK_SIZE", 20)
    tracks = [(f"g{g}_{i:02d}", f"T{g}{i}", f"A{g}{i}", None, [f"genre{g}"],
               {"danceability": 20.0 * g + 0.01 * i, "tempo": 0.02 * i}) for g in range(3) for i in range(20)]
    rec, meta = frames(spark, tracks)
    out = similar.build(rec, meta, k=5)
    assert similar.n_blocks(60) == 3
    rows = out["warehouse_track_similar"].collect()
    assert len(rows) == 60 * 5
    assert all(r.track_id[:2] == r.similar_track_id[:2] for r in rows)
    # in-group order is by distance along the line: g1_05's nearest are 04/06 (tie by id), then 03/07
    assert neighbours(out["warehouse_track_similar"], "g1_05") == ["g1_04", "g1_06", "g1_03", "g1_07", "g1_02"]
    clusters = out["warehouse_track_clusters"].collect()
    by_group: dict[str, set[int]] = {}
    for r in clusters:
        by_group.setdefault(r.track_id[:2], set()).add(r.cluster_id)
    # no display cluster mixes two far-apart groups
    assert sum(len(c) for c in by_group.values()) == len(set().union(*by_group.values())) >= 3
    xs = {r.track_id: r.pca_x for r in clusters}
    # the first component follows the danceability axis: the groups are ordered along pca_x
    g0, g1, g2 = (sum(xs[f"g{g}_{i:02d}"] for i in range(20)) / 20 for g in range(3))
    assert g0 < g1 < g2 or g0 > g1 > g2


def test_rerun_is_identical_and_empty_input_gives_empty_tables(spark) -> None:
    rec, meta = frames(spark, HAND)
    first = {n: sorted(df.collect()) for n, df in similar.build(rec, meta, k=3).items()}
    again = {n: sorted(df.collect()) for n, df in similar.build(rec, meta, k=3).items()}
    assert first == again
    empty = similar.build(rec.limit(0), meta, k=3)
    assert empty["warehouse_track_similar"].count() == 0 and empty["warehouse_track_clusters"].count() == 0
