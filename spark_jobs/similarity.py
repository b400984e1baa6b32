"""Content-based similarity: one scoring rule shared by the `recommend` command and the Spark job.

Tracks are points in the space of their standardized audio features (the z-scores of
``warehouse_track_recommendation``). For a seed track, the ``CANDIDATES_PER_K * k`` nearest tracks
by Euclidean distance are candidates; they are ranked by ``distance - GENRE_WEIGHT * jaccard(genres)``
(ties: track id), so sharing genres lifts a track that sounds nearly as close. A candidate that is
the seed itself or a duplicate of it (same ISRC, or same name and artist, case-insensitive) is
never returned.

"The nearest" is well defined: equal distances at the edge of the candidate set are broken by
track id, so the rule has one answer whatever the order of the input.

Pure numpy. :func:`top_k` compares seeds with a whole block of candidates (the `recommend` command:
one seed against the catalog). :func:`rerank` applies the same rule to short candidate lists found
by a nearest-neighbour index (the Spark job), on a :class:`Catalog` of numbers small enough to
broadcast; given the rule's nearest candidates in its lists, it returns what :func:`top_k` returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FEATURES: tuple[str, ...] = (
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "time_signature",
)
GENRE_WEIGHT = 0.5        # z-units of distance that a full genre match is worth
CANDIDATES_PER_K = 3      # nearest-by-features candidates re-ranked with genres, per neighbour asked
_CHUNK = 512              # seeds per vectorized step (bounds memory: chunk x candidates floats)


@dataclass(frozen=True)
class Tracks:
    """A block of tracks as arrays: what scoring needs and nothing else."""

    ids: np.ndarray          # str
    vectors: np.ndarray      # float, n x len(FEATURES); no nulls
    genres: list             # per track: list of genre strings (possibly empty)
    isrcs: np.ndarray        # str or None
    dup_keys: np.ndarray     # duplicate_key(track_name, artist_name)

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> Tracks:
        """From columns track_id, track_name, artist_name, isrc, genres and the FEATURES."""
        genres = [list(g) if g is not None and not (isinstance(g, float) and np.isnan(g)) else []
                  for g in df["genres"]]
        isrcs = np.array([None if (v is None or v != v or v == "") else v for v in df["isrc"]], dtype=object)
        keys = np.array([duplicate_key(t, a) for t, a in zip(df["track_name"], df["artist_name"], strict=True)],
                        dtype=object)
        return cls(df["track_id"].to_numpy(dtype=object), df[list(FEATURES)].to_numpy(dtype=float),
                   genres, isrcs, keys)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Neighbours:
    """Per seed, up to k candidates (index -1 where fewer exist), best first."""

    index: np.ndarray          # seeds x k, int, into the candidate block
    distance: np.ndarray       # seeds x k
    genre_overlap: np.ndarray  # seeds x k, Jaccard of the genre sets (0 when either has none)
    score: np.ndarray          # seeds x k: distance - GENRE_WEIGHT * genre_overlap (lower = more alike)


def duplicate_key(track_name: str | None, artist_name: str | None) -> str:
    """Same song released twice (single and album): same name and artist, ignoring case and edge spaces."""
    return f"{(track_name or '').strip().casefold()}\x1f{(artist_name or '').strip().casefold()}"


def jaccard(a: Sequence[str] | None, b: Sequence[str] | None) -> float:
    sa, sb = set(a or ()), set(b or ())
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def _codes(*arrays: np.ndarray) -> list[np.ndarray]:
    """Integer codes over the union of the arrays (None -> -1), so equality is an int compare."""
    joined = np.concatenate([np.asarray(a, dtype=object) for a in arrays])
    codes, _ = pd.factorize(pd.Series(joined, dtype=object), use_na_sentinel=True)
    out, start = [], 0
    for a in arrays:
        out.append(codes[start:start + len(a)])
        start += len(a)
    return out


def _multi_hot(genres: list, vocab: dict[str, int]) -> np.ndarray:
    hot = np.zeros((len(genres), max(len(vocab), 1)), dtype=bool)
    for row, names in enumerate(genres):
        for name in names:
            hot[row, vocab[name]] = True
    return hot


def _genre_counts(seed_genres: list, cand_genres: list, near: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|A & B| and |A | B| of each seed's genres with each of its near candidates' (multi-hot, local vocab)."""
    uniq, local = np.unique(near, return_inverse=True)
    local = local.reshape(near.shape)
    cand = [cand_genres[i] for i in uniq]
    vocab = {g: i for i, g in enumerate(sorted({g for gs in (*seed_genres, *cand) for g in gs}))}
    s_hot, c_hot = _multi_hot(seed_genres, vocab), _multi_hot(cand, vocab)
    inter = (s_hot[:, None, :] & c_hot[local]).sum(axis=2)
    union = s_hot.sum(axis=1)[:, None] + c_hot.sum(axis=1)[local] - inter
    return inter, union


