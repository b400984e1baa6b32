"""Publishing a table is atomic for readers: versioned folders (lake/versions.py) and one-line catalog failures."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from analytics.query import run_query
from lake import versions
from spark_jobs.schemas import TABLES
from spark_jobs.table_io import read_table, table_location, write_table
from spotify_core.settings import load_settings
from tests.spark.metastore_harness import StandaloneMetastore, free_port

SPEC = TABLES["silver_artists_genres"]  # (artist_id, genre, genre_source): small enough to write by hand
OLD = [("a1", "pop", "spotify"), ("a2", "rock", "musicbrainz")]
NEW = [("b1", "jazz", "musicbrainz")]


def _version_dirs(table: Path) -> list[Path]:
    return sorted(p for p in table.iterdir() if versions.is_version(p.name)) if table.exists() else []


def _rows(spark, settings) -> list[tuple]:
    return sorted(tuple(r) for r in read_table(spark, settings, SPEC).collect())


def test_a_rewrite_leaves_the_previous_version_readable_until_the_new_one_completes(spark, tmp_path) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path)})
    table = tmp_path / "lake" / SPEC.path
    first = write_table(spark.createDataFrame(OLD, SPEC.schema), settings, SPEC)
    assert table_location(spark, settings, SPEC) == first and _rows(spark, settings) == OLD

    gate = tmp_path / "gate"

    @F.udf("string")
    def held(genre):  # noqa: ANN001, ANN202 - type hints would make Spark guess an Arrow UDF; runs in a Python worker: holds the write open until the test lets go
        deadline = time.monotonic() + 120
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return genre

    new = spark.createDataFrame(NEW, SPEC.schema).withColumn("genre", held("genre"))
    written: list[str] = []
    writer = threading.Thread(target=lambda: written.append(write_table(new, settings, SPEC)))
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while len(_version_dirs(table)) < 2:
            assert time.monotonic() < deadline and writer.is_alive(), "the second write never started"
            time.sleep(0.05)
        in_flight = _version_dirs(table)[-1]
        # Mid-write: every reader still sees exactly the old version.
        assert not (in_flight / versions.SUCCESS).exists()
        assert table_location(spark, settings, SPEC) == first
        assert _rows(spark, settings) == OLD
        assert run_query(settings, "SELECT count(*) FROM silver_artists_genres")[1] == [(len(OLD),)]
    finally:
        gate.touch()
        writer.join(120)
    assert written and written[0].endswith(in_flight.name)
    assert table_location(spark, settings, SPEC) == written[0]
    assert _rows(spark, settings) == NEW
    assert run_query(settings, "SELECT count(*) FROM silver_artists_genres")[1] == [(len(NEW),)]
    assert [p.name for p in _version_dirs(table)] == [Path(first).name, in_flight.name]  # previous one kept

    third = write_table(spark.createDataFrame(OLD, SPEC.schema), settings, SPEC)
    assert [p.name for p in _version_dirs(table)] == [in_flight.name, Path(third).name]  # oldest pruned
    assert _rows(spark, settings) == OLD


def test_a_failed_attempt_is_never_current_and_is_pruned_by_the_next_write(spark, tmp_path) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path)})
    table = tmp_path / "lake" / SPEC.path
    first = write_table(spark.createDataFrame(OLD, SPEC.schema), settings, SPEC)
    failed = table / versions.new_version()  # what a killed job leaves: parts, no _SUCCESS
    failed.mkdir()
    for part in Path(first.removeprefix("file://")).glob("part-*.parquet"):
        (failed / part.name).write_bytes(part.read_bytes())
    assert table_location(spark, settings, SPEC) == first
    second = write_table(spark.createDataFrame(NEW, SPEC.schema), settings, SPEC)
    assert [p.name for p in _version_dirs(table)] == [Path(first).name, Path(second).name]
    assert _rows(spark, settings) == NEW


def _no_trace(lines: list[str]) -> None:
    traces = [line for line in lines if line.startswith(("\tat ", "Caused by:", "Traceback"))]
    assert traces == [], "\n".join(traces[:5])


@pytest.mark.system  # a real Hive metastore
def test_metastore_killed_during_register_is_one_line_and_exit_1(tmp_path) -> None:
    """Killed after the first table (connections open): one line too, not the thrift socket's stack traces."""
    with StandaloneMetastore(tmp_path / "hms") as metastore:
        env = {**os.environ, "DATA_DIR": str(tmp_path / "client"), "HIVE_METASTORE_URI": metastore.uri}
        register = subprocess.Popen([sys.executable, "-m", "spotify_pipeline", "register"], env=env, cwd=tmp_path,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: list[str] = []
        try:
            for line in register.stderr:  # an empty lake: one "not registered" line per table
                lines.append(line.rstrip("\n"))
                if "spark_jobs.catalog: " in line and metastore.proc.poll() is None:
                    metastore.proc.kill()
            register.wait(timeout=300)
        finally:
            if register.poll() is None:
                register.kill()
    assert register.returncode == 1, lines[-20:]
    assert lines[-1].startswith(f"spotify-pipeline register: error: Hive metastore {metastore.uri} unreachable ("), lines[-1]
    _no_trace(lines)


def test_register_with_the_metastore_down_is_one_line_and_exit_1(tmp_path) -> None:
    """Down from the start: said before Spark starts, and nothing was registered."""
    env = {**os.environ, "DATA_DIR": str(tmp_path), "HIVE_METASTORE_URI": f"thrift://127.0.0.1:{free_port()}"}
    proc = subprocess.run([sys.executable, "-m", "spotify_pipeline", "register"], env=env, capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("spotify-pipeline register: error: Hive metastore thrift://127.0.0.1:"), lines[-1]
    assert "unreachable (Connection refused); nothing registered" in lines[-1]
    assert not any("SparkContext" in line or "spark_jobs.catalog" in line for line in lines), lines
    _no_trace(lines)
