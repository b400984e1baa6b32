"""Warehouse reads for the analyst tools (recommend, dashboard, notebooks, report) as pandas frames.

Every read goes through the query layer (:mod:`analytics.query`): DuckDB over the local lake, or
Trino when ``TRINO_HOST`` is set; the SQL is plain and schema-qualified, so it runs on both. A
missing table becomes one :class:`PipelineError` naming the command that builds it.
"""

from __future__ import annotations

import pandas as pd

from spark_jobs.similarity import FEATURES
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings

BUILD_HINT = {
    "warehouse_track_dashboard": "spotify-pipeline demo` (sample data) or `spotify-pipeline transform --layer all",
    "warehouse_track_recommendation": "spotify-pipeline transform --layer warehouse",
    "gold_track_metadata": "spotify-pipeline transform --layer gold",
    "warehouse_track_similar": "spotify-pipeline transform --layer similar",
    "warehouse_track_clusters": "spotify-pipeline transform --layer similar",
}


class LakeNotBuilt(PipelineError):
    """A warehouse table the tool needs has never been written (or registered)."""

    def __init__(self, table: str) -> None:
        self.table = table
        super().__init__(f"{table} is not in the lake yet: run `{BUILD_HINT.get(table, 'spotify-pipeline demo')}`")


def _missing_table(message: str) -> str | None:
    lowered = message.lower()
    if "does not exist" not in lowered and "not found" not in lowered:
        return None
    return next((t for t in BUILD_HINT if t in lowered), None)


def read_frame(settings: Settings, sql: str) -> pd.DataFrame:
    """All rows of ``sql`` as a DataFrame, on DuckDB or Trino like ``spotify-pipeline query``."""
    from analytics.query import open_cursor

    try:
        with open_cursor(settings) as cur:
            cur.execute(sql)
            if not settings.trino_host:
                return cur.df()  # DuckDB's own frame: dates and arrays keep their types
            return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
    except PipelineError:
        raise
    except Exception as exc:  # duckdb and trino raise unrelated error types
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        table = _missing_table(first)
        if table:
            raise LakeNotBuilt(table) from None
        raise PipelineError(f"query failed: {first}") from None


def catalog_tracks(settings: Settings) -> pd.DataFrame:
    """Every warehouse track with names, genres, ISRC and its standardized features (null: none)."""
    feats = ", ".join(f"r.{c}" for c in FEATURES)
    return read_frame(settings, f"""
        SELECT d.track_id, d.track_name, d.artist_name, d.album_name, d.release_year, d.genres,
               m.isrc, r.track_id IS NOT NULL AS has_vector, {feats}
        FROM warehouse.warehouse_track_dashboard d
        LEFT JOIN warehouse.warehouse_track_recommendation r ON r.track_id = d.track_id
        LEFT JOIN gold.gold_track_metadata m ON m.track_id = d.track_id
        ORDER BY d.track_id""")


def dashboard(settings: Settings) -> pd.DataFrame:
    """The flat BI table, the columns the charts use."""
    return read_frame(settings, f"""
        SELECT track_id, track_name, artist_id, artist_name, album_name, album_type, release_year,
               popularity, duration_min, genres, primary_genre, has_features, {", ".join(FEATURES)}
        FROM warehouse.warehouse_track_dashboard ORDER BY track_id""")


def clusters(settings: Settings) -> pd.DataFrame:
    return read_frame(settings, """
        SELECT track_id, track_name, artist_name, primary_genre, cluster_id, pca_x, pca_y
        FROM warehouse.warehouse_track_clusters ORDER BY track_id""")


def similar_from_warehouse(settings: Settings, track_id: str) -> pd.DataFrame:
    """Precomputed neighbours of one track (the Spark job's table), best first."""
    safe = track_id.replace("'", "''")
    return read_frame(settings, f"""
        SELECT s.rank, s.similar_track_id, d.track_name, d.artist_name, d.genres, s.distance, s.genre_overlap,
               s.score
        FROM warehouse.warehouse_track_similar s
        JOIN warehouse.warehouse_track_dashboard d ON d.track_id = s.similar_track_id
        WHERE s.track_id = '{safe}' ORDER BY s.rank""")
