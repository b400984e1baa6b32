"""History tables (issue 14): what changed between refreshes, one row per key and date.

Bronze keeps every fetch (each export appends the documents fetched since the last one) and
silver keeps the latest; these tables keep one row per key and *date* from all of bronze:

- ``silver_artist_snapshots``: artist popularity and followers per refresh date;
- ``silver_track_snapshots``: track popularity per fetch date (extended-mode apps only: development
  mode has no track popularity, and a refresh refetches only new tracks);
- ``kworb_rankings``: kworb's numbers per scrape date, one row per (date, artist, metric);
- ``silver_unavailable``: artists and albums that answered 404 on a refresh, since when;
- ``warehouse_artist_history``: the chart table, popularity/followers beside kworb's numbers.

Several fetches on one date keep the latest, so rerunning a date replaces that date's rows and
never adds or drops a date. Pure transforms; ``spark_jobs.runner`` reads and writes.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs import schemas as S
from spark_jobs import silver
from spark_jobs.schemas import Persist
from spark_jobs.silver import TS_FORMAT

HISTORY_SILVER = ("silver_artist_snapshots", "silver_track_snapshots", "kworb_rankings", "silver_unavailable")
# kworb metric -> warehouse_artist_history column
KWORB_COLUMNS = {"monthly_listeners": "monthly_listeners", "streams_millions": "streams_millions",
                 "daily_streams_millions": "daily_streams_millions"}


def parse_payload(bronze: DataFrame, schema: T.StructType, source: str,
                  key: F.Column | None = None) -> tuple[DataFrame, DataFrame]:
    """(every parsed fetch with a non-null ``key``, quarantined rows): history keeps all fetches, not the
    latest. Silver's one parse (:func:`silver.parse_fetches`) and its quarantine rows."""
    parsed = silver.parse_fetches(bronze, schema, key)
    return parsed.where(F.col("key").isNotNull()), silver.quarantined(parsed, source)


def _ts(col: str = "fetched_at") -> F.Column:
    return F.try_to_timestamp(F.col(col), F.lit(TS_FORMAT))


def latest_per_date(df: DataFrame, key: str, date: str) -> DataFrame:
    """One row per (key, date): the latest fetch of that date wins (then run id, then payload hash)."""
    w = Window.partitionBy(F.col(key), F.col(date)).orderBy(F.col("fetched_at").desc(), F.col("run_id").desc(),
                                                            F.col("_payload_hash").desc())
    return df.withColumn("_rn", F.row_number().over(w)).where("_rn = 1").drop("_rn")


def silver_artist_snapshots(artists: DataFrame) -> DataFrame:
    dated = artists.withColumn("snapshot_date", F.to_date(_ts()))
    return latest_per_date(dated, "key", "snapshot_date").select(
        F.col("p.id").alias("artist_id"),
        "snapshot_date",
        F.col("p.name").alias("artist_name"),
        F.col("p.followers.total").alias("followers"),
        F.col("p.popularity").alias("popularity"),
        _ts().alias("fetched_at"),
    )


def silver_track_snapshots(tracks: DataFrame) -> DataFrame:
    dated = tracks.where(F.col("p.popularity").isNotNull()).withColumn("snapshot_date", F.to_date(_ts()))
    return latest_per_date(dated, "key", "snapshot_date").select(
        F.col("p.id").alias("track_id"), "snapshot_date", F.col("p.popularity").alias("popularity"),
        _ts().alias("fetched_at"),
    )


