"""Data-quality checks over the lake: keys, references, reconciliation, ranges, sources, freshness.

Each check is a small function returning :class:`CheckResult`, computed with aggregates (a few
example ids at most come back to the driver). ``spotify-pipeline check`` prints one line per
check and exits 1 when any fails.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial, reduce

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lake.layout import LANDING_COUNTS
from spark_jobs.schemas import BRONZE_COLLECTIONS, QUARANTINE, TABLES, tables_in
from spark_jobs.session import SparkIO, lake_path, path_exists, read_table, table_location
from spotify_pipeline.settings import Settings
from spotify_pipeline.vocabulary import FEATURE_SOURCES, GENRE_SOURCES

# Documented ranges of Spotify's audio features (time_signature: 3..7; key -1 = not detected).
FEATURE_RANGES: dict[str, tuple[float, float]] = {
    "danceability": (0.0, 1.0), "energy": (0.0, 1.0), "speechiness": (0.0, 1.0), "acousticness": (0.0, 1.0),
    "instrumentalness": (0.0, 1.0), "liveness": (0.0, 1.0), "valence": (0.0, 1.0), "key": (-1, 11),
    "mode": (0, 1), "loudness": (-60.0, 5.0), "tempo": (0.0, 300.0), "time_signature": (0, 7),
}
CHECK_THREADS = 4  # checks whose Spark jobs run at once
SILVER_SOURCE = {"artists_raw": "silver_artists", "albums_raw": "silver_album",
                 "audio_features_raw": "silver_feature_music"}


@dataclass
class CheckResult:
    name: str
    table: str
    passed: bool
    observed: str
    expected: str
    examples: list[str] = field(default_factory=list)

    def line(self) -> str:
        ex = f" e.g. {', '.join(self.examples)}" if self.examples else ""
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name:<22} {self.table:<32} {self.observed} " \
               f"(expected {self.expected}){ex}"


Check = Callable[[], "CheckResult | list[CheckResult]"]


@dataclass
class QualityReport:
    results: list[CheckResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def text(self) -> str:
        failed = sum(not r.passed for r in self.results)
        lines = [r.line() for r in self.results]
        lines.append(f"{len(self.results) - failed} passed, {failed} failed")
        return "\n".join(lines)


def _examples(df: DataFrame, col: str) -> list[str]:
    return [str(r[0]) for r in df.select(col).limit(5).collect()]


def check_primary_keys(tables: Sequence[tuple[str, DataFrame, tuple[str, ...]]]) -> list[CheckResult]:
    """Duplicated and null keys of every table in one Spark job (examples only for a failing table).

    The keys of all tables are unioned and grouped once: one job per table would spend most of its
    time being planned, scheduled and compiled.
    """
    sep = "\u001f"  # between the parts of a composite key; never inside an id
    parts = []
    for table, df, key in tables:
        null_key = reduce(lambda acc, c: acc | F.col(c).isNull(), key, F.lit(False))
        parts.append(df.select(F.lit(table).alias("table"), F.concat_ws(sep, *[F.col(c).cast("string") for c in key])
                               .alias("k"), F.col(key[0]).cast("string").alias("example"), null_key.alias("_null")))
    groups = (reduce(DataFrame.unionByName, parts).groupBy("table", "k", "_null")
              .agg(F.count(F.lit(1)).alias("n"), F.first("example").alias("example")))
    found = {row["table"]: row for row in groups.groupBy("table").agg(
        F.sum(F.when(~F.col("_null") & (F.col("n") > 1), 1).otherwise(0)).alias("dups"),
        F.sum(F.when(F.col("_null"), F.col("n")).otherwise(0)).alias("nulls")).collect()}  # one row per table
    results = []
    for table, _, key in tables:
        row = found.get(table)
        n_dups, nulls = (int(row["dups"] or 0), int(row["nulls"] or 0)) if row else (0, 0)
        ok = nulls == 0 and n_dups == 0
        examples = [] if ok else _examples(
            groups.where((F.col("table") == table) & ~F.col("_null") & (F.col("n") > 1)), "example")
        results.append(CheckResult("primary_key", table, ok, f"{n_dups} duplicated keys, {nulls} null keys",
                                   f"unique non-null {', '.join(key)}", examples))
    return results


def check_primary_key(df: DataFrame, table: str, key: tuple[str, ...]) -> CheckResult:
    return check_primary_keys([(table, df, key)])[0]


def check_reference(child: DataFrame, child_table: str, col: str, parent: DataFrame, parent_table: str,
                    parent_col: str) -> CheckResult:
    orphans = (child.where(F.col(col).isNotNull()).select(col)
               .join(parent.select(F.col(parent_col).alias(col)), on=col, how="left_anti"))
    n = orphans.count()
    return CheckResult("reference", f"{child_table}.{col}", n == 0, f"{n} rows whose {col} is not in {parent_table}",
                       "0", [] if n == 0 else _examples(orphans, col))


def check_equal_counts(name: str, table: str, observed: int, expected: int, what: str) -> CheckResult:
    return CheckResult(name, table, observed == expected, f"{observed} {what}", str(expected))


def check_no_lost_ids(source: DataFrame, source_col: str, target: DataFrame, target_col: str, name: str,
                      table: str) -> CheckResult:
    lost = source.select(F.col(source_col).alias("id")).join(
        target.select(F.col(target_col).alias("id")), on="id", how="left_anti")
    n = lost.count()
    return CheckResult(name, table, n == 0, f"{n} ids lost", "0", [] if n == 0 else _examples(lost, "id"))


def check_feature_ranges(features: DataFrame, table: str) -> list[CheckResult]:
    aggs = [F.sum(F.when((F.col(c) < lo) | (F.col(c) > hi), 1).otherwise(0)).alias(c)
            for c, (lo, hi) in FEATURE_RANGES.items()]
    row = features.agg(*aggs).first()
    return [CheckResult("feature_range", f"{table}.{c}", (row[c] or 0) == 0, f"{row[c] or 0} out of range",
                        f"[{lo}, {hi}]") for c, (lo, hi) in FEATURE_RANGES.items()]


def check_allowed_values(df: DataFrame, table: str, col: str, allowed: Sequence[str]) -> CheckResult:
    """Every row's ``col`` is one of ``allowed``; a null counts as outside (a row without its source)."""
    outside = df.where(F.col(col).isNull() | ~F.col(col).isin(*allowed))
    n = outside.count()
    return CheckResult("allowed_values", f"{table}.{col}", n == 0, f"{n} rows outside {', '.join(allowed)}", "0",
                       [] if n == 0 else [str(v) for v in _examples(outside, col)])