def _nearest(dist: np.ndarray, m: int, tie: np.ndarray) -> np.ndarray:
    """Columns of the m smallest finite-or-not distances per row, equal distances by ``tie`` (row-broadcastable).

    argpartition picks among equal distances at the m-th place arbitrarily; the rows where such a
    tie straddles the edge (rare: exact float equality) are re-sorted by (distance, tie).
    """
    c = dist.shape[1]
    if m >= c:
        return np.tile(np.arange(c), (dist.shape[0], 1))
    cols = np.argpartition(dist, m - 1, axis=1)[:, :m]
    edge = np.take_along_axis(dist, cols, axis=1).max(axis=1)
    at_edge = (dist == edge[:, None]).sum(axis=1)
    inside = (np.take_along_axis(dist, cols, axis=1) == edge[:, None]).sum(axis=1)
    ties = np.broadcast_to(tie, dist.shape)
    for row in np.flatnonzero((at_edge > inside) & np.isfinite(edge)):
        cols[row] = np.lexsort((ties[row], dist[row]))[:m]
    return cols


def _rank_into(result: Neighbours, lo: int, near: np.ndarray, near_d: np.ndarray, overlap: np.ndarray,
               tie: np.ndarray, k: int) -> None:
    """Rows lo.. of ``result``: near's candidates ordered by (score, tie), the k best; inf distance = none."""
    score = np.round(near_d - GENRE_WEIGHT * overlap, 9)
    order = np.lexsort((tie, score), axis=1)[:, :k]
    kk, hi = order.shape[1], lo + len(near)
    best = np.take_along_axis(near, order, axis=1)
    best_d = np.take_along_axis(near_d, order, axis=1)
    valid = np.isfinite(best_d)
    result.index[lo:hi, :kk] = np.where(valid, best, -1)
    result.distance[lo:hi, :kk] = best_d
    result.genre_overlap[lo:hi, :kk] = np.where(valid, np.take_along_axis(overlap, order, axis=1), 0.0)
    result.score[lo:hi, :kk] = np.where(valid, np.take_along_axis(score, order, axis=1), np.inf)


def _empty(n: int, k: int) -> Neighbours:
    shape = (n, k)
    return Neighbours(np.full(shape, -1), np.full(shape, np.inf), np.zeros(shape), np.full(shape, np.inf))


def top_k(seeds: Tracks, candidates: Tracks, k: int) -> Neighbours:
    """The k most alike candidates of every seed (exact within ``candidates``)."""
    n, c = len(seeds), len(candidates)
    result = _empty(n, k)
    if n == 0 or c == 0 or k < 1:
        return result
    s_id, c_id = _codes(seeds.ids, candidates.ids)
    s_isrc, c_isrc = _codes(seeds.isrcs, candidates.isrcs)
    s_key, c_key = _codes(seeds.dup_keys, candidates.dup_keys)
    id_rank = np.argsort(np.argsort(candidates.ids.astype(str), kind="stable"), kind="stable")
    c_sq = np.einsum("ij,ij->i", candidates.vectors, candidates.vectors)
    m = CANDIDATES_PER_K * k
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        sv = seeds.vectors[lo:hi]
        d2 = np.einsum("ij,ij->i", sv, sv)[:, None] + c_sq[None, :] - 2.0 * sv @ candidates.vectors.T
        dist = np.sqrt(np.maximum(d2, 0.0))
        excluded = ((s_id[lo:hi, None] == c_id[None, :]) | (s_key[lo:hi, None] == c_key[None, :])
                    | ((s_isrc[lo:hi, None] == c_isrc[None, :]) & (s_isrc[lo:hi, None] >= 0)))
        dist[excluded] = np.inf
        near = _nearest(dist, m, id_rank[None, :])
        near_d = np.take_along_axis(dist, near, axis=1)
        inter, union = _genre_counts(seeds.genres[lo:hi], candidates.genres, near)
        overlap = np.where(inter > 0, inter / np.maximum(union, 1), 0.0)
        _rank_into(result, lo, near, near_d, overlap, id_rank[near], k)
    return result


