"""Warehouse -> `warehouse_track_similar` (top k per track) and `warehouse_track_clusters` (KMeans + PCA).

No cross join of the catalog: a KMeans with about ``BLOCK_SIZE`` tracks per cluster partitions the
feature space into blocks; every track is compared with the members of its own block and of the
next-nearest block (two probes), in numpy, one block per task (``applyInPandas``), with the
scoring rule the `recommend` command uses (:mod:`analytics.similarity`). Cost grows with
n x 2 x BLOCK_SIZE instead of n^2; `make bench` measures the recall this costs.

The models (display KMeans, block KMeans, 2-D PCA) are fitted in numpy on the driver, on a
deterministic hash sample of at most ``FIT_SAMPLE`` tracks (50k x 12 floats: milliseconds, where
Spark ML's iterative jobs cost seconds each on a small machine), and applied to every track in the
executors; seeded, so a rerun on the same input writes the same tables.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from analytics.similarity import FEATURES, Tracks, top_k
from spark_jobs.schemas import Persist

SIMILAR_K = 10          # neighbours kept per track
DISPLAY_CLUSTERS = 8    # clusters shown to people (dashboard, BI)
BLOCK_SIZE = 1000       # tracks per neighbour-search block (KMeans cluster)
MAX_BLOCKS = 2048
FIT_SAMPLE = 50_000     # tracks the models are fitted on
SEED = 42

_VECTOR_COLS = ("track_id", "track_name", "artist_name", "isrc", "genres", *FEATURES)
_PAIR_SCHEMA = T.StructType([
    T.StructField("track_id", T.StringType()), T.StructField("similar_track_id", T.StringType()),
    T.StructField("distance", T.DoubleType()), T.StructField("genre_overlap", T.DoubleType()),
    T.StructField("score", T.DoubleType()),
])


@dataclass(frozen=True)
class Space:
    """The fitted models as plain arrays (small; shipped to the tasks in their closures)."""

    display_centers: np.ndarray   # DISPLAY_CLUSTERS x features
    block_centers: np.ndarray     # blocks x features
    components: np.ndarray        # features x 2 (PCA)


def track_vectors(recommendation: DataFrame, metadata: DataFrame) -> DataFrame:
    """One row per track with features: names, ISRC and genres for duplicates and the genre blend.

    A null z-score (feature missing for that track) becomes 0, the catalog mean.
    """
    meta = metadata.select("track_id", "isrc", "genres")
    return (recommendation.join(meta, on="track_id", how="left")
            .select("track_id", "track_name", "artist_name", "isrc",
                    F.coalesce("genres", F.array().cast("array<string>")).alias("genres"),
                    *[F.coalesce(F.col(c).cast("double"), F.lit(0.0)).alias(c) for c in FEATURES]))


def fit_sample(vectors: DataFrame, n_tracks: int) -> DataFrame:
    """A deterministic (hash of track_id) sample of at most about FIT_SAMPLE tracks, in a fixed order."""
    modulus = max(1, math.ceil(n_tracks / FIT_SAMPLE))
    sample = vectors.where(F.pmod(F.xxhash64("track_id"), F.lit(modulus)) == 0) if modulus > 1 else vectors
    return sample.select("track_id", *FEATURES).orderBy("track_id")


def n_blocks(n_tracks: int) -> int:
    return max(1, min(MAX_BLOCKS, round(n_tracks / BLOCK_SIZE)))


def kmeans(x: np.ndarray, k: int, seed: int = SEED, iterations: int = 25) -> np.ndarray:
    """Lloyd's k-means with k-means++ seeding (seeded RNG: same input, same centers); k capped by distinct points."""
    distinct = np.unique(x, axis=0)
    k = max(1, min(k, len(distinct)))
    rng = np.random.default_rng(seed)
    centers = [distinct[rng.integers(len(distinct))]]
    d2 = ((distinct - centers[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        centers.append(distinct[rng.choice(len(distinct), p=d2 / d2.sum())] if d2.sum() > 0 else distinct[0])
        d2 = np.minimum(d2, ((distinct - centers[-1]) ** 2).sum(axis=1))
    c = np.array(centers)
    for _ in range(iterations):
        label = _nearest_two(x, c)[0]
        counts = np.bincount(label, minlength=k)
        sums = np.zeros_like(c)
        np.add.at(sums, label, x)
        moved = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], c)
        if np.allclose(moved, c):
            break
        c = moved
    return c


def pca_components(x: np.ndarray) -> np.ndarray:
    """The first two principal axes (features x 2), signs fixed so the largest loading is positive."""
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    comps = np.zeros((x.shape[1], 2))
    comps[:, :min(2, vt.shape[0])] = vt[:2].T
    signs = np.sign(comps[np.abs(comps).argmax(axis=0), [0, 1]])
    return comps * np.where(signs == 0, 1.0, signs)


def fit_space(sample: pd.DataFrame, n_tracks: int) -> Space:
    """Fit the display KMeans, the block KMeans and the PCA on the sample (driver-side numpy: small)."""
    x = sample[list(FEATURES)].to_numpy(dtype=float)
    return Space(kmeans(x, DISPLAY_CLUSTERS), kmeans(x, n_blocks(n_tracks), iterations=10), pca_components(x))


def _nearest_two(x: np.ndarray, centers: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest and the second-nearest center per row (-1 when there is one center)."""
    first, second = np.empty(len(x), dtype=np.int64), np.full(len(x), -1, dtype=np.int64)
    c_sq = (centers ** 2).sum(axis=1)
    for lo in range(0, len(x), chunk):
        d = c_sq[None, :] - 2.0 * x[lo:lo + chunk] @ centers.T  # + |x|^2, the same for every center
        if centers.shape[0] > 1:
            two = np.argpartition(d, 1, axis=1)[:, :2]
            swap = np.take_along_axis(d, two[:, :1], axis=1) > np.take_along_axis(d, two[:, 1:], axis=1)
            two = np.where(swap, two[:, ::-1], two)
            first[lo:lo + chunk], second[lo:lo + chunk] = two[:, 0], two[:, 1]
        else:
            first[lo:lo + chunk] = 0
    return first, second


def assign(vectors: DataFrame, space: Space) -> DataFrame:
    """Add cluster_id, pca_x, pca_y and the two nearest blocks (block2 = -1 when there is one block)."""
    schema = T.StructType([*vectors.select(*_VECTOR_COLS).schema.fields,
                           T.StructField("cluster_id", T.IntegerType()), T.StructField("pca_x", T.DoubleType()),
                           T.StructField("pca_y", T.DoubleType()), T.StructField("block1", T.IntegerType()),
                           T.StructField("block2", T.IntegerType())])

    def fn(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            x = pdf[list(FEATURES)].to_numpy(dtype=float)
            cluster, _ = _nearest_two(x, space.display_centers)
            b1, b2 = _nearest_two(x, space.block_centers)
            xy = x @ space.components
            yield pdf.assign(cluster_id=cluster.astype("int32"), pca_x=xy[:, 0], pca_y=xy[:, 1],
                             block1=b1.astype("int32"), block2=b2.astype("int32"))

    return vectors.select(*_VECTOR_COLS).mapInPandas(fn, schema)


def warehouse_track_clusters(assigned: DataFrame) -> DataFrame:
    return assigned.select("track_id", "track_name", "artist_name", F.get(F.col("genres"), 0).alias("primary_genre"),
                           "cluster_id", F.round("pca_x", 6).alias("pca_x"), F.round("pca_y", 6).alias("pca_y"))


def _block_neighbours(k: int):
    def fn(pdf: pd.DataFrame) -> pd.DataFrame:
        pdf = pdf.sort_values("track_id", kind="stable").reset_index(drop=True)
        members = pdf[pdf["member"]].reset_index(drop=True)
        found = top_k(Tracks.from_frame(pdf), Tracks.from_frame(members), k)
        rows, cols = np.nonzero(found.index >= 0)
        return pd.DataFrame({
            "track_id": pdf["track_id"].to_numpy()[rows],
            "similar_track_id": members["track_id"].to_numpy()[found.index[rows, cols]],
            "distance": found.distance[rows, cols], "genre_overlap": found.genre_overlap[rows, cols],
            "score": found.score[rows, cols]})

    return fn


def warehouse_track_similar(assigned: DataFrame, k: int = SIMILAR_K) -> DataFrame:
    """Top k per track: best of its own block's and its second block's candidates (two probes)."""
    probes = assigned.select(
        *_VECTOR_COLS,
        F.explode(F.filter(F.array(F.struct(F.col("block1").alias("block"), F.lit(True).alias("member")),
                                   F.struct(F.col("block2").alias("block"), F.lit(False).alias("member"))),
                           lambda p: p["block"] >= 0)).alias("probe"))
    probes = probes.select(*_VECTOR_COLS, F.col("probe.block").alias("block"), F.col("probe.member").alias("member"))
    pairs = probes.groupBy("block").applyInPandas(_block_neighbours(k), _PAIR_SCHEMA)
    best = Window.partitionBy("track_id").orderBy("score", "similar_track_id")
    return (pairs.withColumn("rank", F.row_number().over(best)).where(F.col("rank") <= k)
            .select("track_id", F.col("rank").cast("int").alias("rank"), "similar_track_id",
                    F.round("distance", 6).alias("distance"), F.round("genre_overlap", 6).alias("genre_overlap"),
                    F.round("score", 6).alias("score")))


def build_similar(tables: Mapping[str, DataFrame], persist: Persist = lambda df: df) -> dict[str, DataFrame]:
    """The step of ``spark_jobs.steps``: both tables from the recommendation vectors and the metadata."""
    return build(tables["warehouse_track_recommendation"], tables["gold_track_metadata"], persist=persist)


def build(recommendation: DataFrame, metadata: DataFrame, k: int = SIMILAR_K,
          persist: Persist = lambda df: df.cache()) -> dict[str, DataFrame]:
    """Both tables; empty when no track has features."""
    vectors = persist(track_vectors(recommendation, metadata))
    n = vectors.count()
    if n == 0:
        empty = vectors.sparkSession.createDataFrame([], vectors.schema)
        assigned = empty.select(*_VECTOR_COLS, *[F.lit(None).cast(t).alias(c) for c, t in (
            ("cluster_id", "int"), ("pca_x", "double"), ("pca_y", "double"))])
        return {"warehouse_track_clusters": warehouse_track_clusters(assigned),
                "warehouse_track_similar": empty.select(
                    "track_id", F.lit(0).alias("rank"), F.col("track_id").alias("similar_track_id"),
                    *[F.lit(0.0).alias(c) for c in ("distance", "genre_overlap", "score")])}
    space = fit_space(fit_sample(vectors, n).toPandas(), n)
    assigned = persist(assign(vectors, space))
    return {"warehouse_track_clusters": warehouse_track_clusters(assigned),
            "warehouse_track_similar": warehouse_track_similar(assigned, k)}
