"""The data-quality check functions on hand-written frames (the planted-lake test covers run_checks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from spark_jobs import quality


def test_primary_key_counts_duplicated_and_null_keys(spark) -> None:
    df = spark.createDataFrame([("a", "x"), ("a", "x"), ("b", "x"), (None, "x"), ("c", None), ("c", "y")],
                               "id string, g string")
    single = quality.check_primary_key(df, "t", ("id",))
    assert (single.passed, single.observed, sorted(single.examples)) == (False, "2 duplicated keys, 1 null keys",
                                                                         ["a", "c"])
    pair = quality.check_primary_key(df, "t", ("id", "g"))
    assert (pair.passed, pair.observed) == (False, "1 duplicated keys, 2 null keys")
    clean = quality.check_primary_key(df.where("id = 'b'"), "t", ("id",))
    assert (clean.passed, clean.observed, clean.examples) == (True, "0 duplicated keys, 0 null keys", [])


def test_freshness_and_ranges_at_their_bounds(spark) -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    df = spark.createDataFrame([(datetime(2026, 11, 24, 12),)], "fetched_at timestamp")
    assert quality.check_freshness(df, "t", timedelta(days=1), now).passed
    assert not quality.check_freshness(df, "t", timedelta(hours=23), now).passed
    feats = spark.createDataFrame([(1.0, -60.0, 300.0), (0.0, 5.0, 0.0)], "danceability double, loudness double, "
                                  "tempo double")
    for c in quality.FEATURE_RANGES:
        if c not in feats.columns:
            feats = feats.withColumn(c, feats["danceability"] * 0)
    assert all(r.passed for r in quality.check_feature_ranges(feats, "f"))
    over = feats.withColumn("tempo", feats["tempo"] + 0.5)
    assert [r.table for r in quality.check_feature_ranges(over, "f") if not r.passed] == ["f.tempo"]
