"""Bronze -> silver: parse the raw payloads with explicit schemas, keep the latest fetch per id.

Pure ``DataFrame -> DataFrame`` transforms; ``main()`` (spark-submit) and ``spark_jobs.runner``
do the reading and writing. A payload that does not parse, or has no id, is routed to the
quarantine frame with its reason instead of failing the run.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs import schemas as S

TS_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSX"


def parse_payload(bronze: DataFrame, schema: T.StructType, source: str,
                  key: F.Column | None = None) -> tuple[DataFrame, DataFrame]:
    """(rows with a parsed ``p`` struct and a non-null ``key``, quarantined rows with their reason).

    ``key`` defaults to the payload's ``id``.
    """
    parsed = bronze.select(
        "_id", "fetched_at", "run_id", "payload",
        F.from_json("payload", schema, {"mode": "PERMISSIVE"}).alias("p"),
        F.get_json_object("payload", "$").isNull().alias("_invalid_json"),
    ).withColumn("key", key if key is not None else F.col("p.id"))
    # The raw payload is not carried past parsing (it would be shuffled by every window below);
    # its hash stands in for it as the last tie-breaker of latest().
    good = (parsed.where(~F.col("_invalid_json") & F.col("key").isNotNull())
            .withColumn("_payload_hash", F.xxhash64("payload")).drop("_invalid_json", "payload"))
    bad = parsed.where(F.col("_invalid_json") | F.col("key").isNull()).select(
        F.lit(source).alias("source"), "_id", "fetched_at",
        F.when(F.col("_invalid_json"), F.lit("payload is not valid JSON"))
        .otherwise(F.lit("payload has no id")).alias("reason"),
        "payload",
    )
    return good, bad


def latest(df: DataFrame, key: str = "key") -> DataFrame:
    """One row per key: the latest ``fetched_at`` (then run_id, then payload hash) wins, on purpose."""
    w = Window.partitionBy(F.col(key)).orderBy(F.col("fetched_at").desc(), F.col("run_id").desc(),
                                               F.col("_payload_hash").desc())
    return df.withColumn("_rn", F.row_number().over(w)).where("_rn = 1").drop("_rn")


def _ts(col: str = "fetched_at") -> F.Column:
    return F.try_to_timestamp(F.col(col), F.lit(TS_FORMAT))


def release_date(date_col: F.Column, precision_col: F.Column) -> F.Column:
    """'1999' -> 1999-01-01, '1999-07' -> 1999-07-01, '1999-07-14' as is; malformed or year 0000 -> null.

    Spotify does serve "0000" for some old releases; year 0 is not a date BI tools can hold.
    """
    padded = (F.when(precision_col == "year", F.concat(date_col, F.lit("-01-01")))
              .when(precision_col == "month", F.concat(date_col, F.lit("-01")))
              .otherwise(date_col))
    parsed = F.try_to_date(padded, "yyyy-MM-dd")
    return F.when(F.year(parsed) >= 1, parsed)


def silver_artists(artists: DataFrame) -> DataFrame:
    return latest(artists).select(
        F.col("p.id").alias("artist_id"),
        F.col("p.name").alias("artist_name"),
        F.col("p.followers.total").alias("followers"),
        F.col("p.popularity").alias("popularity"),
        F.get(F.col("p.images"), 0).getField("url").alias("image_url"),
        F.col("p.uri").alias("uri"),
        _ts().alias("fetched_at"),
    )


def silver_album(albums: DataFrame) -> DataFrame:
    return latest(albums).select(
        F.col("p.id").alias("album_id"),
        F.col("p.name").alias("album_name"),
        F.col("p.album_type").alias("album_type"),
        release_date(F.col("p.release_date"), F.col("p.release_date_precision")).alias("release_date"),
        F.col("p.release_date_precision").alias("release_date_precision"),
        F.col("p.total_tracks").alias("total_tracks"),
        F.col("p.label").alias("label"),
        F.col("p.popularity").alias("popularity"),
        F.get(F.col("p.artists"), 0).getField("id").alias("artist_id"),
        F.transform("p.artists", lambda a: a.getField("id")).alias("artist_ids"),
        F.col("p.external_ids.upc").alias("upc"),
        F.get(F.col("p.images"), 0).getField("url").alias("image_url"),
        _ts().alias("fetched_at"),
    )


def album_track_items(albums: DataFrame) -> DataFrame:
    """(album_id, simplified track) for every track listed in the latest album documents."""
    return (latest(albums)
            .select(F.col("p.id").alias("album_id"), F.explode("p.tracks.items").alias("t"), "fetched_at")
            .where(F.col("t.id").isNotNull()))


def tracks_data(tracks: DataFrame, albums: DataFrame) -> DataFrame:
    """Tracks from tracks_raw (full or simplified objects) completed by the albums' track lists.

    A development-mode crawl lands simplified tracks without ``album``; the album link then
    comes from the album that lists the track, so no track is lost in either mode.
    """
    from_albums_w = Window.partitionBy(F.col("t.id")).orderBy(F.col("album_id"))
    from_albums = (album_track_items(albums)
                   .withColumn("_rn", F.row_number().over(from_albums_w)).where("_rn = 1")
                   .select(F.col("t.id").alias("a_track_id"), F.col("album_id").alias("a_album_id"),
                           F.col("t").alias("a"), F.col("fetched_at").alias("a_fetched_at")))
    raw = latest(tracks).select(F.col("p.id").alias("r_track_id"), F.col("p").alias("r"),
                                F.col("fetched_at").alias("r_fetched_at"))
    joined = raw.join(from_albums, raw.r_track_id == from_albums.a_track_id, how="full")
    artists = F.coalesce(F.col("r.artists"), F.col("a.artists"))
    return joined.select(
        F.coalesce("r_track_id", "a_track_id").alias("track_id"),
        F.coalesce("r.name", "a.name").alias("track_name"),
        F.coalesce("r.album.id", "a_album_id").alias("album_id"),
        F.get(artists, 0).getField("id").alias("artist_id"),
        F.transform(artists, lambda a: a.getField("id")).alias("artist_ids"),
        F.coalesce("r.disc_number", "a.disc_number").alias("disc_number"),
        F.coalesce("r.track_number", "a.track_number").alias("track_number"),
        F.coalesce("r.duration_ms", "a.duration_ms").alias("duration_ms"),
        F.coalesce("r.explicit", "a.explicit").alias("explicit"),
        F.col("r.popularity").alias("popularity"),
        F.col("r.external_ids.isrc").alias("isrc"),
        F.coalesce(_ts("r_fetched_at"), _ts("a_fetched_at")).alias("fetched_at"),
    )


def silver_track_artists(tracks: DataFrame) -> DataFrame:
    """Bridge: every credited artist of a track with its 1-based position."""
    return (tracks.select("track_id", F.posexplode("artist_ids").alias("pos", "artist_id"))
            .where(F.col("artist_id").isNotNull())
            .groupBy("track_id", "artist_id").agg(F.min("pos").alias("pos"))
            .select("track_id", "artist_id", (F.col("pos") + 1).alias("artist_position")))


def silver_feature_music(features: DataFrame) -> DataFrame:
    return latest(features).select(
        F.col("p.id").alias("track_id"),
        *[F.col(f"p.{c}").alias(c) for c in S.FEATURE_COLUMNS],
        F.col("p.duration_ms").alias("duration_ms"),
        _ts().alias("fetched_at"),
    )


def silver_artists_genres(genres: DataFrame, artists: DataFrame) -> DataFrame:
    """One row per (artist, genre): from genres_raw, or the artist object when genres_raw lacks it."""
    from_genres = latest(genres).select(F.col("key").alias("artist_id"), F.col("p.genres").alias("genres"))
    from_artists = latest(artists).select(F.col("p.id").alias("artist_id"), F.col("p.genres").alias("genres"))
    missing = from_artists.join(from_genres.select("artist_id"), on="artist_id", how="left_anti")
    return (from_genres.unionByName(missing)
            .select("artist_id", F.explode_outer("genres").alias("genre"))
            .select("artist_id", F.trim("genre").alias("genre"))
            .where(F.col("genre").isNotNull() & (F.length("genre") > 0))
            .groupBy("artist_id", "genre").agg(F.count(F.lit(1)).alias("_n"))
            .select("artist_id", "genre"))


def build_silver(bronze: dict[str, DataFrame]) -> tuple[dict[str, DataFrame], DataFrame]:
    """All silver tables and the quarantine from the five bronze collections."""
    artists, q_artists = parse_payload(bronze["artists_raw"], S.ARTIST_PAYLOAD, "artists_raw")
    albums, q_albums = parse_payload(bronze["albums_raw"], S.ALBUM_PAYLOAD, "albums_raw")
    tracks, q_tracks = parse_payload(bronze["tracks_raw"], S.TRACK_PAYLOAD, "tracks_raw")
    features, q_features = parse_payload(bronze["audio_features_raw"], S.FEATURES_PAYLOAD, "audio_features_raw")
    # genres_raw is keyed by artist id; accept {"id"|"artist_id", "genres"} or a whole artist object.
    genres, q_genres = parse_payload(bronze["genres_raw"], S.GENRES_PAYLOAD, "genres_raw",
                                     key=F.coalesce(F.col("p.artist_id"), F.col("p.id")))
    tracks_df = tracks_data(tracks, albums)
    tables = {
        "silver_artists": silver_artists(artists),
        "silver_album": silver_album(albums),
        "tracks_data": tracks_df,
        "silver_track_artists": silver_track_artists(tracks_df),
        "silver_feature_music": silver_feature_music(features),
        "silver_artists_genres": silver_artists_genres(genres, artists),
    }
    quarantine = q_artists.unionByName(q_albums).unionByName(q_tracks).unionByName(q_features).unionByName(q_genres)
    return tables, quarantine


def main(argv: Sequence[str] | None = None) -> None:
    from spark_jobs.runner import run_layers_cli

    parser = argparse.ArgumentParser(description="bronze -> silver")
    parser.add_argument("--lake-uri")
    run_layers_cli(["silver"], parser.parse_args(argv).lake_uri)


if __name__ == "__main__":
    main()
