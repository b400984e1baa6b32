"""The benchmark's Spark-vs-DuckDB comparison: exact after rounding, else per key within a tolerance."""

from __future__ import annotations

from pathlib import Path

import duckdb
from pyspark.sql import types as T

from bench.duckdb_reference import compare
from spark_jobs.schemas import TableSpec

SCHEMA = T.StructType([T.StructField("track_id", T.StringType()), T.StructField("energy", T.DoubleType())])
SPEC = TableSpec("t", "warehouse", "warehouse_layer/t", SCHEMA, ("track_id",), "test", versioned=False)


def _table(root: Path, rows: list[tuple[str, float]]) -> None:
    out = root / SPEC.path
    out.mkdir(parents=True)
    values = ", ".join(f"('{k}', {v!r}::DOUBLE)" for k, v in rows)
    duckdb.sql(f"COPY (SELECT * FROM (VALUES {values}) t(track_id, energy)) TO '{out}/part-0.parquet' (FORMAT parquet)")


def test_values_a_few_ulps_apart_across_a_rounding_boundary_match_within_tolerance(tmp_path) -> None:
    _table(tmp_path / "spark", [("a", 0.1234567895000001), ("b", 2.0)])
    _table(tmp_path / "duck", [("a", 0.1234567894999999), ("b", 2.0)])
    result = compare(tmp_path / "spark", tmp_path / "duck", [SPEC])["t"]
    assert result["identical"] is False                        # rounded to 9 decimals they differ
    assert result["identical_within_tolerance"] is True and result["differ_beyond_tolerance"] == 0


def test_a_real_difference_is_reported(tmp_path) -> None:
    _table(tmp_path / "spark", [("a", 0.5), ("b", 2.0)])
    _table(tmp_path / "duck", [("a", 0.5001), ("b", 2.0)])
    result = compare(tmp_path / "spark", tmp_path / "duck", [SPEC])["t"]
    assert result["identical"] is False and result["identical_within_tolerance"] is False
    assert result["differ_beyond_tolerance"] == 2              # the row, seen from each side


def test_equal_tables_are_identical(tmp_path) -> None:
    _table(tmp_path / "spark", [("a", 0.5), ("b", 2.0)])
    _table(tmp_path / "duck", [("b", 2.0), ("a", 0.5)])
    assert compare(tmp_path / "spark", tmp_path / "duck", [SPEC])["t"]["identical"] is True