def kworb_rankings(kworb: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(rankings, quarantine): rows landed with an ``error`` (numbers that did not parse) are quarantined."""
    dated = kworb.withColumn("scrape_date", F.try_to_date(F.col("p.scrape_date"), "yyyy-MM-dd"))
    broken = F.col("p.error").isNotNull() | F.col("scrape_date").isNull() | F.col("p.artist_id").isNull()
    bad = dated.where(broken)
    good = latest_per_date(dated.where(~broken), "key", "scrape_date")
    rankings = (good.select("scrape_date", F.col("p.artist_id").alias("artist_id"),
                            F.col("p.artist_name").alias("artist_name"), F.col("p.page").alias("page"),
                            F.col("p.rank").alias("rank"), F.explode("p.metrics").alias("metric", "value"))
                .where(F.col("value").isNotNull()))
    w = Window.partitionBy("scrape_date", "artist_id", "metric").orderBy(F.col("rank"), F.col("page"))
    rankings = rankings.withColumn("_rn", F.row_number().over(w)).where("_rn = 1").select(
        "scrape_date", "artist_id", "artist_name", "page", "rank", "metric", "value")
    quarantine = bad.select(
        F.lit("kworb_raw").alias("source"), "_id", "fetched_at",
        F.coalesce(F.col("p.error"), F.lit("no scrape date or artist id")).alias("reason"),
        F.to_json("p").alias("payload"),
    )
    return rankings, quarantine


def silver_unavailable(unavailable: DataFrame) -> DataFrame:
    """Since when each artist/album has been answering 404 (the first detection in bronze)."""
    return (unavailable.where(F.col("p.id").isNotNull() & F.col("p.type").isNotNull())
            .groupBy(F.col("p.type").alias("entity_type"), F.col("p.id").alias("entity_id"))
            .agg(F.min(F.to_date(_ts("p.detected_at"))).alias("unavailable_since"),
                 F.max(_ts("p.detected_at")).alias("last_detected_at")))


def warehouse_artist_history(snapshots: DataFrame, rankings: DataFrame) -> DataFrame:
    """Per artist and date: Spotify's popularity/followers beside kworb's numbers (either may be null)."""
    kworb = (rankings.where(F.col("metric").isin(*KWORB_COLUMNS))
             .groupBy(F.col("artist_id"), F.col("scrape_date").alias("snapshot_date"))
             .pivot("metric", list(KWORB_COLUMNS)).agg(F.first("value"))
             .join(rankings.groupBy("artist_id", F.col("scrape_date").alias("snapshot_date"))
                   .agg(F.first("artist_name").alias("kworb_name"),
                        F.min(F.when(F.col("page") == "listeners.html", F.col("rank"))).alias("listeners_rank"),
                        F.min(F.when(F.col("page") == "artists.html", F.col("rank"))).alias("streams_rank")),
                   on=["artist_id", "snapshot_date"], how="inner"))
    joined = snapshots.join(kworb, on=["artist_id", "snapshot_date"], how="full")
    return joined.select(
        "artist_id", "snapshot_date",
        F.coalesce("artist_name", "kworb_name").alias("artist_name"),
        "popularity", "followers",
        F.col("monthly_listeners").cast("long").alias("monthly_listeners"),
        "streams_millions", "daily_streams_millions", "listeners_rank", "streams_rank",
    )


def build_history(bronze: Mapping[str, DataFrame],
                  fetches: Mapping[str, DataFrame] | None = None) -> tuple[dict[str, DataFrame], DataFrame]:
    """The silver-layer history tables and the kworb quarantine from bronze.

    ``fetches``: silver's one parse of every artist and track fetch (``silver.parse_collections``),
    so the payloads silver just parsed are not parsed again; parsed here when not given.
    """
    def every_fetch(collection: str, schema: T.StructType) -> DataFrame:
        if fetches is None:
            return parse_payload(bronze[collection], schema, collection)[0]
        return fetches[collection].where(F.col("key").isNotNull())

    artists, tracks = every_fetch("artists_raw", S.ARTIST_PAYLOAD), every_fetch("tracks_raw", S.TRACK_PAYLOAD)
    kworb, q_kworb = parse_payload(bronze["kworb_raw"], S.KWORB_PAYLOAD, "kworb_raw", key=F.col("_id"))
    unavailable, q_unavailable = parse_payload(bronze["unavailable_raw"], S.UNAVAILABLE_PAYLOAD, "unavailable_raw")
    rankings, q_rankings = kworb_rankings(kworb)
    tables = {
        "silver_artist_snapshots": silver_artist_snapshots(artists),
        "silver_track_snapshots": silver_track_snapshots(tracks),
        "kworb_rankings": rankings,
        "silver_unavailable": silver_unavailable(unavailable),
    }
    return tables, q_kworb.unionByName(q_rankings).unionByName(q_unavailable)


def build_history_step(inputs: Mapping[str, DataFrame], persist=None,
                       fetches: Mapping[str, DataFrame] | None = None) -> dict[str, DataFrame]:
    """The silver history tables plus ``_quarantine_history``."""
    tables, quarantine = build_history(inputs, fetches)
    return {**tables, "_quarantine_history": quarantine}


def build_silver_layer(inputs: Mapping[str, DataFrame], persist: Persist = lambda df: df) -> dict[str, DataFrame]:
    """spark_jobs.steps entry: silver's tables and the history tables from one parse of each collection."""
    fetches = silver.parse_collections(inputs, persist)
    return {**silver.build_silver(inputs, persist, fetches), **build_history_step(inputs, persist, fetches)}


def build_warehouse_history(inputs: Mapping[str, DataFrame], persist=None) -> dict[str, DataFrame]:
    return {"warehouse_artist_history": warehouse_artist_history(inputs["silver_artist_snapshots"],
                                                                 inputs["kworb_rankings"])}
