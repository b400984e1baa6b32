"""How much of the catalog each enrichment source covers: audio features per track, genres per artist.

Development-mode Spotify apps get neither, so the demo summary, the HTML report and the dashboard
say where the values came from, e.g. "audio features: 82 % of tracks (ReccoBeats 80 %, Spotify 2 %)".
:func:`read_coverage` counts through the query layer (DuckDB locally, Trino when configured);
:func:`coverage_lines` turns the counts into those lines and does no IO.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spotify_core.settings import Settings

SOURCE_NAMES = {"spotify": "Spotify", "reccobeats": "ReccoBeats", "file": "file", "musicbrainz": "MusicBrainz"}

# One round trip: tracks per features source (null: none), artists per genre source, artists with
# any genre, all artists. Plain SQL: it runs on DuckDB and on Trino's hive catalog alike.
COVERAGE_SQL = """
    SELECT 'features' AS what, features_source AS source, count(*) AS n
    FROM warehouse.warehouse_track_dashboard GROUP BY features_source
    UNION ALL
    SELECT 'genres', genre_source, count(DISTINCT artist_id) FROM silver.silver_artists_genres GROUP BY genre_source
    UNION ALL
    SELECT 'genres_any', NULL, count(DISTINCT artist_id) FROM silver.silver_artists_genres
    UNION ALL
    SELECT 'artists', NULL, count(*) FROM silver.silver_artists"""


@dataclass(frozen=True)
class Coverage:
    tracks: int
    features: dict[str, int] = field(default_factory=dict)  # tracks per features_source
    artists: int = 0
    artists_with_genres: int = 0
    genres: dict[str, int] = field(default_factory=dict)  # artists with a genre from that source


def from_counts(rows: list[tuple[str, str | None, int]]) -> Coverage:
    """The :data:`COVERAGE_SQL` rows as a :class:`Coverage`."""
    features = {s: int(n) for what, s, n in rows if what == "features" and s is not None}
    genres = {s: int(n) for what, s, n in rows if what == "genres" and s is not None}
    total = {what: int(n) for what, s, n in rows if what in ("artists", "genres_any")}
    return Coverage(tracks=sum(int(n) for what, _, n in rows if what == "features"), features=features,
                    artists=total.get("artists", 0), artists_with_genres=total.get("genres_any", 0), genres=genres)


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.0f} %"


def _line(what: str, n: int, total: int, unit: str, by_source: dict[str, int]) -> str:
    if total == 0:
        return f"{what}: no {unit} yet"
    parts = [f"{SOURCE_NAMES.get(s, s)} {_pct(k, total)}"
             for s, k in sorted(by_source.items(), key=lambda item: (-item[1], item[0]))]
    return f"{what}: {_pct(n, total)} of {unit}" + (f" ({', '.join(parts)})" if parts else "")


def coverage_lines(c: Coverage) -> list[str]:
    """'audio features: 82 % of tracks (ReccoBeats 80 %, Spotify 2 %)', 'genres: 85 % of artists
    (MusicBrainz 85 %)': the share covered, then each source's share, largest first. An artist with
    genres from two sources counts for both."""
    return [_line("audio features", sum(c.features.values()), c.tracks, "tracks", c.features),
            _line("genres", c.artists_with_genres, c.artists, "artists", c.genres)]


def read_coverage(settings: Settings) -> Coverage:
    """The counts of the lake's current tables (raises analytics.data.LakeNotBuilt when one is missing)."""
    import pandas as pd

    from analytics.data import read_frame

    frame = read_frame(settings, COVERAGE_SQL)
    return from_counts([(r.what, None if pd.isna(r.source) else r.source, r.n) for r in frame.itertuples(index=False)])


def summary_lines(settings: Settings) -> list[str]:
    """The demo summary's coverage block (a heading, then :func:`coverage_lines`); one line saying
    why when the lake cannot tell."""
    from spotify_core.errors import PipelineError

    try:
        return ["== coverage by source", *(f"  {line}" for line in coverage_lines(read_coverage(settings)))]
    except PipelineError as exc:
        return [f"== coverage by source: unknown ({exc})"]