def check_sources(t: Mapping[str, DataFrame]) -> list[CheckResult]:
    """Provenance: every feature row names its source, every genre row too, and the warehouse
    names one for each track that has features."""
    dash = t["warehouse_track_dashboard"].where(F.col("has_features"))
    return [check_allowed_values(t["silver_feature_music"], "silver_feature_music", "features_source",
                                 FEATURE_SOURCES),
            check_allowed_values(t["silver_artists_genres"], "silver_artists_genres", "genre_source", GENRE_SOURCES),
            check_allowed_values(dash, "warehouse_track_dashboard", "features_source", FEATURE_SOURCES)]


def check_freshness(df: DataFrame, table: str, max_age: timedelta, now: datetime) -> CheckResult:
    newest = df.agg(F.max("fetched_at")).first()[0]
    if newest is None:
        return CheckResult("freshness", table, False, "no rows", f"newest fetch within {max_age}")
    if newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    age = now - newest
    return CheckResult("freshness", table, age <= max_age, f"newest fetch {age.total_seconds() / 3600:.1f} h old",
                       f"<= {max_age.total_seconds() / 3600:.0f} h")


def check_history_dates(t: dict[str, DataFrame]) -> list[CheckResult]:
    """Every (artist, date) fetched into bronze has its snapshot row, every kworb row its rankings:
    a rerun that replaced a date's rows must not have dropped any (one row per key and date is the
    primary-key check of these tables)."""
    from spark_jobs.silver import TS_FORMAT

    day = F.to_date(F.try_to_timestamp(F.col("fetched_at"), F.lit(TS_FORMAT)))
    fetched = (t["artists_raw"].select(F.concat_ws("|", F.get_json_object("payload", "$.id"),
                                                   day.cast("string")).alias("k"))
               .where(F.get_json_object("payload", "$.id").isNotNull()).distinct())
    snapshots = t["silver_artist_snapshots"].select(
        F.concat_ws("|", "artist_id", F.col("snapshot_date").cast("string")).alias("k"))
    scraped = (t["kworb_raw"]
               .where(F.get_json_object("payload", "$.error").isNull()
                      & (F.get_json_object("payload", "$.metrics") != "{}"))
               .select(F.concat_ws("|", F.get_json_object("payload", "$.scrape_date"),
                                   F.get_json_object("payload", "$.artist_id")).alias("k")).distinct())
    ranked = t["kworb_rankings"].select(
        F.concat_ws("|", F.col("scrape_date").cast("string"), "artist_id").alias("k"))
    return [check_no_lost_ids(fetched, "k", snapshots, "k", "history_dates", "silver_artist_snapshots"),
            check_no_lost_ids(scraped, "k", ranked, "k", "history_dates", "kworb_rankings")]


def read_landing_counts(spark: SparkSession, settings: Settings) -> dict[str, int] | None:
    """Landing document counts recorded by the last export, read from the lake (file:// or hdfs://)."""
    path = lake_path(settings, LANDING_COUNTS)
    if not path_exists(spark, path):
        return None
    return json.loads(spark.read.text(path, wholetext=True).first()[0])


