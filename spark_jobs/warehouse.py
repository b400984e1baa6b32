"""Gold -> warehouse: a flat BI table and a standardized feature vector per track."""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.schemas import FEATURE_COLUMNS, Persist


def warehouse_track_dashboard(metadata: DataFrame, features: DataFrame) -> DataFrame:
    """One row per track; feature columns (and ``features_source``) null where the track has none."""
    feats = features.select("track_id", "features_source", *FEATURE_COLUMNS, F.lit(True).alias("has_features"))
    year = F.year("release_date")
    return (metadata.join(feats, on="track_id", how="left")
            .select("track_id", "track_name", "artist_id", "artist_name", "album_id", "album_name", "album_type",
                    "release_date", year.alias("release_year"), (F.floor(year / 10) * 10).alias("decade"),
                    F.round(F.col("duration_ms") / 60000.0, 2).alias("duration_min"), "explicit", "popularity",
                    "genres", F.array_join("genres", ", ").alias("genres_text"),
                    F.get(F.col("genres"), 0).alias("primary_genre"),
                    F.coalesce("has_features", F.lit(False)).alias("has_features"), "features_source",
                    *FEATURE_COLUMNS))


def warehouse_track_recommendation(matrix: DataFrame) -> DataFrame:
    """z-scores (population standard deviation over all tracks with features); 0 where a feature is constant."""
    stats = matrix.agg(*[F.avg(c).alias(f"{c}__mean") for c in FEATURE_COLUMNS],
                       *[F.stddev_pop(c).alias(f"{c}__std") for c in FEATURE_COLUMNS])
    z = [F.when(F.col(f"{c}__std") > 0, (F.col(c) - F.col(f"{c}__mean")) / F.col(f"{c}__std"))
         .otherwise(F.when(F.col(c).isNotNull(), F.lit(0.0))).alias(c) for c in FEATURE_COLUMNS]
    return matrix.crossJoin(stats).select("track_id", "track_name", "artist_name", *z)


def build_warehouse(tables: Mapping[str, DataFrame], persist: Persist = lambda df: df) -> dict[str, DataFrame]:
    return {"warehouse_track_dashboard": warehouse_track_dashboard(tables["gold_track_metadata"],
                                                                   tables["silver_feature_music"]),
            "warehouse_track_recommendation": warehouse_track_recommendation(tables["gold_feature_matrix"])}
