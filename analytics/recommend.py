"""Tracks that sound like a seed track, exact over the whole warehouse.

Reads the catalog through the query layer (DuckDB or Trino), resolves the seed from ``--track ID``
or ``--name``, and ranks every other track with :func:`spark_jobs.similarity.top_k` (the same rule
the Spark job uses for ``warehouse_track_similar``, which is approximate where this is exact).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.data import catalog_tracks
from spark_jobs.similarity import FEATURES, Tracks, duplicate_key, top_k
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings

MAX_LISTED = 8


@dataclass(frozen=True)
class Recommendation:
    seed: dict
    neighbours: list[dict]


def _describe(row: pd.Series) -> str:
    return f"{row['track_id']} ({row['track_name']} - {row['artist_name']})"


def resolve_seed(catalog: pd.DataFrame, track_id: str | None = None, name: str | None = None) -> int:
    """Row of the seed; an unknown id or an ambiguous name is one line listing candidates."""
    if track_id is not None:
        hits = np.flatnonzero(catalog["track_id"].to_numpy() == track_id)
        if hits.size:
            return int(hits[0])
        similar = catalog[catalog["track_id"].str.startswith(track_id[:6])] if len(track_id) >= 6 else catalog[:0]
        hint = (f"; ids starting like it: {', '.join(_describe(r) for _, r in similar.head(MAX_LISTED).iterrows())}"
                if len(similar) else "; look a track up with --name")
        raise PipelineError(f"no track with id {track_id!r} in the warehouse ({len(catalog)} tracks){hint}")
    wanted = (name or "").strip().casefold()
    names = catalog["track_name"].fillna("").str.strip().str.casefold()
    hits = catalog[names == wanted]
    if hits.empty:
        hits = catalog[names.str.contains(wanted, regex=False)] if wanted else hits
    if hits.empty:
        raise PipelineError(f"no track named {name!r} in the warehouse ({len(catalog)} tracks)")
    songs = {duplicate_key(r.track_name, r.artist_name) for r in hits.itertuples()}
    if len(songs) > 1:  # different songs; releases of one song are the same seed
        listed = "; ".join(_describe(r) for _, r in hits.head(MAX_LISTED).iterrows())
        more = f" and {len(hits) - MAX_LISTED} more" if len(hits) > MAX_LISTED else ""
        raise PipelineError(f"{len(hits)} tracks match {name!r}: {listed}{more}; pick one with --track ID")
    with_vector = hits[hits["has_vector"].astype(bool)]
    return int((with_vector if len(with_vector) else hits).index[0])


def _genres(value) -> list[str]:
    return [] if value is None or (isinstance(value, float) and np.isnan(value)) else [str(g) for g in value]


def recommend(catalog: pd.DataFrame, seed_row: int, k: int) -> Recommendation:
    """The k tracks most alike the seed (``catalog`` from :func:`analytics.data.catalog_tracks`)."""
    catalog = catalog.reset_index(drop=True)
    seed = catalog.iloc[seed_row]
    if not bool(seed["has_vector"]):
        raise PipelineError(f"{_describe(seed)} has no audio features, so nothing can sound like it "
                            "(see AUDIO_FEATURES_SOURCE)")
    pool = catalog[catalog["has_vector"].astype(bool)].reset_index(drop=True)
    pool[list(FEATURES)] = pool[list(FEATURES)].astype(float).fillna(0.0)  # z-score 0 = the mean
    seed_frame = pool[pool["track_id"] == seed["track_id"]]
    found = top_k(Tracks.from_frame(seed_frame), Tracks.from_frame(pool), k)
    neighbours = []
    for rank, (i, dist, overlap, score) in enumerate(zip(found.index[0], found.distance[0], found.genre_overlap[0],
                                                         found.score[0], strict=True), start=1):
        if i < 0:
            break
        row = pool.iloc[int(i)]
        neighbours.append({"rank": rank, "track_id": row["track_id"], "track_name": row["track_name"],
                           "artist_name": row["artist_name"], "genres": _genres(row["genres"]),
                           "distance": round(float(dist), 4), "genre_overlap": round(float(overlap), 4),
                           "score": round(float(score), 4)})
    return Recommendation({"track_id": seed["track_id"], "track_name": seed["track_name"],
                           "artist_name": seed["artist_name"], "genres": _genres(seed["genres"])}, neighbours)


def recommend_from_warehouse(settings: Settings, k: int, track_id: str | None = None,
                             name: str | None = None) -> Recommendation:
    """The k tracks most alike the seed named by ``track_id`` or ``name``, over the warehouse's catalog."""
    catalog = catalog_tracks(settings)
    if catalog.empty:
        raise PipelineError("the warehouse has no tracks: run `spotify-pipeline demo` or crawl some first")
    return recommend(catalog, resolve_seed(catalog, track_id, name), k)
