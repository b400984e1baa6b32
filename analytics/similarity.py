"""Content-based similarity: one scoring rule shared by the `recommend` command and the Spark job.

Tracks are points in the space of their standardized audio features (the z-scores of
``warehouse_track_recommendation``). For a seed track, the ``CANDIDATES_PER_K * k`` nearest tracks
by Euclidean distance are candidates; they are ranked by ``distance - GENRE_WEIGHT * jaccard(genres)``
(ties: track id), so sharing genres lifts a track that sounds nearly as close. A candidate that is
the seed itself or a duplicate of it (same ISRC, or same name and artist, case-insensitive) is
never returned.

Pure numpy, vectorized over a block of seeds against a block of candidates, so the command
(one seed against the whole catalog: exact) and the Spark job (a cluster's seeds against its
members: approximate) rank with the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

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


def top_k(seeds: Tracks, candidates: Tracks, k: int) -> Neighbours:
    """The k most alike candidates of every seed (exact within ``candidates``)."""
    n, c = len(seeds), len(candidates)
    shape = (n, k)
    result = Neighbours(np.full(shape, -1), np.full(shape, np.inf), np.zeros(shape), np.full(shape, np.inf))
    if n == 0 or c == 0 or k < 1:
        return result
    s_id, c_id = _codes(seeds.ids, candidates.ids)
    s_isrc, c_isrc = _codes(seeds.isrcs, candidates.isrcs)
    s_key, c_key = _codes(seeds.dup_keys, candidates.dup_keys)
    id_rank = np.argsort(np.argsort(candidates.ids.astype(str), kind="stable"), kind="stable")
    c_sq = np.einsum("ij,ij->i", candidates.vectors, candidates.vectors)
    m = min(c, CANDIDATES_PER_K * k)
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        sv = seeds.vectors[lo:hi]
        d2 = np.einsum("ij,ij->i", sv, sv)[:, None] + c_sq[None, :] - 2.0 * sv @ candidates.vectors.T
        dist = np.sqrt(np.maximum(d2, 0.0))
        excluded = ((s_id[lo:hi, None] == c_id[None, :]) | (s_key[lo:hi, None] == c_key[None, :])
                    | ((s_isrc[lo:hi, None] == c_isrc[None, :]) & (s_isrc[lo:hi, None] >= 0)))
        dist[excluded] = np.inf
        near = np.argpartition(dist, m - 1, axis=1)[:, :m] if m < c else np.tile(np.arange(c), (hi - lo, 1))
        near_d = np.take_along_axis(dist, near, axis=1)
        inter, union = _genre_counts(seeds.genres[lo:hi], candidates.genres, near)
        overlap = np.where(inter > 0, inter / np.maximum(union, 1), 0.0)
        score = np.round(near_d - GENRE_WEIGHT * overlap, 9)
        order = np.lexsort((id_rank[near], score), axis=1)[:, :k]
        kk = order.shape[1]
        best = np.take_along_axis(near, order, axis=1)
        best_d = np.take_along_axis(near_d, order, axis=1)
        valid = np.isfinite(best_d)
        result.index[lo:hi, :kk] = np.where(valid, best, -1)
        result.distance[lo:hi, :kk] = best_d
        result.genre_overlap[lo:hi, :kk] = np.where(valid, np.take_along_axis(overlap, order, axis=1), 0.0)
        result.score[lo:hi, :kk] = np.where(valid, np.take_along_axis(score, order, axis=1), np.inf)
    return result
