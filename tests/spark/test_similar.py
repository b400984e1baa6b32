"""The similar-tracks/clusters job: hand-worked neighbours, agreement with `recommend`'s exact rule, reruns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import Row

from analytics.recommend import recommend
from bench.similar_bench import synthetic_warehouse
from spark_jobs import similar
from spark_jobs.schemas import WAREHOUSE_TRACK_RECOMMENDATION
from spark_jobs.similarity import Catalog, Tracks, duplicate_key, top_k
from spark_jobs.table_io import conform

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


def catalog_with_duplicates(n: int = 3000) -> pd.DataFrame:
    """The bench's synthetic warehouse with re-releases: shared ISRCs, same name/artist in other case, and a
    60-track group of one "song" (more duplicates than the index's room per seed)."""
    f = synthetic_warehouse(n, seed=3)
    for i in range(0, n - 1, 40):
        f.loc[i, "isrc"] = f.loc[i + 1, "isrc"]
    for i in range(5, n - 1, 55):
        f.loc[i, ["track_name", "artist_name"]] = [f.loc[i + 1, "track_name"].upper(), f.loc[i + 1, "artist_name"]]
    group = f.index[(f.index >= 1000) & (f.index < 1060)]
    f.loc[group, ["track_name", "artist_name"]] = ["Intro", "Various"]
    f.loc[group, list(FEATURES)] = f.loc[group, list(FEATURES)].to_numpy() * 0.05  # bunched: each other's nearest
    return f


def test_index_search_agrees_with_the_exact_rule() -> None:
    """Pure: FAISS candidates re-ranked == top_k against the whole catalog (recall and full rows)."""
    f = catalog_with_duplicates()
    catalog = Catalog.from_frame(f)
    found = similar.search(similar.build_index(catalog.vectors), catalog, np.arange(len(f)), 10)
    exact = top_k(Tracks.from_frame(f), Tracks.from_frame(f), 10)
    recall = np.mean([len(set(found.index[i]) & set(exact.index[i])) / 10 for i in range(len(f))])
    assert recall >= 0.99
    assert np.mean((found.index == exact.index).all(axis=1)) >= 0.98  # same order too
    # the bunched group: every member's neighbours are outside it (the search looked past its 59 twins)
    for i in range(1000, 1060):
        assert (found.index[i] >= 0).all() and not ((found.index[i] >= 1000) & (found.index[i] < 1060)).any()
        np.testing.assert_array_equal(found.index[i], exact.index[i])


@pytest.fixture(scope="module")
def synthetic_run(spark):
    f = catalog_with_duplicates()
    tracks = [(r.track_id, r.track_name, r.artist_name, r.isrc, list(r.genres),
               {c: getattr(r, c) for c in FEATURES}) for r in f.itertuples()]
    rec, meta = frames(spark, tracks)
    first = similar.build(rec, meta)["warehouse_track_similar"].toPandas()
    again = similar.build(rec, meta)["warehouse_track_similar"].toPandas()
    return f, first, again


def test_table_matches_recommend_with_exclusions_and_is_deterministic(synthetic_run) -> None:
    f, table, again = synthetic_run
    order = ["track_id", "rank"]
    pd.testing.assert_frame_equal(table.sort_values(order).reset_index(drop=True),
                                  again.sort_values(order).reset_index(drop=True))
    assert len(table) == len(f) * 10 and not table.duplicated(order).any()
    by_id = f.set_index("track_id")
    pairs = table.join(by_id[["isrc", "track_name", "artist_name"]], on="track_id").join(
        by_id[["isrc", "track_name", "artist_name"]], on="similar_track_id", rsuffix="_similar")
    assert not (pairs["track_id"] == pairs["similar_track_id"]).any()
    assert not (pairs["isrc"] == pairs["isrc_similar"]).any()
    keys = [duplicate_key(t, a) for t, a in zip(pairs["track_name"], pairs["artist_name"], strict=True)]
    keys_similar = [duplicate_key(t, a) for t, a in zip(pairs["track_name_similar"], pairs["artist_name_similar"],
                                                         strict=True)]
    assert not any(a == b for a, b in zip(keys, keys_similar, strict=True))
    # the `recommend` command on sampled seeds (incl. a duplicated and a bunched one) gives the table's rows
    catalog = f.assign(has_vector=True)
    seeds = sorted({*np.random.default_rng(5).choice(len(f), 150, replace=False).tolist(), 0, 5, 1010})
    listed = table.sort_values(order).groupby("track_id")
    hits = total = 0
    for row in seeds:
        rec = recommend(catalog, row, 10).neighbours
        got = listed.get_group(f["track_id"].iat[row])
        hits += len({n["track_id"] for n in rec} & set(got["similar_track_id"]))
        total += len(rec)
        if [n["track_id"] for n in rec] == list(got["similar_track_id"]):
            np.testing.assert_allclose(got["score"], [n["score"] for n in rec], atol=1e-4)
    assert hits / total >= 0.99


def test_clusters_and_pca_separate_far_apart_groups(spark) -> None:
    tracks = [(f"g{g}_{i:02d}", f"T{g}{i}", f"A{g}{i}", None, [f"genre{g}"],
               {"danceability": 20.0 * g + 0.01 * i, "tempo": 0.02 * i}) for g in range(3) for i in range(20)]
    rec, meta = frames(spark, tracks)
    out = similar.build(rec, meta, k=5)
    rows = out["warehouse_track_similar"].collect()
    assert len(rows) == 60 * 5 and all(r.track_id[:2] == r.similar_track_id[:2] for r in rows)
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
