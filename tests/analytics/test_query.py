from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics.query import format_table, run_query
from lake.versions import new_version
from spotify_core.errors import PipelineError
from spotify_core.settings import load_settings
from spotify_pipeline.cli import main
from tests.lake_tables import write_version

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path):
    table = write_version(tmp_path / "lake" / "gold_layer" / "gold_track_metadata", new_version(T0))
    pq.write_table(pa.table({"track_id": ["t1", "t2"], "artist_name": ["Beyoncé", "Drake"],
                             "genres": [["pop"], []]}), table / "part-00000.parquet")
    (table / "._SUCCESS.crc").write_bytes(b"\x00crc")  # what Spark leaves beside its output
    return load_settings({"DATA_DIR": str(tmp_path)})


def test_views_read_the_current_version_only(settings, tmp_path: Path) -> None:
    """Kept older versions and a write in flight (no _SUCCESS yet) are not part of the table."""
    table = tmp_path / "lake" / "gold_layer" / "gold_track_metadata"
    older = write_version(table, new_version(T0 - timedelta(hours=1)))
    pq.write_table(pa.table({"track_id": ["old"], "artist_name": ["Old"], "genres": [[]]}), older / "part-0.parquet")
    in_flight = table / new_version(T0 + timedelta(hours=1))
    in_flight.mkdir()
    pq.write_table(pa.table({"track_id": ["new"], "artist_name": ["New"], "genres": [[]]}), in_flight / "part-0.parquet")
    assert run_query(settings, "SELECT track_id FROM gold_track_metadata ORDER BY 1")[1] == [("t1",), ("t2",)]
    (in_flight / "_SUCCESS").write_text("")  # the write completes: the next connection reads it alone
    assert run_query(settings, "SELECT track_id FROM gold_track_metadata ORDER BY 1")[1] == [("new",)]


def test_views_by_table_name_and_schema(settings) -> None:
    cols, rows = run_query(settings, "SELECT track_id, artist_name FROM gold_track_metadata ORDER BY 1")
    assert cols == ["track_id", "artist_name"] and rows == [("t1", "Beyoncé"), ("t2", "Drake")]
    assert run_query(settings, "SELECT count(*) FROM gold.gold_track_metadata")[1] == [(2,)]


def test_bad_sql_is_one_clear_error(settings) -> None:
    with pytest.raises(PipelineError, match="DuckDB: .*silver_artists"):
        run_query(settings, "SELECT * FROM silver_artists")


def test_hdfs_lake_needs_trino(settings) -> None:
    with pytest.raises(PipelineError, match="set TRINO_HOST"):
        run_query(settings.replace(lake_uri="hdfs://namenode:8020"), "SELECT 1")


def test_formats(settings, monkeypatch, capsys) -> None:
    from spotify_core.settings import get_settings

    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    try:
        assert main(["query", "SELECT track_id, genres FROM gold_track_metadata ORDER BY 1", "--format", "json"]) == 0
        assert main(["query", "SELECT nope"]) == 1
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr()
    assert out.out.splitlines() == ['{"track_id": "t1", "genres": ["pop"]}', '{"track_id": "t2", "genres": []}']
    assert out.err.count("\n") == 1
    assert format_table(["a", "b"], [(1, None)]).splitlines() == ["a | b   ", "--+-----", "1 | NULL"]
