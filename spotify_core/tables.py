"""The lake's tables by name: layer, folder, key columns and what a row is, with no pyspark.

The one list every reader of the lake names tables from: the query layer's DuckDB views
(``analytics/query.py``), the catalog and the checks. ``spark_jobs/schemas.py`` adds to each its
``StructType`` and data-quality declarations (``TableSpec``) and refuses a table not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from spotify_core.vocabulary import COLLECTIONS

LAYERS = ("bronze", "silver", "gold", "warehouse")


@dataclass(frozen=True)
class Table:
    name: str
    layer: str  # bronze | silver | gold | warehouse (the Hive database)
    primary_key: tuple[str, ...]  # unique and never null
    description: str
    # Written by Spark into versioned folders (lake/versions.py); bronze collections are written by export.
    versioned: bool = True

    @property
    def path(self) -> str:
        """The table's folder, relative to the lake root."""
        return f"{self.layer}_layer/{self.name}"


_TABLES = [
    *[Table(c, "bronze", (), f"landing collection {c}, raw JSON", versioned=False) for c in COLLECTIONS],
    Table("silver_artists", "silver", ("artist_id",),
          "one row per artist, latest fetch"),
    Table("silver_album", "silver", ("album_id",),
          "one row per album; release_date = first day of its precision"),
    Table("tracks_data", "silver", ("track_id",),
          "one row per track; artist_id = first credited artist"),
    Table("silver_track_artists", "silver", ("track_id", "artist_id"),
          "bridge: every credited artist of a track"),
    Table("silver_feature_music", "silver", ("track_id",),
          "audio features per track; features_source: spotify, reccobeats or file"),
    Table("silver_artists_genres", "silver", ("artist_id", "genre"),
          "one row per artist and genre; genre_source: spotify or musicbrainz"),
    Table("gold_track_metadata", "gold", ("track_id",),
          "every track with album, primary artist and the genres of all its artists"),
    Table("gold_feature_matrix", "gold", ("track_id",),
          "tracks that have audio features, with names"),
    Table("warehouse_track_dashboard", "warehouse", ("track_id",),
          "flat BI table, one row per track"),
    Table("silver_artist_snapshots", "silver", ("artist_id", "snapshot_date"),
          "artist popularity and followers per refresh date"),
    Table("silver_track_snapshots", "silver", ("track_id", "snapshot_date"),
          "track popularity per fetch date (extended-mode apps)"),
    Table("kworb_rankings", "silver", ("scrape_date", "artist_id", "metric"),
          "kworb numbers per scrape date, artist and metric"),
    Table("silver_unavailable", "silver", ("entity_type", "entity_id"),
          "artists and albums answering 404 on refresh, since when"),
    Table("warehouse_artist_history", "warehouse", ("artist_id", "snapshot_date"),
          "per artist and date: popularity, followers and kworb numbers"),
    Table("warehouse_track_recommendation", "warehouse", ("track_id",),
          "z-scored audio features per track"),
    Table("warehouse_track_similar", "warehouse", ("track_id", "rank"),
          "top 10 tracks that sound alike per track (FAISS HNSW candidates re-ranked with the exact rule)"),
    Table("warehouse_track_clusters", "warehouse", ("track_id",),
          "KMeans cluster and 2-D PCA coordinates per track"),
]
TABLES: dict[str, Table] = {table.name: table for table in _TABLES}
# Rows of bronze that failed to parse: written by the silver job, read by the checks; not a catalog table.
QUARANTINE = Table("_quarantine", "bronze", (), "bronze rows that failed to parse, with the reason")
# kworb rows whose numbers did not parse (and unreadable unavailable_raw rows): written by the history step.
HISTORY_QUARANTINE = Table("_quarantine_history", "bronze", (), "history rows that failed to parse, with the reason")


def tables_in(layer: str) -> list[Table]:
    return [table for table in _TABLES if table.layer == layer]
