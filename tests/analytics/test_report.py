"""The demo's HTML report, on a lake built by the real pipeline."""

from __future__ import annotations

import re

import pytest

from analytics import data
from analytics.charts import genre_counts
from analytics.coverage import coverage_lines, read_coverage
from analytics.report import write_report

pytestmark = pytest.mark.spark


def test_report_is_one_self_contained_file_with_every_chart(demo_lake) -> None:
    path = write_report(demo_lake)
    assert path == demo_lake.data_dir / "reports" / "warehouse_report.html"
    page = path.read_text()
    for title in ("Tracks per release year", "Top 15 genres", "Audio feature distributions",
                  "Track clusters (KMeans)"):
        assert title in page
    assert not re.search(r"<script[^>]+src=", page)  # plotly inlined: opens offline
    assert page.count("Plotly.newPlot") == 4
    tracks = data.dashboard(demo_lake)
    assert f"<b>{len(tracks):,}</b> tracks" in page
    for line in coverage_lines(read_coverage(demo_lake)):
        assert f"<li>{line}</li>" in page
    assert re.search(r"<li>audio features: \d+ % of tracks \(", page)  # the sample catalog has features
    top = genre_counts(tracks).iloc[0]
    assert top["genre"] in page and top["tracks"] >= genre_counts(tracks).iloc[-1]["tracks"]


def test_genre_counts_count_each_genre_of_a_track() -> None:
    import pandas as pd

    tracks = pd.DataFrame({"genres": [["pop", "rock"], ["pop"], [], None]})
    assert genre_counts(tracks).to_dict("records") == [{"genre": "pop", "tracks": 2}, {"genre": "rock", "tracks": 1}]
