"""Crawl -> export -> Spark layers on a small sample catalog: idempotency, DQ, DDL, catalog."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest

from analytics.query import run_query
from crawler.landing.base import LandingDocument
from crawler.landing.sqlite import SQLiteLandingStore
from lake.export import export_landing
from lake.fs import LocalFS, open_lake
from lake.tables import list_versions
from spark_jobs import quality
from spark_jobs.runner import run_layers
from spark_jobs.schemas import TABLES
from spark_jobs.table_io import read_table, write_table
from spotify_core.settings import environment_for, load_settings
from spotify_pipeline.cli import main
from tests.lake_tables import current_folder, parquet
from tests.spark.metastore_harness import StandaloneMetastore

ROOT = Path(__file__).resolve().parents[2]


def snapshot(settings) -> dict[str, list]:
    root = settings.lake_uri.removeprefix("file://")
    out = {}
    for name, spec in TABLES.items():
        if spec.layer in ("silver", "gold", "warehouse"):
            out[name] = duckdb.sql(f"SELECT * FROM {parquet(root, spec.path)} ORDER BY ALL"
                                   ).fetchall()
    return out


@pytest.fixture(scope="module")
def lake(sample_lake, tmp_path_factory):
    """This module's copy of the session's sample lake: the rerun checks build it again in place. Without
    its reports folder, where another worker's report test may be writing (tests/analytics/test_report.py)."""
    copy = tmp_path_factory.mktemp("pipeline") / "data"
    shutil.copytree(sample_lake.settings.data_dir, copy, ignore=shutil.ignore_patterns("reports"))
    settings = sample_lake.settings.replace(data_dir=copy, lake_uri=f"file://{copy}/lake")
    return settings, sample_lake.counts, sample_lake.catalog


def test_layers_row_counts(lake) -> None:
    settings, counts, catalog = lake
    assert counts["tracks_data"] == counts["gold_track_metadata"] == counts["warehouse_track_dashboard"]
    # an album credited to several artists is in each one's listing: count it once
    albums = {a for i in range(catalog.n_artists) for a, _ in catalog.artist_albums(i, ("album", "single", "compilation"))}
    assert counts["tracks_data"] == sum(catalog.album_track_count(a) for a in albums)
    assert counts["silver_artists"] == catalog.n_artists and counts["_quarantine"] == 0


def test_a_rebuild_two_writes_at_a_time_gives_identical_tables(spark, lake) -> None:
    """Every layer built again in place gives the same rows (idempotent overwrites), also with
    ``write_threads=2`` (the benchmark's A/B) instead of the one write at a time the sample lake was
    built with; each versioned table then keeps two versions, and readers count one of them."""
    from spark_jobs.runner import run_layer
    from spark_jobs.steps import layer_order

    settings, counts, _ = lake
    before = snapshot(settings)
    again: dict[str, int] = {}
    for layer in layer_order():
        run_layer(spark, settings, layer, again, write_threads=2)
    assert snapshot(settings) == before
    assert again == counts
    root = Path(settings.lake_uri.removeprefix("file://"))
    for spec in TABLES.values():
        if spec.versioned:
            assert len(list_versions(LocalFS(root), spec.path)[0]) == 2, spec.name
    for table in ("warehouse_track_dashboard", "tracks_data", "gold_track_metadata"):
        assert run_query(settings, f"SELECT count(*) FROM {table}")[1] == [(counts[table],)], table


def test_duplicates_in_landing_latest_fetch_wins(spark, lake, tmp_path) -> None:
    settings, _, catalog = lake
    copy = tmp_path / "data"
    shutil.copytree(settings.data_dir, copy)
    s2 = settings.replace(data_dir=copy, lake_uri=f"file://{copy}/lake")
    artist_id = catalog.artist_id(0)
    with SQLiteLandingStore(s2.landing_sqlite_path) as store:
        payload = {**catalog.artist(0, "http://x/v1"), "name": "Renamed"}
        store.upsert("artists_raw", [LandingDocument(artist_id, payload, "2099-01-01T00:00:00.000000Z", "later")])
        assert export_landing(store, open_lake(s2)).rows["artists_raw"] == 1
    run_layers(s2, ["silver"])
    rows = duckdb.sql(f"SELECT artist_name FROM {parquet(copy / 'lake', 'silver_layer/silver_artists')} "
                      f"WHERE artist_id = '{artist_id}'").fetchall()
    assert rows == [("Renamed",)]


def test_committed_ddl_matches_the_schemas() -> None:
    assert main(["ddl", "--check", "--out", str(ROOT / "hive" / "ddl")]) == 0


