"""kworb numbers (issue 14): parsed from the real-structure fixtures, drift-safe, landed per date."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.kworb import (
    KworbMarkupError,
    parse_kworb_numbers,
    parse_kworb_page,
    parse_number,
)
from crawler.landing.sqlite import SQLiteLandingStore
from sample_api.kworb_pages import render_artists_page, render_listeners_page
from sample_api.synthetic_catalog import generate_catalog
from spotify_pipeline.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def read(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def test_parse_number_separators_signs_and_empty_cells() -> None:
    assert parse_number("140,112,550") == 140_112_550
    assert parse_number(" +1,002 ") == 1002 and parse_number("-120,554") == -120_554
    assert parse_number("68.581") == 68.581 and parse_number("1,234.5") == 1234.5
    assert parse_number("") is None and parse_number("  ") is None and parse_number("—") is None
    for bad in ("12,34", "1.2.3", "abc", "1,2345", "12 %"):
        with pytest.raises(ValueError):
            parse_number(bad)


def test_artists_page_numbers_from_the_fixture() -> None:
    good, rejects = parse_kworb_numbers(read("artists.html"), "artists.html")
    assert not rejects and len(good) == 11
    top = good[0]
    assert (top.artist_id, top.name, top.rank) == ("06HL4z0CvFAxyc27GXpf02", "Taylor Swift", 1)
    assert top.metrics == {"streams_millions": 117_254.0, "daily_streams_millions": 68.581}
    simon = next(r for r in good if r.name == "Simon & Garfunkel")
    assert simon.metrics["streams_millions"] == 12_003 and simon.rank == 5
    nirvana_small = next(r for r in good if r.artist_id == "1l7ZsJRRS8wlW3WfJfPfNS")
    assert nirvana_small.metrics == {"streams_millions": 310.0, "daily_streams_millions": None}  # empty cell


def test_listeners_page_numbers_from_the_fixture() -> None:
    good, rejects = parse_kworb_numbers(read("listeners.html"), "listeners.html")
    assert not rejects and len(good) == 12
    weeknd = good[1]
    assert weeknd.metrics == {"monthly_listeners": 112_004_221, "daily_listeners_trend": -120_554,
                              "peak_rank": 1, "peak_listeners": 123_000_001}
    assert good[3].artist_id == "4q3ewBCX7sLwd24euuV69X"  # link without _songs
    assert good[-1].metrics["daily_listeners_trend"] is None  # Metallica: empty cell


def test_a_row_whose_numbers_do_not_parse_is_rejected_never_the_names() -> None:
    html = read("listeners.html").replace("<td>77,777,777</td>", "<td>77.777.777</td>")
    good, rejects = parse_kworb_numbers(html, "listeners.html")
    assert [r.name for r in rejects] == ["Eminem"] and "77.777.777" in rejects[0].reason
    assert rejects[0].cells["monthly_listeners"] == "77.777.777" and rejects[0].rank == 8
    assert len(good) == 11
    assert len(parse_kworb_page(html, "listeners.html")) == 12  # every name is still there


def test_a_renamed_number_column_rejects_the_rows_and_keeps_the_names() -> None:
    html = read("artists.html").replace("<th>Daily</th>", "<th>Today</th>")
    good, rejects = parse_kworb_numbers(html, "artists.html")
    assert not good and len(rejects) == 11 and "'daily'" in rejects[0].reason
    assert [a.name for a in parse_kworb_page(html, "artists.html")][0] == "Taylor Swift"
    with pytest.raises(KworbMarkupError):
        parse_kworb_numbers("<html><body>Service Unavailable</body></html>", "artists.html")


def test_rendered_sample_pages_carry_numbers_with_empty_cells() -> None:
    by_streams, by_listeners = generate_catalog(80, seed=3).kworb_rankings()
    a_good, a_bad = parse_kworb_numbers(render_artists_page(by_streams), "artists.html")
    l_good, l_bad = parse_kworb_numbers(render_listeners_page(by_listeners), "listeners.html")
    assert not a_bad and not l_bad
    assert len(a_good) == len(by_streams) and len(l_good) == len(by_listeners)
    assert any(r.metrics["daily_streams_millions"] is None for r in a_good)
    assert all(r.metrics["streams_millions"] > 0 for r in a_good)
    assert any(r.metrics["daily_listeners_trend"] is None for r in l_good)


def test_cli_lands_numbers_per_scrape_date_and_rescrape_replaces(tmp_path: Path, capsys) -> None:
    out = tmp_path / "artists.txt"
    args = ["kworb", "--html", str(FIXTURES / "artists.html"), "--html", str(FIXTURES / "listeners.html"),
            "--out", str(out)]
    assert main([*args, "--date", "2026-11-18"]) == 0
    assert main([*args, "--date", "2026-11-25"]) == 0
    assert main([*args, "--date", "2026-11-25"]) == 0  # the same date again: replaced, not duplicated
    assert "23 rows landed in kworb_raw" in capsys.readouterr().out
    store = SQLiteLandingStore(tmp_path / "data" / "landing.sqlite")
    try:
        docs = {d.id: json.loads(d.payload_json) for d in store.iter_raw("kworb_raw")}
    finally:
        store.close()
    assert len(docs) == 2 * 23
    doc = docs["2026-11-25:listeners.html:0du5cEVh5yTK9QJze8zA0C"]
    assert doc["rank"] == 1 and doc["metrics"]["monthly_listeners"] == 140_112_550
    assert main([*args, "--date", "25/11/2026"]) == 1
