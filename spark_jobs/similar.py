"""Warehouse -> `warehouse_track_similar` (top k per track) and `warehouse_track_clusters` (KMeans + PCA).

Similar tracks follow the rule of the `recommend` command (:mod:`analytics.similarity`: the 30
nearest tracks by audio features, not the track itself nor its duplicates, ranked by distance
blended with shared genres), found with a FAISS HNSW index instead of comparing every pair:

- the driver collects what the index needs and nothing else: per track its row (track id
  order), its features and the codes the rule compares (ISRC, duplicate key, genres: 64-bit
  hashes), about 130 bytes a track (1M tracks: 130 MB), and builds the index (1M x 12 float32 =
  48 MB of vectors + graph links, about 300 MB at M=32);
- index and codes are broadcast; each task searches its own seeds (``INDEX_CANDIDATES`` nearest,
  wider for seeds with many duplicates) and re-ranks them with :func:`analytics.similarity.rerank`;
- one join turns candidate rows back into track ids.

The index is approximate: `make bench` measures recall@10 against the exact rule (>= 0.99 is the
bar). It is built single-threaded, so the same input gives the same graph, the same candidates
and the same table.

The display KMeans and the 2-D PCA are fitted in numpy on the driver, on a deterministic hash
sample of at most ``FIT_SAMPLE`` tracks, and applied to every track in the executors; seeded.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.broadcast import Broadcast
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from analytics.similarity import (
    CANDIDATES_PER_K,
    FEATURES,
    Catalog,
    Neighbours,
    excluded,
    rerank,
    track_codes,
)
from spark_jobs.schemas import Persist

log = logging.getLogger(__name__)

SIMILAR_K = 10          # neighbours kept per track
DISPLAY_CLUSTERS = 8    # clusters shown to people (dashboard, BI)
HNSW_M = 32             # graph links per node (FAISS HNSW)
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 96     # search breadth: recall against the exact rule (bench) vs time
INDEX_CANDIDATES = CANDIDATES_PER_K * SIMILAR_K + 10  # per seed: the rule's 30 + room for the seed and duplicates
FIT_SAMPLE = 50_000     # tracks the models are fitted on
SEED = 42

_VECTOR_COLS = ("track_id", "track_name", "artist_name", "isrc", "genres", *FEATURES)
_PAIR_SCHEMA = T.StructType([
    T.StructField("track_id", T.StringType()), T.StructField("rank", T.IntegerType()),
    T.StructField("similar_row", T.IntegerType()), T.StructField("distance", T.DoubleType()),
    T.StructField("genre_overlap", T.DoubleType()), T.StructField("score", T.DoubleType()),
])
_CODE_FIELDS = [T.StructField("row", T.IntegerType()), *[T.StructField(f, T.DoubleType()) for f in FEATURES],
                T.StructField("isrc_code", T.LongType()), T.StructField("has_isrc", T.BooleanType()),
                T.StructField("dup_key_code", T.LongType()), T.StructField("genre_codes", T.ArrayType(T.LongType()))]


@dataclass(frozen=True)
class Space:
    """The fitted models as plain arrays (small; shipped to the tasks in their closures)."""

    display_centers: np.ndarray   # DISPLAY_CLUSTERS x features
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


def fit_space(sample: pd.DataFrame) -> Space:
    """Fit the display KMeans and the PCA on the sample (driver-side numpy: small)."""
    x = sample[list(FEATURES)].to_numpy(dtype=float)
    return Space(kmeans(x, DISPLAY_CLUSTERS), pca_components(x))


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
    """Add cluster_id, pca_x and pca_y."""
    schema = T.StructType([*vectors.select(*_VECTOR_COLS).schema.fields,
                           T.StructField("cluster_id", T.IntegerType()), T.StructField("pca_x", T.DoubleType()),
                           T.StructField("pca_y", T.DoubleType())])

    def fn(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            x = pdf[list(FEATURES)].to_numpy(dtype=float)
            cluster, _ = _nearest_two(x, space.display_centers)
            xy = x @ space.components
            yield pdf.assign(cluster_id=cluster.astype("int32"), pca_x=xy[:, 0], pca_y=xy[:, 1])

    return vectors.select(*_VECTOR_COLS).mapInPandas(fn, schema)


def warehouse_track_clusters(assigned: DataFrame) -> DataFrame:
    return assigned.select("track_id", "track_name", "artist_name", F.get(F.col("genres"), 0).alias("primary_genre"),
                           "cluster_id", F.round("pca_x", 6).alias("pca_x"), F.round("pca_y", 6).alias("pca_y"))


def number_rows(vectors: DataFrame, persist: Persist) -> DataFrame:
    """Add ``row``: the track's place in track id order (0..n-1), without moving every row to one task.

    Sorted partitions are counted (one small collect) and each row's number is its partition's
    offset plus its place in the partition.
    """
    ordered = persist(vectors.select(*_VECTOR_COLS).orderBy("track_id")
                      .withColumn("_part", F.spark_partition_id()).withColumn("_id", F.monotonically_increasing_id()))
    sizes = dict(ordered.groupBy("_part").count().collect())
    offsets, total = [], 0
    for part in range(max(sizes, default=-1) + 1):
        offsets.append(total)
        total += sizes.get(part, 0)
    start = F.element_at(F.array(*[F.lit(o).cast("long") for o in offsets]), F.col("_part") + 1)
    row = start + F.col("_id") - F.shiftleft(F.col("_part").cast("long"), 33)  # _id: partition << 33 | place
    return ordered.withColumn("row", row.cast("int")).drop("_part", "_id")


def collect_catalog(numbered: DataFrame) -> Catalog:
    """The driver's copy of what the index and the rule need (numbers only; see the module docstring)."""
    schema = T.StructType(_CODE_FIELDS)

    def fn(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            codes = track_codes(pdf)
            yield pd.concat([pdf[["row", *FEATURES]].reset_index(drop=True), codes], axis=1)

    table = numbered.mapInPandas(fn, schema).toArrow()
    table = table.take(pa.array(np.argsort(table.column("row").to_numpy(), kind="stable")))
    return Catalog.from_arrow(table)


def build_index(vectors: np.ndarray):
    """A FAISS HNSW index of the vectors (float32), built on one thread so the graph is reproducible."""
    import faiss

    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = HNSW_EF_SEARCH
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    finally:
        faiss.omp_set_num_threads(threads)
    return index


def search(index, catalog: Catalog, rows: np.ndarray, k: int, width: int = INDEX_CANDIDATES) -> Neighbours:
    """The rule's top k for seed rows, from the index's nearest ``width`` (wider where duplicates ate the room)."""
    n, need = len(catalog), CANDIDATES_PER_K * k
    width = min(width, n)
    queries = np.ascontiguousarray(catalog.vectors[rows], dtype=np.float32)
    _, near = index.search(queries, width)
    found = rerank(catalog, rows, near, k)
    kept = (~excluded(catalog, rows, near)).sum(axis=1)
    short = np.flatnonzero(kept < min(need, n - 1))
    if len(short) and width < n:  # the seed's duplicates filled its list: look further for those seeds
        again = search(index, catalog, rows[short], k, width * 4)
        for field in ("index", "distance", "genre_overlap", "score"):
            getattr(found, field)[short] = getattr(again, field)
    return found


_LOADED: dict[str, tuple] = {}


def _loaded(shipped: Broadcast, key: str) -> tuple:
    """Index and catalog, deserialized once per Python worker (workers are reused across tasks).

    ``key`` names the broadcast (a Broadcast object carries no public id).
    """
    if key not in _LOADED:
        import faiss

        faiss.omp_set_num_threads(1)  # one task per core already
        blob, catalog = shipped.value
        _LOADED.clear()
        _LOADED[key] = (faiss.deserialize_index(blob), catalog)
    return _LOADED[key]


def _search_tasks(shipped: Broadcast, k: int):
    key = uuid.uuid4().hex  # names this broadcast in the workers' cache

    def fn(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        index, catalog = _loaded(shipped, key)
        for pdf in batches:
            found = search(index, catalog, pdf["row"].to_numpy(dtype=np.int64), k)
            rows, cols = np.nonzero(found.index >= 0)
            yield pd.DataFrame({
                "track_id": pdf["track_id"].to_numpy()[rows], "rank": (cols + 1).astype("int32"),
                "similar_row": found.index[rows, cols].astype("int32"), "distance": found.distance[rows, cols],
                "genre_overlap": found.genre_overlap[rows, cols], "score": found.score[rows, cols]})

    return fn


def warehouse_track_similar(numbered: DataFrame, k: int = SIMILAR_K) -> DataFrame:
    """Top k per track by the exact rule over the index's candidates (driver builds, tasks search)."""
    import faiss

    start = time.monotonic()
    catalog = collect_catalog(numbered)
    collected = time.monotonic()
    index = build_index(catalog.vectors)
    built = time.monotonic()
    shipped = numbered.sparkSession.sparkContext.broadcast((faiss.serialize_index(index), catalog))
    del index
    log.info("similar: %d tracks collected in %.1fs, index built in %.1fs, broadcast in %.1fs", len(catalog),
             collected - start, built - collected, time.monotonic() - built)
    pairs = numbered.select("row", "track_id").mapInPandas(_search_tasks(shipped, k), _PAIR_SCHEMA)
    ids = numbered.select(F.col("row").alias("similar_row"), F.col("track_id").alias("similar_track_id"))
    return (pairs.join(ids, on="similar_row")
            .select("track_id", "rank", "similar_track_id",
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
    space = fit_space(fit_sample(vectors, n).toPandas())
    return {"warehouse_track_clusters": warehouse_track_clusters(assign(vectors, space)),
            "warehouse_track_similar": warehouse_track_similar(number_rows(vectors, persist), k)}
