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
from spotify_core.vocabulary import GENRE_SOURCES

TS_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSX"


CORRUPT = "_corrupt_record"
INVALID_JSON, NO_ID = "payload is not valid JSON", "payload has no id"
WRONG_TYPE = "payload does not match its schema"
# Largest magnitude read as an integer: Java int, and 2^53 for longs (a double is exact up to there).
INTEGER_LIMITS = {T.IntegerType: 2**31 - 1, T.LongType: 2**53}


def wire_type(dt: T.DataType) -> T.DataType:
    """``dt`` with every integer field read as text: Spotify has answered integers as floats
    (``"duration_ms": 204053.0``), and a type mismatch in ``from_json`` fails the whole record."""
    if isinstance(dt, T.StructType):
        return T.StructType([T.StructField(f.name, wire_type(f.dataType)) for f in dt.fields])
    if isinstance(dt, T.ArrayType):
        return T.ArrayType(wire_type(dt.elementType))
    return T.StringType() if type(dt) in INTEGER_LIMITS else dt


def has_integers(dt: T.DataType) -> bool:
    if isinstance(dt, T.StructType):
        return any(has_integers(f.dataType) for f in dt.fields)
    if isinstance(dt, T.ArrayType):
        return has_integers(dt.elementType)
    return type(dt) in INTEGER_LIMITS


