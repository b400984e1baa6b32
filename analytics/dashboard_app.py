"""The Streamlit app (`make dashboard`): catalog overview, artist explorer, similar tracks, clusters.

Run with ``streamlit run analytics/dashboard_app.py``; it reads the warehouse through the query
layer (DuckDB over the local lake, Trino when ``TRINO_HOST`` is set) with the settings of the
environment, like every other command.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import charts, data
from analytics.coverage import coverage_lines, read_coverage
from analytics.recommend import recommend
from spotify_core.errors import PipelineError
from spotify_core.settings import get_settings

CACHE_S = 300


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _dashboard() -> pd.DataFrame:
    return data.dashboard(get_settings())


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _catalog() -> pd.DataFrame:
    return data.catalog_tracks(get_settings())


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _clusters() -> pd.DataFrame | None:
    try:
        return data.clusters(get_settings())
    except data.LakeNotBuilt:
        return None


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _similar(track_id: str) -> pd.DataFrame | None:
    try:
        return data.similar_from_warehouse(get_settings(), track_id)
    except data.LakeNotBuilt:
        return None


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _coverage() -> list[str] | None:
    try:
        return coverage_lines(read_coverage(get_settings()))
    except PipelineError:  # a lake built before the source columns existed
        return None


def _label(row) -> str:
    return f"{row.track_name} — {row.artist_name} ({row.track_id})"


def overview(tracks: pd.DataFrame) -> None:
    st.subheader("Catalog overview")
    a, b, c, d = st.columns(4)
    a.metric("Tracks", f"{len(tracks):,}")
    b.metric("Artists", f"{tracks['artist_id'].nunique():,}")
    c.metric("Albums", f"{tracks['album_name'].nunique():,}")
    d.metric("With audio features", f"{int(tracks['has_features'].astype(bool).sum()):,}")
    for line in _coverage() or []:
        st.caption(f"Coverage — {line}")
    left, right = st.columns(2)
    left.plotly_chart(charts.releases_per_year(tracks), width="stretch")
    right.plotly_chart(charts.top_genres(tracks), width="stretch")
    st.plotly_chart(charts.feature_distributions(tracks), width="stretch")


def artist_explorer(tracks: pd.DataFrame) -> None:
    st.subheader("Artist explorer")
    by_artist = (tracks.groupby("artist_name").size().rename("n").reset_index()
                 .sort_values(["n", "artist_name"], ascending=[False, True]))  # most tracks first
    artist = st.selectbox("Artist", by_artist["artist_name"].tolist(), key="artist")
    mine = tracks[tracks["artist_name"] == artist]
    a, b, c = st.columns(3)
    a.metric("Tracks", len(mine))
    b.metric("Albums", mine["album_name"].nunique())
    years = mine["release_year"].dropna()
    c.metric("Years", f"{int(years.min())}–{int(years.max())}" if len(years) else "unknown")
    genres = charts.genre_counts(mine, top=10)
    st.write("Genres: " + (", ".join(genres["genre"]) if len(genres) else "none known"))
    profile = pd.DataFrame({"this artist": mine[list(charts.DISTRIBUTED[:5])].mean(),
                            "whole catalog": tracks[list(charts.DISTRIBUTED[:5])].mean()})
    st.bar_chart(profile)
    st.dataframe(mine[["track_name", "album_name", "release_year", "popularity", "duration_min"]]
                 .sort_values(["release_year", "track_name"]), hide_index=True, width="stretch")


def similar_tracks() -> None:
    st.subheader("Tracks that sound alike")
    catalog = _catalog()
    with_vector = catalog[catalog["has_vector"].astype(bool)]
    if with_vector.empty:
        st.info("No track has audio features, so there is nothing to compare (see AUDIO_FEATURES_SOURCE).")
        return
    wanted = st.text_input("Search a track by name", key="track_search")
    hits = with_vector[with_vector["track_name"].str.contains(wanted, case=False, regex=False)] if wanted \
        else with_vector
    if hits.empty:
        st.warning(f"No track with features matches “{wanted}”.")
        return
    options = hits.head(200)
    choice = st.selectbox("Seed track", range(len(options)), format_func=lambda i: _label(options.iloc[i]),
                          key="seed")
    seed = options.iloc[choice]
    k = st.slider("How many", 5, 25, 10, key="k")
    table = _similar(seed["track_id"])
    if table is not None and len(table) >= min(k, 10) and k <= 10:
        st.caption("From warehouse_track_similar (the Spark job's precomputed neighbours).")
        shown = table.head(k)[["rank", "track_name", "artist_name", "genres", "distance", "genre_overlap"]]
    else:
        st.caption("Computed now, exactly, over the whole warehouse (as `spotify-pipeline recommend`).")
        row = int(catalog.index[catalog["track_id"] == seed["track_id"]][0])
        shown = pd.DataFrame(recommend(catalog, row, k).neighbours)
        shown = shown[["rank", "track_name", "artist_name", "genres", "distance", "genre_overlap"]] \
            if len(shown) else shown
    shown = shown.assign(genres=shown["genres"].map(lambda g: ", ".join(g) if g is not None else "")) \
        if len(shown) else shown
    st.table(shown.set_index("rank") if len(shown) else shown)  # a real HTML table: readable, and testable


def clusters_view() -> None:
    st.subheader("Clusters")
    clusters = _clusters()
    if clusters is None or clusters.empty:
        st.info(f"No clusters yet: run `{data.BUILD_HINT['warehouse_track_clusters']}`.")
        return
    st.plotly_chart(charts.cluster_scatter(clusters), width="stretch")
    sizes = clusters.groupby("cluster_id").agg(tracks=("track_id", "size"),
                                               top_genre=("primary_genre", lambda g: g.mode().iat[0]
                                                          if g.notna().any() else None))
    st.dataframe(sizes, width="stretch")


def main() -> None:
    st.set_page_config(page_title="Spotify warehouse", layout="wide")
    st.title("Spotify warehouse")
    try:
        with st.spinner("Loading the warehouse…"):
            tracks = _dashboard()
    except data.LakeNotBuilt as exc:
        st.warning(f"The lake is not built yet. {exc}.")
        st.stop()
    except PipelineError as exc:
        st.error(str(exc))
        st.stop()
    if tracks.empty:
        st.warning("The warehouse has no tracks yet: run `spotify-pipeline demo` or crawl some artists.")
        st.stop()
    tabs = st.tabs(["Overview", "Artists", "Similar tracks", "Clusters"])
    with tabs[0]:
        overview(tracks)
    with tabs[1]:
        artist_explorer(tracks)
    with tabs[2]:
        similar_tracks()
    with tabs[3]:
        clusters_view()


if __name__ == "__main__":  # what `streamlit run` sets
    main()
