"""Charts of the warehouse, as plotly figures built from frames: shared by the dashboard, the demo
report and the notebooks, so all three show the catalog the same way. Pure: frames in, figures out."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

DISTRIBUTED = ("danceability", "energy", "valence", "acousticness", "speechiness", "tempo")


def releases_per_year(tracks: pd.DataFrame) -> go.Figure:
    years = tracks.dropna(subset=["release_year"])
    counts = years.groupby(years["release_year"].astype(int)).size().rename("tracks").reset_index()
    fig = px.bar(counts, x="release_year", y="tracks", title="Tracks per release year")
    return fig.update_layout(xaxis_title="release year", yaxis_title="tracks")


def genre_counts(tracks: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """Tracks per genre (a track counts once for each of its genres), most frequent first."""
    genres = tracks["genres"].map(lambda g: list(g) if g is not None and not isinstance(g, float) else [])
    exploded = genres.explode().dropna()
    counts = exploded.value_counts().rename_axis("genre").rename("tracks").reset_index()
    return counts.sort_values(["tracks", "genre"], ascending=[False, True]).head(top).reset_index(drop=True)


def top_genres(tracks: pd.DataFrame, top: int = 15) -> go.Figure:
    fig = px.bar(genre_counts(tracks, top), x="tracks", y="genre", orientation="h", title=f"Top {top} genres")
    return fig.update_layout(yaxis={"autorange": "reversed"})


def feature_distributions(tracks: pd.DataFrame, features: tuple[str, ...] = DISTRIBUTED) -> go.Figure:
    """One histogram per feature, each with its own bins (tempo runs to ~200, the others 0-1)."""
    with_features = tracks[tracks["has_features"].astype(bool)] if "has_features" in tracks else tracks
    cols = 3
    fig = make_subplots(rows=-(-len(features) // cols), cols=cols, subplot_titles=list(features))
    for i, name in enumerate(features):
        values = with_features[name].dropna().astype(float)
        fig.add_trace(go.Histogram(x=values, nbinsx=30, name=name, showlegend=False, marker_color="#1f77b4"),
                      row=i // cols + 1, col=i % cols + 1)
    return fig.update_layout(title="Audio feature distributions", bargap=0.05)


def cluster_scatter(clusters: pd.DataFrame, max_points: int = 5_000) -> go.Figure:
    """Tracks on the first two principal axes, coloured by KMeans cluster (sampled above max_points).

    SVG, not WebGL: it draws without a GPU (headless browsers, some remote desktops) and in the report."""
    shown = clusters.sample(max_points, random_state=0) if len(clusters) > max_points else clusters
    shown = shown.assign(cluster=shown["cluster_id"].astype(str))
    fig = px.scatter(shown.sort_values("cluster_id"), x="pca_x", y="pca_y", color="cluster",
                     hover_data=["track_name", "artist_name", "primary_genre"],
                     title="Track clusters (KMeans) on the first two principal components", render_mode="svg")
    return fig.update_traces(marker={"size": 5, "opacity": 0.7})
