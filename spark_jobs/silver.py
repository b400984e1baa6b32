"""Bronze -> silver: parse the raw payloads with explicit schemas, keep the latest fetch per id.

Pure ``DataFrame -> DataFrame`` transforms; ``spark_jobs.runner`` does the reading and writing. A payload that does not parse, or has no id, is routed to the
quarantine frame with its reason instead of failing the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs import schemas as S
from spark_jobs.schemas import Persist

TS_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSX"


CORRUPT = "_corrupt_record"
INVALID_JSON, NO_ID = "payload is not valid JSON", "payload has no id"


def parse_fetches(bronze: DataFrame, schema: T.StructType, key: F.Column | None = None) -> DataFrame:
    """Parse each payload once, keeping every fetch: silver's latest-per-key tables and the history
    step's per-date tables both derive from this one frame.

    One ``from_json`` per payload (a malformed one lands in ``_corrupt_record``, so no second
    parse checks validity). Rows with a ``_reason`` are the quarantine; the others have a parsed
    ``p`` and a non-null ``key`` (default: the payload's ``id``; null for a payload that is not
    JSON). The raw payload is kept only for failed rows; its hash stands in for it as the last
    tie-breaker of the latest-fetch order, so payloads are not shuffled.
    """
    with_corrupt = T.StructType([*schema.fields, T.StructField(CORRUPT, T.StringType())])
    p = F.from_json("payload", with_corrupt, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT})
    parsed = bronze.select("_id", "fetched_at", "run_id", "payload", p.alias("p"))
    invalid = F.col("p").isNull() | F.col(f"p.{CORRUPT}").isNotNull()
    # no key for a payload that is not JSON, also when the key is not the payload's (kworb_raw: _id)
    key = F.when(~invalid, key if key is not None else F.col("p.id"))
    reason = F.when(invalid, F.lit(INVALID_JSON)).otherwise(F.lit(NO_ID))
    return (parsed.withColumn("key", key)
            .select("_id", "fetched_at", "run_id", "p", "key",
                    F.when(F.col("key").isNull(), reason).alias("_reason"),
                    F.when(F.col("key").isNull(), F.col("payload")).alias("payload"),
                    F.xxhash64("payload").alias("_payload_hash")))


def latest(fetches: DataFrame) -> DataFrame:
    """The parsed rows of :func:`parse_fetches`, one per key: its latest fetch (then run id, then hash)."""
    w = Window.partitionBy(F.col("key")).orderBy(F.col("fetched_at").desc(), F.col("run_id").desc(),
                                                 F.col("_payload_hash").desc())
    return (fetches.where(F.col("key").isNotNull()).drop("_reason", "payload")
            .withColumn("_rn", F.row_number().over(w)).where(F.col("_rn") == 1).drop("_rn"))


def quarantined(parsed: DataFrame, source: str) -> DataFrame:
    """The rows of :func:`parse_fetches` that failed, in the quarantine's schema."""
    return parsed.where(F.col("key").isNull()).select(
        F.lit(source).alias("source"), "_id", "fetched_at", F.col("_reason").alias("reason"), "payload")


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
    return artists.select(
        F.col("p.id").alias("artist_id"),
        F.col("p.name").alias("artist_name"),
        F.col("p.followers.total").alias("followers"),
        F.col("p.popularity").alias("popularity"),
        F.get(F.col("p.images"), 0).getField("url").alias("image_url"),
        F.col("p.uri").alias("uri"),
        _ts().alias("fetched_at"),
    )


