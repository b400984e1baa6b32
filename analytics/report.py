"""A self-contained HTML report of the warehouse (the last step of `make demo`).

One file under ``$DATA_DIR/reports/``, plotly's JavaScript inlined once, so it opens offline
and can be mailed around.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

import plotly.graph_objects as go

from analytics import charts, data
from analytics.coverage import coverage_lines, read_coverage
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings

REPORT_NAME = "warehouse_report.html"


def render(tracks, clusters, generated_at: str, coverage: list[str] | None = None) -> str:
    """The report page from the dashboard frame, the clusters frame (None when not built) and the
    coverage lines of analytics.coverage (None when unknown)."""
    figures: list[tuple[str, go.Figure]] = [
        ("Releases per year", charts.releases_per_year(tracks)),
        ("Genres", charts.top_genres(tracks)),
        ("Audio features", charts.feature_distributions(tracks)),
    ]
    if clusters is not None and len(clusters):
        figures.append(("Clusters", charts.cluster_scatter(clusters)))
    n_artists = tracks["artist_id"].nunique()
    with_features = int(tracks["has_features"].astype(bool).sum())
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Spotify warehouse report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "h1{margin-bottom:.2em}.facts span{display:inline-block;margin-right:2em}</style></head><body>",
        "<h1>Spotify warehouse report</h1>",
        f"<p>Generated {html.escape(generated_at)} from <code>warehouse_track_dashboard</code>"
        f"{' and <code>warehouse_track_clusters</code>' if len(figures) == 4 else ''}.</p>",
        f"<p class='facts'><span><b>{len(tracks):,}</b> tracks</span><span><b>{n_artists:,}</b> artists</span>"
        f"<span><b>{with_features:,}</b> with audio features</span></p>",
    ]
    if coverage:
        parts.append("<h2>Coverage by source</h2><ul class='coverage'>"
                     + "".join(f"<li>{html.escape(line)}</li>" for line in coverage) + "</ul>")
    for i, (title, fig) in enumerate(figures):
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0), default_height=480))
    if len(figures) < 4:
        parts.append("<p><i>No clusters yet: run <code>spotify-pipeline transform --layer similar</code>.</i></p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(settings: Settings) -> Path:
    tracks = data.dashboard(settings)
    if tracks.empty:
        raise PipelineError("warehouse_track_dashboard has no rows: nothing to report")
    try:
        clusters = data.clusters(settings)
    except data.LakeNotBuilt:
        clusters = None
    try:
        lines = coverage_lines(read_coverage(settings))
    except PipelineError:  # a lake built before the source columns existed
        lines = None
    out = settings.data_dir / "reports" / REPORT_NAME
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(render(tracks, clusters, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), lines), encoding="utf-8")
    tmp.replace(out)
    return out