@pytest.mark.system  # a real Hive metastore
def test_register_through_a_real_thrift_metastore(spark, lake, tmp_path) -> None:
    settings, counts, _ = lake
    with StandaloneMetastore(tmp_path / "hms") as metastore:
        env = {**os.environ, **environment_for(settings.replace(hive_metastore_uri=metastore.uri)),
               "DATA_DIR": str(tmp_path / "client")}
        for expected in ("created 23", "unchanged 23"):  # idempotent: the second run changes nothing
            proc = subprocess.run([sys.executable, "-m", "spotify_pipeline", "register"], env=env,
                                  capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, proc.stderr[-2000:]
            # 17 silver/gold/warehouse tables + the 6 bronze collections this crawl landed (the five
            # contract ones and listings_raw; kworb_raw and unavailable_raw stay empty here)
            assert "registered 23 tables" in proc.stdout, proc.stdout
            assert "bronze.listings_raw" in proc.stdout and "bronze.unavailable_raw" not in proc.stdout
            assert f"catalog: {expected}\n" in proc.stdout, proc.stdout
        # A rebuilt table is published by switching its location: same table (created before), new folder.
        time.sleep(1.1)  # the metastore's create times have whole seconds
        switched_after = time.time()
        spec = TABLES["warehouse_track_dashboard"]
        published = write_table(read_table(spark, settings, spec), settings, spec)
        proc = subprocess.run([sys.executable, "-m", "spotify_pipeline", "register"], env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "catalog: switched 1, unchanged 22\n" in proc.stdout, proc.stdout
        probe = (
            "from pyspark.sql import SparkSession\n"
            f"s = SparkSession.builder.master('local[1]').config('spark.hadoop.hive.metastore.uris', '{metastore.uri}')"
            ".enableHiveSupport().getOrCreate()\n"
            "print(sorted(t.name for t in s.catalog.listTables('gold')))\n"
            "print(s.sql('SELECT count(*) FROM warehouse.warehouse_track_dashboard').first()[0])\n"
            "print(s.sql('SELECT count(*) FROM warehouse.warehouse_track_similar').first()[0])\n"
            "d = {r[0]: r[1] for r in s.sql('DESCRIBE TABLE EXTENDED warehouse.warehouse_track_dashboard').collect()}\n"
            "print(d['Location'])\n"
            "print(d['Created Time'])\n"
        )
        proc = subprocess.run([sys.executable, "-c", probe], env={**os.environ, "DATA_DIR": str(tmp_path / "p"), "TZ": "UTC"},
                              capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        lines = proc.stdout.strip().splitlines()
        assert lines[-5] == "['gold_feature_matrix', 'gold_track_metadata']"
        assert int(lines[-4]) == counts["warehouse_track_dashboard"]
        assert int(lines[-3]) == counts["warehouse_track_similar"] > 0
        assert urlsplit(lines[-2]).path == urlsplit(published).path  # the newest version
        created = datetime.strptime(lines[-1], "%a %b %d %H:%M:%S %Z %Y").replace(tzinfo=UTC)
        assert created.timestamp() < switched_after  # switched in place, never dropped and re-created


def test_a_layer_whose_inputs_were_never_written_is_refused_before_spark_starts(tmp_path, monkeypatch) -> None:
    """The same refusal, from the lake's folders alone (`spotify-pipeline transform`, the Airflow task):
    in a second, not after a Spark session's start. Inputs the asked layers write themselves are not needed."""
    from spark_jobs.runner import require_inputs
    from spark_jobs.session import SparkIO
    from spotify_core.errors import PipelineError

    monkeypatch.setattr(SparkIO, "__enter__", lambda self: pytest.fail("a Spark session was started"))
    settings = load_settings({"DATA_DIR": str(tmp_path)})
    with pytest.raises(PipelineError, match="no bronze layer .* run `spotify-pipeline export` first"):
        run_layers(settings, ["all"])
    (tmp_path / "lake" / "bronze_layer").mkdir(parents=True)
    with pytest.raises(PipelineError, match="tracks_data has never been written .* --layer silver` first"):
        run_layers(settings, ["gold", "warehouse"])
    require_inputs(settings, ["silver", "gold", "warehouse"])  # bronze is there; the rest they write


def test_a_layer_whose_inputs_were_never_written_says_which_to_run(spark, tmp_path) -> None:
    from spark_jobs.runner import run_layer
    from spotify_core.errors import PipelineError

    settings = load_settings({"DATA_DIR": str(tmp_path)})
    for layer, missing, run_first in (("gold", "tracks_data", "silver"), ("warehouse", "gold_track_metadata", "gold")):
        with pytest.raises(PipelineError, match=f"{missing} has never been written .* --layer {run_first}` first"):
            run_layer(spark, settings, layer, {})
    with pytest.raises(PipelineError, match="no bronze layer .* run `spotify-pipeline export` first"):
        run_layer(spark, settings, "silver", {})


def _rewrite(spark, src_settings, dst_settings, table: str, change) -> None:
    """Replace one table of the copied lake with ``change(original frame)``, written by Spark."""
    spec = TABLES[table]
    write_table(change(read_table(spark, src_settings, spec)), dst_settings, spec)


def test_every_check_fails_on_its_planted_violation_and_names_its_table(spark, lake, tmp_path, monkeypatch,
                                                                      capsys) -> None:
    """One planted violation per kind of check (declared on the specs, or across layers); each must fail and
    name its table, and nothing else fails. Run as a user does, `spotify-pipeline check`: exit 1, one line
    per check on stdout, the report saved for the demo summary."""
    import json

    from pyspark.sql import functions as F

    from spotify_core.settings import get_settings

    settings, _, _ = lake
    shutil.copytree(settings.data_dir / "lake", tmp_path / "lake")
    planted = settings.replace(data_dir=tmp_path, lake_uri=f"file://{tmp_path}/lake")
    tracks = read_table(spark, settings, TABLES["tracks_data"])
    first_track = F.col("track_id") == F.lit(tracks.agg(F.min("track_id")).first()[0])
    last_track = F.col("track_id") == F.lit(tracks.agg(F.max("track_id")).first()[0])
    # an orphan album_id, and a track without its name
    _rewrite(spark, settings, planted, "tracks_data",
             lambda df: df.withColumn("album_id", F.when(first_track, F.lit("orphan")).otherwise(F.col("album_id")))
             .withColumn("track_name", F.when(~first_track, F.col("track_name"))))
    # a feature out of range, and a feature row lost between bronze and silver
    _rewrite(spark, settings, planted, "silver_feature_music",
             lambda df: df.withColumn("danceability", F.when(first_track, F.lit(1.5)).otherwise(F.col("danceability")))
             .where(~last_track))
    # a stale fetched_at (every artist fetched in 2000)
    _rewrite(spark, settings, planted, "silver_artists",
             lambda df: df.withColumn("fetched_at", F.lit("2000-01-01 00:00:00").cast("timestamp")))
    # a track missing from gold
    _rewrite(spark, settings, planted, "gold_track_metadata", lambda df: df.where(~last_track))
    # a track missing from the warehouse
    _rewrite(spark, settings, planted, "warehouse_track_dashboard", lambda df: df.where(~first_track))
    # a genre from a source outside GENRE_SOURCES
    genres = read_table(spark, settings, TABLES["silver_artists_genres"])
    first_artist = F.col("artist_id") == F.lit(genres.agg(F.min("artist_id")).first()[0])
    _rewrite(spark, settings, planted, "silver_artists_genres",
             lambda df: df.withColumn("genre_source", F.when(first_artist, F.lit("lastfm"))
                                      .otherwise(F.col("genre_source"))))
    # duplicated keys: a part file written twice
    albums = current_folder(tmp_path / "lake", "silver_layer/silver_album")
    shutil.copy(next(albums.glob("part-*.parquet")), albums / "part-99999-duplicate.parquet")
    # a table never written
    shutil.rmtree(tmp_path / "lake" / TABLES["warehouse_track_recommendation"].path)
    # landing and bronze counts off by one
    counts_file = tmp_path / "lake" / "bronze_layer" / "_state" / "landing_counts.json"
    counts = json.loads(counts_file.read_text())
    counts_file.write_text(json.dumps({**counts, "artists_raw": counts["artists_raw"] + 1}))

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LAKE_URI", planted.lake_uri)
    get_settings.cache_clear()
    try:
        assert main(["check", "--max-age-hours", "24"]) == 1
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    failed = {tuple(line.split()[1:3]) for line in out.splitlines() if line.startswith("FAIL  ")}
    assert "PASS  primary_key            tracks_data " in out
    assert failed == {
        ("reference", "tracks_data.album_id"),
        ("not_null", "tracks_data.track_name"),
        ("allowed_values", "silver_artists_genres.genre_source"),
        # the feature row and the gold row removed above, seen again by the references declared downstream
        ("reference", "gold_feature_matrix.track_id"),
        ("reference", "warehouse_track_dashboard.track_id"),
        ("feature_range", "silver_feature_music.danceability"),
        ("bronze_to_silver", "silver_feature_music"),
        ("freshness", "silver_artists"),
        ("silver_to_gold", "gold_track_metadata"),
        ("row_count", "gold_track_metadata"),
        ("gold_to_warehouse", "warehouse_track_dashboard"),
        ("primary_key", "silver_album"),
        ("exists", "warehouse_track_recommendation"),
        ("landing_to_bronze", "artists_raw"),
    }, out
    saved = json.loads((tmp_path / "reports" / "quality.json").read_text())
    by_check = {(r["name"], r["table"]): r for r in saved["results"]}
    assert saved["passed"] is False and len(by_check) > 30
    assert by_check["reference", "tracks_data.album_id"]["observed"] == "1 rows whose album_id is not in silver_album"
    assert by_check["reference", "tracks_data.album_id"]["examples"] == ["orphan"]
    assert by_check["landing_to_bronze", "artists_raw"]["observed"] == f"{counts['artists_raw']} distinct ids in bronze"
    assert by_check["feature_range", "silver_feature_music.danceability"]["observed"] == "1 out of range"


def test_checks_fail_when_the_export_left_no_landing_counts(spark, lake, tmp_path) -> None:
    settings, _, _ = lake
    shutil.copytree(settings.data_dir / "lake", tmp_path / "lake")
    (tmp_path / "lake" / "bronze_layer" / "_state" / "landing_counts.json").unlink()
    report = quality.run_checks(spark, settings.replace(data_dir=tmp_path, lake_uri=f"file://{tmp_path}/lake"))
    # and every other check passes on the sample lake
    assert [(r.name, r.table) for r in report.results if not r.passed] == [("landing_to_bronze", "bronze_layer")]
    assert len(report.results) > 30