def _sql_text(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def narrow(expr: str, dt: T.DataType, path: str = "", depth: int = 0) -> tuple[str, list[tuple[str, str]]]:
    """(SQL of ``expr`` read with :func:`wire_type` converted back to ``dt``, [(field path, SQL of its
    is-wrong condition)]).

    An integer field's text is that integer when it is an integral number within the type's range
    (``204053.0`` -> 204053); anything else (``12.5``, ``"abc"``, ``true``) is a wrong value whose
    path names it in the quarantine reason. Fields without integers inside are passed through.
    SQL text, not ``Column`` calls: built with the Python API it took some 15,000 Py4J round trips
    per run, seconds of driver time before any row was read.
    """
    if not has_integers(dt):
        return expr, []
    if isinstance(dt, T.StructType):
        parts = [(f.name, *narrow(f"{expr}.`{f.name}`", f.dataType, f"{path}.{f.name}".lstrip("."), depth))
                 for f in dt.fields]
        packed = ", ".join(f"{_sql_text(name)}, {value}" for name, value, _ in parts)
        return f"CASE WHEN {expr} IS NOT NULL THEN named_struct({packed}) END", [w for *_, ws in parts for w in ws]
    if isinstance(dt, T.ArrayType):
        x = f"x{depth}"
        value, wrong = narrow(x, dt.elementType, f"{path}[]", depth + 1)
        return f"transform({expr}, {x} -> {value})", [(p, f"exists({expr}, {x} -> {c})") for p, c in wrong]
    number = f"try_cast({expr} AS DOUBLE)"
    ok = f"({number} % 1 = 0 AND abs({number}) <= {INTEGER_LIMITS[type(dt)]})"
    return (f"CASE WHEN {ok} THEN CAST({number} AS {dt.simpleString()}) END",
            [(path, f"({expr} IS NOT NULL AND NOT coalesce({ok}, false))")])


def _mismatch_reason(raw: str, schema: T.StructType) -> str:
    """SQL of why a JSON payload failed ``from_json``: the top-level fields left null that the payload
    has (evaluated only for the rare failed rows)."""
    named = "concat_ws(', ', " + ", ".join(
        f"CASE WHEN {raw}.`{f.name}` IS NULL AND get_json_object(payload, {_sql_text('$.' + f.name)}) IS NOT NULL "
        f"THEN {_sql_text(f.name)} END" for f in schema.fields) + ")"
    return (f"concat({_sql_text(WRONG_TYPE)}, CASE WHEN {named} != '' "
            f"THEN concat(': wrong type in ', {named}) ELSE '' END)")


def parse_fetches(bronze: DataFrame, schema: T.StructType, key: F.Column | None = None) -> DataFrame:
    """Parse each payload once, keeping every fetch: silver's latest-per-key tables and the history
    step's per-date tables both derive from this one frame.

    One ``from_json`` per payload with the schema itself; a payload it refuses is read once more with
    integer fields as text and converted (:func:`narrow`), so an integral float is its integer and a
    wrong value names its field. A payload that fails that parse too lands in ``_corrupt_record``;
    only for those does a third look tell text that is not JSON from JSON of the wrong shape. Rows with a ``_reason`` are the quarantine; the others have a parsed
    ``p`` and a non-null ``key`` (default: the payload's ``id``). The raw payload is kept only for
    failed rows; its hash stands in for it as the last tie-breaker of the latest-fetch order, so
    payloads are not shuffled.
    """
    def parse(as_schema: T.StructType) -> F.Column:
        with_corrupt = T.StructType([*as_schema.fields, T.StructField(CORRUPT, T.StringType())])
        return F.from_json("payload", with_corrupt, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT})

    strict = parse(schema)
    s = F.col("s")
    # The schema's own parse takes almost every payload; only one it refuses is read again with integers
    # as text (the conversion's array lambdas cost as much as the rest of silver, if run on every row).
    clean = s.isNotNull() & s.getField(CORRUPT).isNull()
    wire = parse(wire_type(schema))
    parsed = (bronze.select("_id", "fetched_at", "run_id", "payload", strict.alias("s"))
              .withColumn("w", F.when(~clean, wire))
              .withColumn("v", F.col("w").dropFields(CORRUPT)))  # what narrow reads: the payload's fields
    w = F.col("w")
    failed = w.isNull() | w.getField(CORRUPT).isNotNull()
    value, wrong = narrow("v", schema)
    value_problems = F.expr("concat_ws('; ', " + ", ".join(
        [f"CASE WHEN {c} THEN {_sql_text(f'field {p} is not an integer')} END" for p, c in wrong] or ["NULL"]) + ")")
    reason = (F.when(clean, F.lit(None))
              .when(failed & F.try_parse_json("payload").isNull(), F.lit(INVALID_JSON))
              .when(failed, F.expr(_mismatch_reason("v", schema)))
              .when(value_problems != "", value_problems))
    with_p = parsed.select("_id", "fetched_at", "run_id", "payload", reason.alias("_bad"),
                           F.when(clean, s.dropFields(CORRUPT)).when(~failed, F.expr(value)).alias("p"))
    # no key for a payload that failed, also when the key is not the payload's (kworb_raw: _id)
    key = F.when(F.col("_bad").isNull(), key if key is not None else F.col("p.id"))
    return (with_p.withColumn("key", key)
            .select("_id", "fetched_at", "run_id", "p", "key",
                    F.when(F.col("key").isNull(), F.coalesce("_bad", F.lit(NO_ID))).alias("_reason"),
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


RECCOBEATS_HREF = "open.spotify.com/track/"  # ReccoBeats' href: the Spotify track URL


def features_source() -> F.Column:
    """Where a features payload came from: its explicit ``source`` (file rows), ReccoBeats by its
    ``href`` (Spotify's object has none), else Spotify."""
    return F.coalesce(F.col("p.source"), F.when(F.col("p.href").contains(RECCOBEATS_HREF), F.lit("reccobeats")),
                      F.lit("spotify"))


def silver_feature_music(features: DataFrame) -> DataFrame:
    """Keyed by the landing id (the Spotify track id): a ReccoBeats payload's own ``id`` is its UUID."""
    return features.select(
        F.col("key").alias("track_id"),
        features_source().alias("features_source"),
        *[F.col(f"p.{c}").alias(c) for c in S.FEATURE_COLUMNS],
        F.col("p.duration_ms").alias("duration_ms"),
        _ts().alias("fetched_at"),
    )


def _source_rank(source: F.Column) -> F.Column:
    """Orders sources by preference (GENRE_SOURCES order, then by name): '0spotify' < '1musicbrainz' < '2x'."""
    rank = F.coalesce(*[F.when(source == s, F.lit(str(i))) for i, s in enumerate(GENRE_SOURCES)],
                      F.lit(str(len(GENRE_SOURCES))))
    return F.concat(rank, source)


def silver_artists_genres(genres: DataFrame, artists: DataFrame) -> DataFrame:
    """One row per (artist, genre) with its ``genre_source``.

    An artist's genres: its genres_raw document (Spotify's ``{"id", "genres"}`` or MusicBrainz's,
    ``source`` telling which), plus the Spotify artist object's genres unless that document is
    Spotify's own copy of them. A genre given by two sources is kept once, from the preferred one
    (Spotify before MusicBrainz), so (artist_id, genre) stays unique.
    """
    from_genres = genres.select(F.col("key").alias("artist_id"), F.col("p.genres").alias("genres"),
                                F.coalesce(F.col("p.source"), F.lit("spotify")).alias("genre_source"))
    from_artists = artists.select(F.col("p.id").alias("artist_id"), F.col("p.genres").alias("genres"),
                                  F.lit("spotify").alias("genre_source"))
    spotify_copy = from_genres.where(F.col("genre_source") == "spotify").select("artist_id")
    missing = from_artists.join(spotify_copy, on="artist_id", how="left_anti")
    return (from_genres.unionByName(missing)
            .select("artist_id", F.explode_outer("genres").alias("genre"), "genre_source")
            .select("artist_id", F.trim("genre").alias("genre"), _source_rank(F.col("genre_source")).alias("_rank"))
            .where(F.col("genre").isNotNull() & (F.length("genre") > 0))
            .groupBy("artist_id", "genre").agg(F.min("_rank").alias("_rank"))
            .select("artist_id", "genre", F.substring("_rank", 2, 1 << 16).alias("genre_source")))


# Payload schema and key fields (first non-null wins) of each collection silver parses; genres_raw
# is keyed by artist id and accepts {"id"|"artist_id", "genres", "source"} or a whole artist object.
PAYLOADS: dict[str, tuple[T.StructType, tuple[str, ...]]] = {
    "artists_raw": (S.ARTIST_PAYLOAD, ("p.id",)),
    "albums_raw": (S.ALBUM_PAYLOAD, ("p.id",)),
    "tracks_raw": (S.TRACK_PAYLOAD, ("p.id",)),
    "audio_features_raw": (S.FEATURES_PAYLOAD, ("_id",)),  # the Spotify id, whatever the source's own id
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
