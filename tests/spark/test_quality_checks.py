"""The data-quality checks on hand-written frames (the planted-lake test covers run_checks).

The declared checks are generated from the table specs: a violation of each kind planted in a
tiny table must fail exactly that kind's check, so a generator that forgets a kind turns this red.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pyspark.sql import types as T

from spark_jobs import quality
from spark_jobs.schemas import FEATURE_RANGES, TABLES, Allowed, TableSpec

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


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
    fetched = TableSpec("t", "silver", "t", T.StructType([T.StructField("fetched_at", T.TimestampType())]), (), "",
                        fresh_by="fetched_at")
    df = spark.createDataFrame([(datetime(2026, 11, 24, 12),)], fetched.schema)
    assert quality.check_columns([(fetched, df)], timedelta(days=1), NOW)[0].passed
    assert not quality.check_columns([(fetched, df)], timedelta(hours=23), NOW)[0].passed
    assert quality.check_columns([(fetched, df.where("false"))], timedelta(days=1), NOW)[0].observed == "no rows"
    feats = spark.createDataFrame([(1.0, -60.0, 300.0), (0.0, 5.0, 0.0)], "danceability double, loudness double, "
                                  "tempo double")
    for c in FEATURE_RANGES:
        if c not in feats.columns:
            feats = feats.withColumn(c, feats["danceability"] * 0)
    spec = TableSpec("f", "silver", "f", feats.schema, (), "", ranges=FEATURE_RANGES)
    assert all(r.passed for r in quality.check_columns([(spec, feats)]))
    over = feats.withColumn("tempo", feats["tempo"] + 0.5)
    assert [(r.name, r.table) for r in quality.check_columns([(spec, over)]) if not r.passed] == [
        ("feature_range", "f.tempo")]


PARENT = TableSpec("parent", "silver", "p", T.StructType([T.StructField("pid", T.StringType())]), ("pid",), "")
CHILD = TableSpec(
    "child", "silver", "c",
    T.StructType([T.StructField("id", T.StringType()), T.StructField("pid", T.StringType()),
                  T.StructField("name", T.StringType()), T.StructField("source", T.StringType()),
                  T.StructField("has_source", T.BooleanType()), T.StructField("score", T.IntegerType()),
                  T.StructField("fetched_at", T.TimestampType())]),
    ("id",), "", references={"pid": "parent.pid"}, not_null=("name",),
    allowed={"source": Allowed(("a", "b"), when="has_source")}, ranges={"score": (0, 100)}, fresh_by="fetched_at")
RECENT = datetime(2026, 11, 25, 11)
CLEAN = [("1", "p1", "x", "a", True, 0, RECENT), ("2", None, "y", None, False, 100, RECENT),
         ("3", "p1", "z", "b", True, None, RECENT)]
# One violation per kind of declared check, and the (name, table) of the check that must catch it.
PLANTED = {
    "duplicate key": ([*CLEAN, CLEAN[0]], ("primary_key", "child")),
    "dangling reference": ([*CLEAN[1:], ("1", "p9", "x", "a", True, 0, RECENT)], ("reference", "child.pid")),
    "null": ([*CLEAN[1:], ("1", "p1", None, "a", True, 0, RECENT)], ("not_null", "child.name")),
    "disallowed value": ([*CLEAN[1:], ("1", "p1", "x", "c", True, 0, RECENT)], ("allowed_values", "child.source")),
    "missing value where required": ([*CLEAN[1:], ("1", "p1", "x", None, True, 0, RECENT)],
                                     ("allowed_values", "child.source")),
    "out of range": ([*CLEAN[1:], ("1", "p1", "x", "a", True, 101, RECENT)], ("range", "child.score")),
    "stale": ([(*row[:-1], datetime(2026, 1, 1)) for row in CLEAN], ("freshness", "child")),
}


def _declared(spark, rows: list[tuple]) -> list[quality.CheckResult]:
    t = {"parent": spark.createDataFrame([("p1",)], PARENT.schema),
         "child": spark.createDataFrame(rows, CHILD.schema)}
    return quality.run_concurrently(quality.declared_checks(t, [PARENT, CHILD], timedelta(days=1), NOW))


def test_declared_checks_pass_on_a_clean_table(spark) -> None:
    results = _declared(spark, CLEAN)
    assert all(r.passed for r in results), [r.line() for r in results if not r.passed]
    assert {r.name for r in results} == {"primary_key", "reference", "not_null", "allowed_values", "range",
                                         "freshness"}


@pytest.mark.parametrize("kind", PLANTED)
def test_each_kind_of_declared_check_fails_on_its_planted_violation(spark, kind) -> None:
    rows, expected = PLANTED[kind]
    assert [(r.name, r.table) for r in _declared(spark, rows) if not r.passed] == [expected]


def test_a_reference_to_a_table_never_written_is_left_to_the_exists_check(spark) -> None:
    t = {"child": spark.createDataFrame(CLEAN, CHILD.schema)}
    results = quality.run_concurrently(quality.declared_checks(t, [CHILD], timedelta(days=1), NOW))
    assert "reference" not in {r.name for r in results} and all(r.passed for r in results)


def test_a_declaration_naming_a_column_outside_the_schema_is_refused() -> None:
    with pytest.raises(ValueError, match=r"declared columns not in its schema: \['nme'\]"):
        TableSpec("t", "silver", "t", PARENT.schema, ("pid",), "", not_null=("nme",))


def test_every_declared_reference_names_a_registered_column() -> None:
    refs = [(spec.name, col, target) for spec in TABLES.values() for col, target in spec.references.items()]
    assert len(refs) >= 10
    for table, col, target in refs:
        parent, parent_col = target.split(".")
        assert parent_col in TABLES[parent].schema.fieldNames(), (table, col, target)
        assert TABLES[parent].layer != "bronze", (table, col, target)