def _hash(values: Sequence, categorize: bool = False) -> np.ndarray:
    """Stable 64-bit codes of strings (pandas' SipHash with a fixed key: the same in every process).

    ``categorize`` hashes each distinct value once (same codes; faster where values repeat, as genres do).
    """
    return pd.util.hash_array(np.asarray(values, dtype=object), categorize=categorize).view(np.int64)


CODE_COLUMNS: tuple[str, ...] = ("isrc_code", "has_isrc", "dup_key_code", "genre_codes")


def _strings(column: pa.Array | pa.ChunkedArray) -> pd.Series:
    return pd.Series(column.to_pandas(), dtype=object)


def track_codes(table: pa.Table | pa.RecordBatch) -> pa.Table:
    """Per track, the codes :class:`Catalog` holds: isrc_code, has_isrc, dup_key_code, genre_codes (distinct, sorted).

    From Arrow columns isrc, track_name, artist_name, genres (list of strings). Vectorized: one hash
    call per column and the genre lists handled as one flat array with offsets (no per-row Python),
    so it is cheap enough to run over the whole catalog inside Spark tasks.
    """
    n = table.num_rows
    isrc = _strings(table.column("isrc")).fillna("").astype(str)
    has_isrc = (isrc != "").to_numpy()
    keys = (_strings(table.column("track_name")).fillna("").astype(str).str.strip().str.casefold() + "\x1f"
            + _strings(table.column("artist_name")).fillna("").astype(str).str.strip().str.casefold())
    genres = table.column("genres")
    if isinstance(genres, pa.ChunkedArray):
        genres = genres.combine_chunks() if genres.num_chunks else pa.array([], type=genres.type)
    flat = pc.list_flatten(genres)
    owner = pc.list_parent_indices(genres).to_numpy(zero_copy_only=False).astype(np.int64)
    valid = flat.is_valid().to_numpy(zero_copy_only=False)
    pairs = pd.DataFrame({"owner": owner[valid],
                          "code": _hash(flat.filter(flat.is_valid()).to_numpy(zero_copy_only=False), True)})
    pairs = pairs.drop_duplicates().sort_values(["owner", "code"], kind="stable")
    bounds = np.searchsorted(pairs["owner"].to_numpy(), np.arange(n + 1)).astype(np.int32)
    return pa.table({"isrc_code": _hash(np.where(has_isrc, isrc.to_numpy(), "")), "has_isrc": has_isrc,
                     "dup_key_code": _hash(keys.to_numpy()),
                     "genre_codes": pa.ListArray.from_arrays(pa.array(bounds), pa.array(pairs["code"].to_numpy()))})


@dataclass(frozen=True)
class Catalog:
    """Every track as numbers, rows in track id order (so row order is the id tie-break).

    Identity is the row; ISRCs, duplicate keys and genres are 64-bit hashes (a collision between
    two different strings has odds of about n^2 / 2^65: 3e-8 for a million tracks). About 130 bytes
    a track (1M tracks: 130 MB): small enough to broadcast to the tasks of the Spark job.
    """

    vectors: np.ndarray        # n x len(FEATURES), float64 (scored exactly as top_k scores)
    isrc: np.ndarray           # int64 code; meaningful where has_isrc
    has_isrc: np.ndarray       # bool
    dup_key: np.ndarray        # int64 code of duplicate_key(name, artist)
    genre_start: np.ndarray    # n + 1 offsets into genre_code (CSR)
    genre_code: np.ndarray     # int64 codes of each track's distinct genres

    @classmethod
    def from_arrow(cls, table: pa.Table) -> Catalog:
        """From FEATURES and the :func:`track_codes` columns, rows in track id order (no per-row Python)."""
        genres = table.column("genre_codes").combine_chunks()
        offsets = genres.offsets.to_numpy().astype(np.int64)
        return cls(np.column_stack([table.column(f).to_numpy().astype(float) for f in FEATURES]).reshape(-1, len(FEATURES)),
                   table.column("isrc_code").to_numpy(), table.column("has_isrc").to_numpy(zero_copy_only=False),
                   table.column("dup_key_code").to_numpy(), offsets - offsets[0],
                   genres.flatten().to_numpy(zero_copy_only=False).astype(np.int64))

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> Catalog:
        """From the columns Tracks.from_frame reads; rows must already be in track id order."""
        genres = pa.array([list(g) if g is not None and not (isinstance(g, float) and np.isnan(g)) else []
                           for g in df["genres"]], type=pa.list_(pa.string()))
        table = pa.table({"isrc": pa.array(df["isrc"].astype(object), type=pa.string(), from_pandas=True),
                          "track_name": pa.array(df["track_name"].astype(object), type=pa.string(), from_pandas=True),
                          "artist_name": pa.array(df["artist_name"].astype(object), type=pa.string(), from_pandas=True),
                          "genres": genres})
        codes = track_codes(table)
        return cls.from_arrow(pa.table({**{f: df[f].to_numpy(dtype=float) for f in FEATURES},
                                        **{c: codes.column(c) for c in CODE_COLUMNS}}))

    def __len__(self) -> int:
        return len(self.vectors)


