"""Warehouse -> `warehouse_track_similar` (top k per track) and `warehouse_track_clusters` (KMeans + PCA).

Similar tracks follow the rule of the `recommend` command (:mod:`spark_jobs.similarity`: the 30
nearest tracks by audio features, not the track itself nor its duplicates, ranked by distance
blended with shared genres), found with a FAISS HNSW index instead of comparing every pair:

- one Arrow pass (``mapInArrow``, no pandas) turns every track into numbers: its features and the
  codes the rule compares (ISRC, duplicate key, genres: 64-bit hashes); the driver collects them
  with its track id, about 160 bytes a track (1M tracks: 160 MB), sorts them by track id (a
  track's row is its place in that order, the rule's tie-break) and builds the index (1M x 12
  float32 = 48 MB of vectors + graph links, about 330 MB at M=32). This collect is what the index
  needs and nothing else: an HNSW graph is built in one place, and it is the data the searches read;
- index, codes and ids are broadcast once; each task deserializes them once per Python worker and
  searches a range of rows (``spark.range``: no shuffle, no join), ``INDEX_CANDIDATES`` nearest
  (wider for seeds with many duplicates), re-ranked with :func:`spark_jobs.similarity.rerank`, and
  writes track ids itself.

The index is approximate: `make bench` measures recall@10 against the exact rule (>= 0.99 is the
bar). It is built single-threaded, so the same input gives the same graph, the same candidates
and the same table.

The display KMeans and the 2-D PCA are fitted in numpy on the driver, on a deterministic hash
sample of at most ``FIT_SAMPLE`` tracks (seeded), and applied to every track as Spark column
expressions (nearest center, projection): no Python worker touches the clusters table.
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
import pyarrow.compute as pc
from pyspark.broadcast import Broadcast
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.schemas import Persist
from spark_jobs.similarity import (
    CANDIDATES_PER_K,
    CODE_COLUMNS,
    FEATURES,
    Catalog,
    Neighbours,
    excluded,
    rerank,
    track_codes,
)

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
SEARCH_ROWS_PER_TASK = 25_000  # seeds per search task (tasks reuse their worker's index: more tasks, even load)
_PAIR_SCHEMA = T.StructType([
    T.StructField("track_id", T.StringType()), T.StructField("rank", T.IntegerType()),
    T.StructField("similar_track_id", T.StringType()), T.StructField("distance", T.DoubleType()),
    T.StructField("genre_overlap", T.DoubleType()), T.StructField("score", T.DoubleType()),
])
_CODES_SCHEMA = T.StructType([
    T.StructField("track_id", T.StringType()), *[T.StructField(f, T.DoubleType()) for f in FEATURES],
    T.StructField("isrc_code", T.LongType()), T.StructField("has_isrc", T.BooleanType()),
    T.StructField("dup_key_code", T.LongType()), T.StructField("genre_codes", T.ArrayType(T.LongType())),
])


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


def _sql_sum(terms: list[str]) -> str:
    return "(" + " + ".join(terms) + ")"


def assign(vectors: DataFrame, space: Space) -> DataFrame:
    """Add cluster_id (nearest display center; ties: lower id), pca_x and pca_y, as SQL expressions.

    Written as SQL text (one expression each, the fitted numbers inlined) rather than composed
    Column by Column: the latter is hundreds of driver round trips to the JVM for 8 x 12 terms.
    """
    d2 = [_sql_sum([f"POW(`{f}` - ({float(c)!r}), 2)" for f, c in zip(FEATURES, center, strict=True)])
          for center in space.display_centers]
    distances = f"array({', '.join(d2)})"
    pca = [_sql_sum([f"`{f}` * ({float(w)!r})" for f, w in zip(FEATURES, space.components[:, j], strict=True)])
           for j in (0, 1)]
    return vectors.select(*_VECTOR_COLS,
                          F.expr(f"CAST(array_position({distances}, array_min({distances})) - 1 AS INT)")
                          .alias("cluster_id"), F.expr(pca[0]).alias("pca_x"), F.expr(pca[1]).alias("pca_y"))


def warehouse_track_clusters(assigned: DataFrame) -> DataFrame:
    return assigned.select("track_id", "track_name", "artist_name", F.get(F.col("genres"), 0).alias("primary_genre"),
                           "cluster_id", F.round("pca_x", 6).alias("pca_x"), F.round("pca_y", 6).alias("pca_y"))


def _codes_task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        codes = track_codes(batch)
        yield pa.RecordBatch.from_arrays(
            [batch.column("track_id"), *[batch.column(f) for f in FEATURES], *[codes.column(c).combine_chunks()
                                                                               for c in CODE_COLUMNS]],
            names=["track_id", *FEATURES, *CODE_COLUMNS])


def collect_catalog(vectors: DataFrame) -> tuple[Catalog, pa.Array]:
    """The driver's copy of what the index and the rule need, rows in track id order, and the ids.

    Collected as an Arrow stream (``toArrow``): numbers and one id per track (see the module docstring).
    """
    table = vectors.select(*_VECTOR_COLS).mapInArrow(_codes_task, _CODES_SCHEMA).toArrow()
    table = table.take(pc.sort_indices(table, [("track_id", "ascending")]))
    return Catalog.from_arrow(table), table.column("track_id").combine_chunks()


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
    """Index, catalog and ids, deserialized once per Python worker (workers are reused across tasks).

    ``key`` names the broadcast (a Broadcast object carries no public id).
    """
    if key not in _LOADED:
        import faiss

        faiss.omp_set_num_threads(1)  # one task per core already
        blob, catalog, ids = shipped.value
        _LOADED.clear()
        _LOADED[key] = (faiss.deserialize_index(blob), catalog, ids)
    return _LOADED[key]


def _search_tasks(shipped: Broadcast, k: int):
    key = uuid.uuid4().hex  # names this broadcast in the workers' cache

    def fn(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            index, catalog, ids = _loaded(shipped, key)
            seeds = batch.column(0).to_numpy()
            found = search(index, catalog, seeds, k)
            rows, cols = np.nonzero(found.index >= 0)
            yield pa.RecordBatch.from_arrays(
                [ids.take(pa.array(seeds[rows])), pa.array((cols + 1).astype(np.int32)),
                 ids.take(pa.array(found.index[rows, cols])), pa.array(found.distance[rows, cols]),
                 pa.array(found.genre_overlap[rows, cols]), pa.array(found.score[rows, cols])],
                names=_PAIR_SCHEMA.fieldNames())

    return fn


def warehouse_track_similar(vectors: DataFrame, k: int = SIMILAR_K) -> DataFrame:
    """Top k per track by the exact rule over the index's candidates (driver builds, tasks search)."""
    import faiss

    start = time.monotonic()
    catalog, ids = collect_catalog(vectors)
    collected = time.monotonic()
    index = build_index(catalog.vectors)
    built = time.monotonic()
    spark = vectors.sparkSession
    shipped = spark.sparkContext.broadcast((faiss.serialize_index(index), catalog, ids))
    del index
    log.info("similar: %d tracks collected in %.1fs, index built in %.1fs, broadcast in %.1fs", len(catalog),
             collected - start, built - collected, time.monotonic() - built)
    cores = spark.sparkContext.defaultParallelism
    tasks = max(1, min(len(catalog), max(cores, min(len(catalog) // SEARCH_ROWS_PER_TASK + 1, 4 * cores))))
    pairs = spark.range(0, len(catalog), 1, tasks).mapInArrow(_search_tasks(shipped, k), _PAIR_SCHEMA)
    return pairs.select("track_id", "rank", "similar_track_id", F.round("distance", 6).alias("distance"),
                        F.round("genre_overlap", 6).alias("genre_overlap"), F.round("score", 6).alias("score"))


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
            "warehouse_track_similar": warehouse_track_similar(vectors, k)}
