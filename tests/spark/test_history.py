"""History tables over two refreshes of an evolving sample catalog (issue 14)."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from pathlib import Path

import duckdb
import pytest
import requests

from crawler.audio_features import make_source
from crawler.crawl import Crawler, CrawlOptions
from crawler.kworb import PAGES
from crawler.kworb_landing import land_kworb_numbers
from crawler.landing.sqlite import SQLiteLandingStore
from crawler.spotify.client import SpotifyClient
from lake.export import export_landing
from lake.fs import open_lake
from sample_api.server import start_sample_api
from sample_api.synthetic_catalog import generate_catalog
from spark_jobs import quality
from spark_jobs.runner import run_layers, run_step
from spark_jobs.session import SparkIO
from spark_jobs.steps import STEPS
from tests.helpers.sample_lake import entries_for, sample_api_settings
from tests.lake_tables import parquet

DAY1, DAY2 = "2026-11-18", "2026-11-25"
HISTORY = ("silver_artist_snapshots", "silver_track_snapshots", "kworb_rankings", "silver_unavailable",
           "warehouse_artist_history")


def _refresh(settings, api, day: str, mode: str, run_id: str, corrupt: bool = False) -> None:
    """What the weekly DAG does on ``day``: kworb numbers, crawl, export."""
    ticks = count(1)
    hour = 5 * int(run_id[-1])  # a later run fetches later that day
    clock = lambda: f"{day}T{hour:02d}:00:00.{next(ticks):06d}Z"  # noqa: E731
    html = {p: [requests.get(f"{api.kworb_url}/{p}", timeout=60).content.decode()] for p in PAGES}
    if corrupt:  # one row whose listeners do not parse: quarantined, never the name
        first = html["listeners.html"][0]
        cell = first.split("</a></div></td><td>", 1)[1].split("</td>", 1)[0]
        html["listeners.html"] = [first.replace(f"<td>{cell}</td>", "<td>12.34.56</td>", 1)]
    client = SpotifyClient(settings)
    with SQLiteLandingStore(settings.landing_sqlite_path) as store:
        land_kworb_numbers(store, html, day, f"kworb-{day}")
        Crawler(client, store, make_source("auto", client),
                CrawlOptions(run_id=run_id, workers=4, mode=mode, clock=clock)).run(entries_for(api))
        export_landing(store, open_lake(settings))


def _rows(settings, table: str, columns: str = "*") -> list[tuple]:
    root = settings.lake_uri.removeprefix("file://")
    layer = "warehouse_layer" if table.startswith("warehouse") else "silver_layer"
    return duckdb.sql(f"SELECT {columns} FROM {parquet(root, f'{layer}/{table}')} ORDER BY ALL"
                      ).fetchall()


@pytest.fixture(scope="module")
def history_lake(spark, tmp_path_factory):
    data = tmp_path_factory.mktemp("history-lake")
    with start_sample_api(n_artists=8, seed=11) as api:
        settings = sample_api_settings(data, api)
        _refresh(settings, api, DAY1, "continue", "run-1")
        api.evolve(1)
        _refresh(settings, api, DAY2, "refresh", "run-2", corrupt=True)
        counts = run_layers(settings, ["all"])
        yield settings, counts, api


def test_artist_snapshots_have_both_dates_with_the_values_of_each(history_lake) -> None:
    settings, _, api = history_lake
    old, new = generate_catalog(8, seed=11), api.catalog
    rows = _rows(settings, "silver_artist_snapshots", "artist_id, CAST(snapshot_date AS VARCHAR), popularity, followers")
    by_key = {(r[0], r[1]): r[2:] for r in rows}
    assert len(by_key) == len(rows)  # one row per artist and date
    assert {d for _, d in by_key} == {DAY1, DAY2}
    for i in range(8):
        aid = old.artist_id(i)
        assert by_key[(aid, DAY1)] == (old.artist(i, "x")["popularity"], old.artist(i, "x")["followers"]["total"])
        if new.is_removed_artist(i):
            assert (aid, DAY2) not in by_key
        else:
            assert by_key[(aid, DAY2)] == (new.artist(i, "x")["popularity"], new.artist(i, "x")["followers"]["total"])
    assert any(by_key[(old.artist_id(i), DAY1)] != by_key.get((old.artist_id(i), DAY2), by_key[(old.artist_id(i), DAY1)])
               for i in range(8))


def test_kworb_rankings_per_date_and_the_bad_row_quarantined(history_lake, spark) -> None:
    settings, counts, api = history_lake
    rows = _rows(settings, "kworb_rankings", "CAST(scrape_date AS VARCHAR), artist_id, metric, rank, value")
    assert len({(r[0], r[1], r[2]) for r in rows}) == len(rows)
    assert {r[0] for r in rows} == {DAY1, DAY2}
    metrics = {r[2] for r in rows}
    assert {"monthly_listeners", "streams_millions", "daily_streams_millions", "daily_listeners_trend"} <= metrics
    by_date = {d: {r[1] for r in rows if r[0] == d and r[2] == "monthly_listeners"} for d in (DAY1, DAY2)}
    assert len(by_date[DAY2]) == len(by_date[DAY1])  # one listeners row lost to the quarantine, one artist joined
    assert counts["_quarantine_history"] == 1
    root = settings.lake_uri.removeprefix("file://")
    reason = duckdb.sql(f"SELECT reason FROM {parquet(root, 'bronze_layer/_quarantine_history')}"
                        ).fetchall()
    assert "12.34.56" in reason[0][0]


def test_unavailable_album_and_artist_with_the_refresh_date(history_lake) -> None:
    settings, _, api = history_lake
    old, new = generate_catalog(8, seed=11), api.catalog
    rows = _rows(settings, "silver_unavailable", "entity_type, entity_id, CAST(unavailable_since AS VARCHAR)")
    removed_album = next(a for a in range(old.n_albums) if new.is_removed_album(a))
    removed_artist = next(i for i in range(8) if new.is_removed_artist(i))
    assert rows == sorted([("album", old.album_id(removed_album), DAY2), ("artist", old.artist_id(removed_artist), DAY2)])


def test_warehouse_history_charts_popularity_beside_listeners(history_lake) -> None:
    settings, _, _ = history_lake
    rows = _rows(settings, "warehouse_artist_history",
                 "artist_id, CAST(snapshot_date AS VARCHAR), popularity, monthly_listeners, streams_millions")
    assert len({(r[0], r[1]) for r in rows}) == len(rows)
    charted = [r for r in rows if r[2] is not None and r[3] is not None]
    assert {r[1] for r in charted} == {DAY1, DAY2}
    assert any(r[4] is not None for r in rows)


def test_duckdb_reference_builds_the_same_history_tables(history_lake, tmp_path) -> None:
    """The benchmark's DuckDB build matches Spark on every table, the history ones included, on a lake
    with two dates, refetches, a quarantined kworb row and unavailable entities (before the rerun below)."""
    from bench import duckdb_reference
    from spark_jobs.runner import spec_of

    settings, _, _ = history_lake
    lake = Path(settings.lake_uri.removeprefix("file://"))
    duck = duckdb_reference.build(lake / "bronze_layer", tmp_path / "duck")
    assert {*HISTORY, "_quarantine_history"} <= set(duck["rows"])
    assert duck["rows"]["_quarantine_history"] >= 1 and duck["rows"]["silver_unavailable"] >= 1
    result = duckdb_reference.compare(lake, tmp_path / "duck", [spec_of(name) for name in duck["rows"]])
    assert {name: r for name, r in result.items() if not r["identical"]} == {}


def test_quality_passes_and_a_rerun_of_the_same_date_is_idempotent(history_lake, spark) -> None:
    settings, _, api = history_lake
    with SQLiteLandingStore(settings.landing_sqlite_path) as store:
        assert store.counts()["kworb_raw"] > 0
        report = quality.run_checks(spark, settings, timedelta(days=36500))
    assert report.passed, report.text()
    assert sum(r.name == "history_dates" for r in report.results) == 2
    cols = {"silver_artist_snapshots": "artist_id, snapshot_date, popularity, followers",
            "silver_track_snapshots": "track_id, snapshot_date, popularity",
            "kworb_rankings": "scrape_date, artist_id, page, rank, metric, value",
            "silver_unavailable": "entity_type, entity_id, unavailable_since",
            "warehouse_artist_history": "*"}
    before = {t: _rows(settings, t, cols[t]) for t in HISTORY}
    _refresh(settings, api, DAY2, "refresh", "run-3", corrupt=True)  # the same date once more, later that day
    with SparkIO(settings) as session:  # the steps writing history: silver (with its history) and warehouse history
        for step in STEPS:
            if {"silver_artist_snapshots", "warehouse_artist_history"} & set(step.outputs):
                run_step(session, settings, step, {})
    after = {t: _rows(settings, t, cols[t]) for t in HISTORY}
    assert after == before


def test_history_tables_are_queryable_with_the_query_command(history_lake) -> None:
    from analytics.query import run_query

    settings, _, _ = history_lake
    _, rows = run_query(settings, "SELECT count(DISTINCT snapshot_date) FROM warehouse_artist_history "
                                  "WHERE popularity IS NOT NULL AND monthly_listeners IS NOT NULL")
    assert rows[0][0] == 2
    from analytics.query import LAKE_TABLES
    from spark_jobs.schemas import TABLES

    assert {t for names in LAKE_TABLES.values() for t in names} == set(TABLES)