def _genre_overlap(catalog: Catalog, seed_rows: np.ndarray, near: np.ndarray) -> np.ndarray:
    """Jaccard of each seed's genre codes with each near candidate's (multi-hot over the block's codes)."""
    rows = np.concatenate([seed_rows, near.ravel()])
    uniq, local = np.unique(rows, return_inverse=True)
    lengths = catalog.genre_start[uniq + 1] - catalog.genre_start[uniq]
    if lengths.sum() == 0:
        return np.zeros(near.shape)
    owner = np.repeat(np.arange(len(uniq)), lengths)
    first = np.cumsum(lengths) - lengths  # where each track's codes start in the gathered list
    spans = np.arange(lengths.sum()) - np.repeat(first - catalog.genre_start[uniq], lengths)
    vocab, code = np.unique(catalog.genre_code[spans], return_inverse=True)
    hot = np.zeros((len(uniq), len(vocab)), dtype=bool)
    hot[owner, code] = True
    s_hot = hot[local[:len(seed_rows)]]
    c_local = local[len(seed_rows):].reshape(near.shape)
    inter = (s_hot[:, None, :] & hot[c_local]).sum(axis=2)
    union = lengths[local[:len(seed_rows)]][:, None] + lengths[c_local] - inter
    return np.where(inter > 0, inter / np.maximum(union, 1), 0.0)


def excluded(catalog: Catalog, seed_rows: np.ndarray, near: np.ndarray) -> np.ndarray:
    """Which candidates (rows; -1 = none) the rule never returns for each seed: none, itself, its duplicates."""
    safe = np.maximum(near, 0)
    return ((near < 0) | (near == seed_rows[:, None])
            | (catalog.dup_key[safe] == catalog.dup_key[seed_rows][:, None])
            | (catalog.has_isrc[safe] & catalog.has_isrc[seed_rows][:, None]
               & (catalog.isrc[safe] == catalog.isrc[seed_rows][:, None])))


def rerank(catalog: Catalog, seed_rows: np.ndarray, near: np.ndarray, k: int) -> Neighbours:
    """The rule of :func:`top_k` for seeds (catalog rows) over their candidate lists (rows; -1 = none).

    Drops the seed and its duplicates, keeps the ``CANDIDATES_PER_K * k`` nearest (ties: track id),
    then ranks them by score. Equal to :func:`top_k` against the whole catalog whenever each list
    holds the seed's nearest non-duplicates, which the caller makes so (enough candidates, a good index).
    """
    n = len(seed_rows)
    result = _empty(n, k)
    if n == 0 or k < 1 or near.shape[1] == 0:
        return result
    m = CANDIDATES_PER_K * k
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        seeds, cand = seed_rows[lo:hi], near[lo:hi]
        safe = np.maximum(cand, 0)
        sv, cv = catalog.vectors[seeds], catalog.vectors[safe]
        d2 = (np.einsum("ij,ij->i", sv, sv)[:, None] + np.einsum("ijk,ijk->ij", cv, cv)
              - 2.0 * np.einsum("ik,ijk->ij", sv, cv))
        dist = np.sqrt(np.maximum(d2, 0.0))
        dist[excluded(catalog, seeds, cand)] = np.inf
        cols = _nearest(dist, m, safe)
        chosen = np.take_along_axis(safe, cols, axis=1)
        chosen_d = np.take_along_axis(dist, cols, axis=1)
        _rank_into(result, lo, chosen, chosen_d, _genre_overlap(catalog, seeds, chosen), chosen, k)
    return result