def run_checks(spark: SparkSession, settings: Settings, max_age: timedelta = timedelta(days=7)) -> QualityReport:
    """Every check over the lake alone: tables, quarantine and the landing counts beside the watermark."""
    results: list[CheckResult] = []
    landing_counts = read_landing_counts(spark, settings)
    if landing_counts is None:
        results.append(CheckResult("landing_to_bronze", "bronze_layer", False, "no landing counts in the lake",
                                   f"{LANDING_COUNTS} written by `spotify-pipeline export`"))
    present = {name: table_location(spark, settings, spec) is not None for name, spec in TABLES.items()}
    for name, ok in present.items():
        if not ok and TABLES[name].layer != "bronze":
            results.append(CheckResult("exists", name, False, "table missing", "written by transform"))
    t = {name: read_table(spark, settings, spec) for name, spec in TABLES.items()}
    keyed = [(spec.name, t[spec.name], spec.primary_key)
             for layer in ("silver", "gold", "warehouse") for spec in tables_in(layer) if present[spec.name]]
    checks: list[Check] = [
        partial(check_primary_keys, keyed),
        partial(check_reference, t["tracks_data"], "tracks_data", "album_id", t["silver_album"], "silver_album",
                "album_id"),
        partial(check_reference, t["tracks_data"], "tracks_data", "artist_id", t["silver_artists"],
                "silver_artists", "artist_id"),
        partial(check_reference, t["silver_artists_genres"], "silver_artists_genres", "artist_id",
                t["silver_artists"], "silver_artists", "artist_id"),
        partial(check_reference, t["silver_feature_music"], "silver_feature_music", "track_id", t["tracks_data"],
                "tracks_data", "track_id"),
    ]
    quarantine_path = table_location(spark, settings, QUARANTINE)
    quarantined = spark.read.parquet(quarantine_path).select("source", "_id") if quarantine_path else None
    for collection in BRONZE_COLLECTIONS:
        bronze_ids = t[collection].select("_id").distinct()
        if landing_counts is not None:
            checks.append(lambda ids=bronze_ids, c=collection: check_equal_counts(
                "landing_to_bronze", c, ids.count(), landing_counts.get(c, 0), "distinct ids in bronze"))
        if collection in SILVER_SOURCE:
            good = bronze_ids
            if quarantined is not None:
                good = good.join(quarantined.where(F.col("source") == collection).select("_id"), on="_id",
                                 how="left_anti")
            checks.append(partial(check_no_lost_ids, good, "_id", t[SILVER_SOURCE[collection]],
                                  TABLES[SILVER_SOURCE[collection]].primary_key[0],
                                  "bronze_to_silver", SILVER_SOURCE[collection]))
    checks += [
        partial(check_no_lost_ids, t["tracks_raw"].select("_id").distinct(), "_id", t["tracks_data"], "track_id",
                "bronze_to_silver", "tracks_data"),
        partial(check_no_lost_ids, t["tracks_data"], "track_id", t["gold_track_metadata"], "track_id",
                "silver_to_gold", "gold_track_metadata"),
        partial(check_no_lost_ids, t["gold_track_metadata"], "track_id", t["warehouse_track_dashboard"],
                "track_id", "gold_to_warehouse", "warehouse_track_dashboard"),
        lambda: check_equal_counts("row_count", "gold_track_metadata", t["gold_track_metadata"].count(),
                                   t["tracks_data"].count(), "rows (tracks_data rows)"),
        partial(check_feature_ranges, t["silver_feature_music"], "silver_feature_music"),
        partial(check_sources, t),
        partial(check_history_dates, t),
    ]
    now = datetime.now(UTC)
    checks += [partial(check_freshness, t[name], name, max_age, now) for name in ("silver_artists", "tracks_data")]
    return QualityReport(results + run_concurrently(checks))


def run_concurrently(checks: list[Check], threads: int = CHECK_THREADS) -> list[CheckResult]:
    """Run the checks from a few driver threads (Spark schedules their jobs side by side), results in order.

    Most checks are one small aggregate; run one after another, each waits for its job's planning,
    scheduling and code generation while the cores idle.
    """
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="quality") as pool:
        done = list(pool.map(lambda check: check(), checks))
    return [r for result in done for r in (result if isinstance(result, list) else [result])]


def save_report(report: QualityReport, settings: Settings) -> None:
    """Keep the last report as JSON under DATA_DIR/reports (the demo summary reads it)."""
    out = settings.data_dir / "reports" / "quality.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"passed": report.passed, "results": [asdict(r) for r in report.results]}, indent=2))


def run(args: argparse.Namespace, settings: Settings) -> int:
    """CLI handler of ``spotify-pipeline check``."""
    with SparkIO(settings, app_name="spotify-quality") as spark:
        report = run_checks(spark, settings, timedelta(hours=args.max_age_hours))
    save_report(report, settings)
    if args.json:
        print(json.dumps({"passed": report.passed, "results": [asdict(r) for r in report.results]}, indent=2))
    else:
        print(report.text())
    return 0 if report.passed else 1
