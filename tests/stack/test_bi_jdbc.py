"""Tableau's path into the stack: the Trino JDBC driver of the server's version, used as a BI tool uses it.

A BI tool first reads metadata (catalogs, schemas, tables, one table's columns and their types), then
sends aggregate SQL with quoted identifiers, casts and date functions. The answers must equal DuckDB's
over the very Parquet files Trino read (copied out of HDFS over WebHDFS).
"""

from __future__ import annotations

import duckdb
import pytest

from lake.fs import WebHdfsFS
from spotify_pipeline.stack.jdbc import TRINO_VERSION
from tests.stack.bi import BiClient

# Session setup (stack up + one pipeline run) is charged to the first test: minutes on 2 cores.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

TABLE = '"hive"."warehouse"."warehouse_track_dashboard"'
# What a BI tool generates: quoted identifiers, casts, date functions, GROUP BY ordinals, HAVING, ORDER BY.
QUERIES = {
    "by_genre_year": f"""
        SELECT "primary_genre" AS "genre", year("release_date") AS "yr", COUNT(*) AS "tracks",
               CAST(ROUND(AVG("danceability"), 4) AS DECIMAL(10, 4)) AS "avg_danceability",
               CAST(SUM("duration_min") AS DECIMAL(18, 2)) AS "minutes"
        FROM {TABLE}
        GROUP BY 1, 2 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST""",
    "by_month": f"""
        SELECT CAST(date_trunc('month', "release_date") AS DATE) AS "month",
               COUNT(DISTINCT "album_id") AS "albums", CAST(MAX("tempo") AS DECIMAL(10, 3)) AS "max_tempo"
        FROM {TABLE}
        WHERE "release_date" >= DATE '1990-01-01' AND "explicit" IS NOT NULL
        GROUP BY 1 HAVING COUNT(*) > 0 ORDER BY 1""",
    "by_artist": f"""
        SELECT "artist_name", EXTRACT(YEAR FROM MIN("release_date")) AS "first_year",
               CAST(COUNT(*) AS VARCHAR) AS "n", SUM(CASE WHEN "has_features" THEN 1 ELSE 0 END) AS "with_features",
               CAST(AVG(CAST("popularity" AS DOUBLE)) AS DECIMAL(10, 2)) AS "popularity"
        FROM {TABLE}
        GROUP BY "artist_name" ORDER BY "artist_name" """,
}
BI_SCHEMAS = {"bronze", "silver", "gold", "warehouse"}


@pytest.fixture(scope="module")
def duck(stack, stack_lake, tmp_path_factory):
    """DuckDB over the Parquet files of warehouse_track_dashboard, copied out of HDFS as they are."""
    local = tmp_path_factory.mktemp("dashboard")
    from lake.tables import current_path

    fs = WebHdfsFS(stack.pipeline_env["WEBHDFS_URL"], "/")
    folder = current_path(fs, "warehouse_layer/warehouse_track_dashboard")  # what the metastore points at
    assert folder, "no complete version of /warehouse_layer/warehouse_track_dashboard"
    parts = [n for n in fs.listdir(folder) if n.endswith(".parquet")]
    assert parts, f"no Parquet files in /{folder}"
    for name in parts:
        (local / name).write_bytes(fs.read_bytes(f"{folder}/{name}"))
    con = duckdb.connect()
    con.execute(f"CREATE VIEW warehouse_track_dashboard AS SELECT * FROM read_parquet('{local}/*.parquet')")
    return con


def _as_jdbc_strings(rows: list[tuple]) -> list[list[str | None]]:
    """DuckDB values as ``ResultSet.getString`` renders them (ints, decimals, dates, booleans)."""
    return [[None if v is None else str(v).lower() if isinstance(v, bool) else str(v) for v in row] for row in rows]


def test_metadata_as_a_bi_tool_reads_it(bi: BiClient) -> None:
    md = bi.metadata("hive", "warehouse", "warehouse_track_dashboard")
    assert md["driver"].startswith(f"Trino JDBC Driver {TRINO_VERSION}") and md["product"] == f"Trino {TRINO_VERSION}"
    assert "hive" in md["catalogs"]
    assert set(md["schemas"]) >= BI_SCHEMAS
    tables = set(md["tables"])
    assert {"warehouse.warehouse_track_dashboard", "warehouse.warehouse_track_recommendation",
            "gold.gold_track_metadata", "silver.tracks_data", "bronze.tracks_raw"} <= tables
    columns = {name: (type_name, jdbc_type) for name, type_name, jdbc_type in md["columns"]}
    # Types as the generated DDL says (STRING/INT/DOUBLE/DATE/BOOLEAN/ARRAY<STRING>), seen through JDBC.
    assert columns["track_id"] == ("varchar", 12)              # java.sql.Types.VARCHAR
    assert columns["release_date"] == ("date", 91)             # DATE
    assert columns["release_year"] == ("integer", 4)           # INTEGER
    assert columns["danceability"] == ("double", 8)            # DOUBLE
    assert columns["explicit"] == ("boolean", 16)              # BOOLEAN
    assert columns["genres"] == ("array(varchar)", 2003)       # ARRAY
    assert [c[0] for c in md["columns"]][:5] == ["track_id", "track_name", "artist_id", "artist_name", "album_id"]


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_aggregates_equal_duckdb_over_the_same_files(bi: BiClient, duck, name: str) -> None:
    sql = QUERIES[name]
    got = bi.query(sql)
    expected = duck.execute(sql.replace(TABLE, "warehouse_track_dashboard")).fetchall()
    assert got["rows"], f"{name}: Trino returned no rows"
    assert got["rows"] == _as_jdbc_strings(expected)
    assert len(got["columns"]) == len(expected[0])


def test_a_query_error_is_one_sqlexception(bi: BiClient) -> None:
    from tests.stack.bi import JdbcError

    with pytest.raises(JdbcError, match="nope"):
        bi.query(f'SELECT "nope" FROM {TABLE}')