def silver_album(albums: DataFrame) -> DataFrame:
    return albums.select(
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
    return (albums
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
    raw = tracks.select(F.col("p.id").alias("r_track_id"), F.col("p").alias("r"),
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
    """Bridge: every credited artist of a track with its 1-based position (its first, if credited twice).

    Per row, no shuffle: ``tracks`` (tracks_data) has one row per track, so deduplicating within
    each track's array is deduplicating by (track, artist).
    """
    credited = F.array_distinct(F.filter("artist_ids", lambda a: a.isNotNull()))
    return (tracks.select("track_id", "artist_ids", F.explode(credited).alias("artist_id"))
            .select("track_id", "artist_id",
                    F.array_position("artist_ids", F.col("artist_id")).cast("int").alias("artist_position")))


def silver_feature_music(features: DataFrame) -> DataFrame:
    return features.select(
        F.col("p.id").alias("track_id"),
        *[F.col(f"p.{c}").alias(c) for c in S.FEATURE_COLUMNS],
        F.col("p.duration_ms").alias("duration_ms"),
        _ts().alias("fetched_at"),
    )


def silver_artists_genres(genres: DataFrame, artists: DataFrame) -> DataFrame:
    """One row per (artist, genre): from genres_raw, or the artist object when genres_raw lacks it."""
    from_genres = genres.select(F.col("key").alias("artist_id"), F.col("p.genres").alias("genres"))
    from_artists = artists.select(F.col("p.id").alias("artist_id"), F.col("p.genres").alias("genres"))
    missing = from_artists.join(from_genres.select("artist_id"), on="artist_id", how="left_anti")
    return (from_genres.unionByName(missing)
            .select("artist_id", F.explode_outer("genres").alias("genre"))
            .select("artist_id", F.trim("genre").alias("genre"))
            .where(F.col("genre").isNotNull() & (F.length("genre") > 0))
            .groupBy("artist_id", "genre").agg(F.count(F.lit(1)).alias("_n"))
            .select("artist_id", "genre"))


# Payload schema and key fields (first non-null wins) of each collection silver parses; genres_raw
# is keyed by artist id and accepts {"id"|"artist_id", "genres"} or a whole artist object.
PAYLOADS: dict[str, tuple[T.StructType, tuple[str, ...]]] = {
    "artists_raw": (S.ARTIST_PAYLOAD, ("p.id",)),
    "albums_raw": (S.ALBUM_PAYLOAD, ("p.id",)),
    "tracks_raw": (S.TRACK_PAYLOAD, ("p.id",)),
    "audio_features_raw": (S.FEATURES_PAYLOAD, ("p.id",)),
    "genres_raw": (S.GENRES_PAYLOAD, ("p.artist_id", "p.id")),
}


def parse_collections(bronze: Mapping[str, DataFrame], persist: Persist = lambda df: df) -> dict[str, DataFrame]:
    """Every fetch of each collection parsed once (:func:`parse_fetches`), cached for the quarantine,
    the latest-per-key tables and the history tables alike."""
    return {c: persist(parse_fetches(bronze[c], schema, F.coalesce(*map(F.col, keys))))
            for c, (schema, keys) in PAYLOADS.items()}


def build_silver(bronze: Mapping[str, DataFrame], persist: Persist = lambda df: df,
                 fetches: Mapping[str, DataFrame] | None = None) -> dict[str, DataFrame]:
    """All silver tables and the quarantine (``_quarantine``) from the five bronze collections.

    ``fetches``: :func:`parse_collections` of ``bronze`` when the caller shares it (the history
    step). ``persist`` marks the frames several outputs share (each collection's parse, the
    latest artists and albums, tracks_data); the job passes a real cache, tests the identity.
    """
    fetches = fetches if fetches is not None else parse_collections(bronze, persist)
    artists, albums = persist(latest(fetches["artists_raw"])), persist(latest(fetches["albums_raw"]))
    tracks_df = persist(tracks_data(latest(fetches["tracks_raw"]), albums))
    quarantine = reduce(DataFrame.unionByName, [quarantined(df, source) for source, df in fetches.items()])
    return {
        "_quarantine": quarantine,
        "silver_artists": silver_artists(artists),
        "silver_album": silver_album(albums),
        "tracks_data": tracks_df,
        "silver_track_artists": silver_track_artists(tracks_df),
        "silver_feature_music": silver_feature_music(latest(fetches["audio_features_raw"])),
        "silver_artists_genres": silver_artists_genres(latest(fetches["genres_raw"]), artists),
    }
