"""A hand-written warehouse of eight tracks, written as Parquet the way Spark lays it out.

Features are z-scores; every one not named is 0. Distances from the seed ``s`` (all zeros):
c 0.5, a 1.0, b 1.2, far 10; dup_isrc and dup_name sit on the seed (duplicates of it), nov has
no features. Genres: s pop; a rock; b pop; c none; far pop.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from spark_jobs.similarity import FEATURES
from tests.lake_tables import write_version

# track_id, track_name, artist_name, isrc, genres, {feature: z}
TRACKS = [
    ("s", "Seed Song", "Ann", "ISRC1", ["pop"], {}),
    ("a", "Alpha", "Bob", "ISRC2", ["rock"], {"danceability": 1.0}),
    ("b", "Beta", "Cy", None, ["pop"], {"danceability": 1.2}),
    ("c", "Gamma", "Dee", None, [], {"energy": 0.5}),
    ("dup_isrc", "Seed Song (Live)", "Ann", "ISRC1", ["pop"], {}),
    ("dup_name", " seed song ", "ANN", None, ["pop"], {}),
    ("far", "Far Away", "Eve", None, ["pop"], {"danceability": 10.0}),
    ("nov", "No Vector", "Fay", None, ["pop"], None),
]


def _write(root: Path, layer: str, table: str, columns: dict) -> None:
    folder = write_version(root / f"{layer}_layer" / table)  # a complete version folder, as Spark publishes
    pq.write_table(pa.table(columns), folder / "part-00000.parquet")


def write_tiny_lake(lake: Path, rows=TRACKS) -> None:
    ids = [r[0] for r in rows]
    _write(lake, "warehouse", "warehouse_track_dashboard", {
        "track_id": ids, "track_name": [r[1] for r in rows], "artist_id": [f"ar_{r[2]}" for r in rows],
        "artist_name": [r[2] for r in rows], "album_name": ["Album"] * len(rows), "album_type": ["album"] * len(rows),
        "release_year": [2000 + i for i in range(len(rows))], "popularity": [50] * len(rows),
        "duration_min": [3.0] * len(rows), "genres": [r[4] for r in rows],
        "primary_genre": [r[4][0] if r[4] else None for r in rows],
        "has_features": [r[5] is not None for r in rows],
        **{f: [0.5 if r[5] is not None else None for r in rows] for f in FEATURES},
    })
    with_vec = [r for r in rows if r[5] is not None]
    _write(lake, "warehouse", "warehouse_track_recommendation", {
        "track_id": [r[0] for r in with_vec], "track_name": [r[1] for r in with_vec],
        "artist_name": [r[2] for r in with_vec],
        **{f: [float(r[5].get(f, 0.0)) for r in with_vec] for f in FEATURES},
    })
    _write(lake, "gold", "gold_track_metadata", {
        "track_id": ids, "isrc": [r[3] for r in rows], "genres": [r[4] for r in rows],
    })
