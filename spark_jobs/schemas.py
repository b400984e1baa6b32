"""Every lake table's schema and checks, on the registry's names, folders and keys (spotify_core/tables.py).

The single source for Spark writes, checks and DDL.

Payload schemas (``*_PAYLOAD``) describe the Spotify API objects as they are parsed from bronze
with ``from_json``; fields Spotify removed for development-mode apps are simply null there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pyspark.sql import DataFrame
from pyspark.sql import types as T

from spotify_core import tables
from spotify_core.vocabulary import (
    COLLECTIONS,
    FEATURE_NAMES,
    FEATURE_SOURCES,
    GENRE_SOURCES,
    INTEGER_FEATURES,
)

# What a layer's build function calls on a frame several outputs share (the job caches it).
Persist = Callable[[DataFrame], DataFrame]

FEATURE_COLUMNS: tuple[str, ...] = FEATURE_NAMES
_INT_FEATURES = INTEGER_FEATURES


def _feature_fields() -> list[T.StructField]:
    return [T.StructField(c, T.IntegerType() if c in _INT_FEATURES else T.DoubleType()) for c in FEATURE_COLUMNS]


def _s(*fields: tuple[str, T.DataType] | T.StructField) -> T.StructType:
    return T.StructType([f if isinstance(f, T.StructField) else T.StructField(f[0], f[1]) for f in fields])


STR, INT, LONG, DBL, BOOL = T.StringType(), T.IntegerType(), T.LongType(), T.DoubleType(), T.BooleanType()
DATE, TS = T.DateType(), T.TimestampType()
STR_ARRAY = T.ArrayType(STR)

# ---------------------------------------------------------------- API payloads (parsing)
_SIMPLE_ARTIST = _s(("id", STR), ("name", STR))
_IMAGE = _s(("url", STR), ("height", INT), ("width", INT))
_SIMPLE_TRACK = _s(
    ("id", STR), ("name", STR), ("artists", T.ArrayType(_SIMPLE_ARTIST)), ("disc_number", INT),
    ("track_number", INT), ("duration_ms", LONG), ("explicit", BOOL), ("is_local", BOOL),
)
ARTIST_PAYLOAD = _s(
    ("id", STR), ("name", STR), ("genres", STR_ARRAY), ("followers", _s(("total", LONG))), ("popularity", INT),
    ("images", T.ArrayType(_IMAGE)), ("uri", STR),
)
ALBUM_PAYLOAD = _s(
    ("id", STR), ("name", STR), ("album_type", STR), ("total_tracks", INT), ("release_date", STR),
    ("release_date_precision", STR), ("label", STR), ("popularity", INT), ("uri", STR),
    ("artists", T.ArrayType(_SIMPLE_ARTIST)), ("images", T.ArrayType(_IMAGE)),
    ("external_ids", _s(("upc", STR))),
    ("tracks", _s(("total", INT), ("items", T.ArrayType(_SIMPLE_TRACK)))),
)
TRACK_PAYLOAD = _s(
    ("id", STR), ("name", STR), ("artists", T.ArrayType(_SIMPLE_ARTIST)), ("album", _s(("id", STR), ("name", STR))),
    ("disc_number", INT), ("track_number", INT), ("duration_ms", LONG), ("explicit", BOOL), ("popularity", INT),
    ("external_ids", _s(("isrc", STR))), ("is_local", BOOL),
)
# Spotify's audio-features object, ReccoBeats' (its own UUID as id, the Spotify track URL as href, no
# time_signature/duration_ms) or a row of a features file ("source": "file"): docs/sources.md.
FEATURES_PAYLOAD = T.StructType([
    T.StructField("id", STR), *_feature_fields(), T.StructField("duration_ms", LONG), T.StructField("href", STR),
    T.StructField("source", STR),
])
# {"id", "genres"} (Spotify) or {"artist_id", "source": "musicbrainz", "genres", ...} (MusicBrainz).
GENRES_PAYLOAD = _s(("id", STR), ("artist_id", STR), ("genres", STR_ARRAY), ("source", STR))
KWORB_PAYLOAD = _s(
    ("scrape_date", STR), ("page", STR), ("artist_id", STR), ("artist_name", STR), ("rank", INT),
    ("metrics", T.MapType(STR, DBL)), ("error", STR),
)
UNAVAILABLE_PAYLOAD = _s(("type", STR), ("id", STR), ("status", INT), ("detected_at", STR))

# ---------------------------------------------------------------- lake tables
BRONZE_SCHEMA = _s(("_id", STR), ("fetched_at", STR), ("run_id", STR), ("payload", STR))
QUARANTINE_SCHEMA = _s(("source", STR), ("_id", STR), ("fetched_at", STR), ("reason", STR), ("payload", STR))

SILVER_ARTISTS = _s(
    ("artist_id", STR), ("artist_name", STR), ("followers", LONG), ("popularity", INT), ("image_url", STR),
    ("uri", STR), ("fetched_at", TS),
)
SILVER_ALBUM = _s(
    ("album_id", STR), ("album_name", STR), ("album_type", STR), ("release_date", DATE),
    ("release_date_precision", STR), ("total_tracks", INT), ("label", STR), ("popularity", INT),
    ("artist_id", STR), ("artist_ids", STR_ARRAY), ("upc", STR), ("image_url", STR), ("fetched_at", TS),
)
TRACKS_DATA = _s(
    ("track_id", STR), ("track_name", STR), ("album_id", STR), ("artist_id", STR), ("artist_ids", STR_ARRAY),
    ("disc_number", INT), ("track_number", INT), ("duration_ms", LONG), ("explicit", BOOL), ("popularity", INT),
    ("isrc", STR), ("fetched_at", TS),
)
SILVER_TRACK_ARTISTS = _s(("track_id", STR), ("artist_id", STR), ("artist_position", INT))
SILVER_FEATURE_MUSIC = T.StructType([
    T.StructField("track_id", STR), T.StructField("features_source", STR), *_feature_fields(), T.StructField("duration_ms", LONG),
    T.StructField("fetched_at", TS),
])
SILVER_ARTISTS_GENRES = _s(("artist_id", STR), ("genre", STR), ("genre_source", STR))
GOLD_TRACK_METADATA = _s(
    ("track_id", STR), ("track_name", STR), ("album_id", STR), ("album_name", STR), ("album_type", STR),
    ("artist_id", STR), ("artist_name", STR), ("artist_ids", STR_ARRAY), ("release_date", DATE),
    ("release_date_precision", STR), ("duration_ms", LONG), ("explicit", BOOL), ("popularity", INT),
    ("isrc", STR), ("genres", STR_ARRAY),
)
GOLD_FEATURE_MATRIX = T.StructType([
    T.StructField("track_id", STR), T.StructField("track_name", STR), T.StructField("artist_name", STR),
    *_feature_fields(),
])
WAREHOUSE_TRACK_DASHBOARD = T.StructType([
    T.StructField("track_id", STR), T.StructField("track_name", STR), T.StructField("artist_id", STR),
    T.StructField("artist_name", STR), T.StructField("album_id", STR), T.StructField("album_name", STR),
    T.StructField("album_type", STR), T.StructField("release_date", DATE), T.StructField("release_year", INT),
    T.StructField("decade", INT), T.StructField("duration_min", DBL), T.StructField("explicit", BOOL),
    T.StructField("popularity", INT), T.StructField("genres", STR_ARRAY), T.StructField("genres_text", STR),
    T.StructField("primary_genre", STR), T.StructField("has_features", BOOL), T.StructField("features_source", STR),
    *_feature_fields(),
])
# History (issue 14, spark_jobs/history.py): one row per key and date.
SILVER_ARTIST_SNAPSHOTS = _s(
    ("artist_id", STR), ("snapshot_date", DATE), ("artist_name", STR), ("followers", LONG), ("popularity", INT),
    ("fetched_at", TS),
)
SILVER_TRACK_SNAPSHOTS = _s(("track_id", STR), ("snapshot_date", DATE), ("popularity", INT), ("fetched_at", TS))
KWORB_RANKINGS = _s(
    ("scrape_date", DATE), ("artist_id", STR), ("artist_name", STR), ("page", STR), ("rank", INT), ("metric", STR),
    ("value", DBL),
)
SILVER_UNAVAILABLE = _s(("entity_type", STR), ("entity_id", STR), ("unavailable_since", DATE),
                        ("last_detected_at", TS))
WAREHOUSE_ARTIST_HISTORY = _s(
    ("artist_id", STR), ("snapshot_date", DATE), ("artist_name", STR), ("popularity", INT), ("followers", LONG),
    ("monthly_listeners", LONG), ("streams_millions", DBL), ("daily_streams_millions", DBL),
    ("listeners_rank", INT), ("streams_rank", INT),
)
WAREHOUSE_TRACK_RECOMMENDATION = T.StructType([
    T.StructField("track_id", STR), T.StructField("track_name", STR), T.StructField("artist_name", STR),
    *[T.StructField(c, DBL) for c in FEATURE_COLUMNS],
])
WAREHOUSE_TRACK_SIMILAR = _s(
    ("track_id", STR), ("rank", INT), ("similar_track_id", STR), ("distance", DBL), ("genre_overlap", DBL),
    ("score", DBL),
)
WAREHOUSE_TRACK_CLUSTERS = _s(
    ("track_id", STR), ("track_name", STR), ("artist_name", STR), ("primary_genre", STR), ("cluster_id", INT),
    ("pca_x", DBL), ("pca_y", DBL),
)


# Documented ranges of Spotify's audio features (time_signature: 3..7; key -1 = not detected).
FEATURE_RANGES: dict[str, tuple[float, float]] = {
    "danceability": (0.0, 1.0), "energy": (0.0, 1.0), "speechiness": (0.0, 1.0), "acousticness": (0.0, 1.0),
    "instrumentalness": (0.0, 1.0), "liveness": (0.0, 1.0), "valence": (0.0, 1.0), "key": (-1, 11),
    "mode": (0, 1), "loudness": (-60.0, 5.0), "tempo": (0.0, 300.0), "time_signature": (0, 7),
}
POPULARITY_RANGE = (0, 100)  # Spotify's popularity scale; null for development-mode apps


@dataclass(frozen=True)
class Allowed:
    """The values a column may hold; a null counts as outside (a row that does not say where it came
    from). ``when`` names a boolean column: the rule holds only on rows where it is true."""

    values: tuple[str, ...]
    when: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """A lake table: where it lives, its schema, and what ``spotify-pipeline check`` tests on it.

    The data-quality declarations (dbt's generic tests: unique, not_null, relationships,
    accepted_values, accepted_range, source freshness) are read by ``spark_jobs/quality.py``, which
    runs one generic check per kind; checks across layers (no id lost, counts against landing) are
    written there by hand.
    """

    name: str
    layer: str  # bronze | silver | gold | warehouse
    path: str  # relative to the lake root
    schema: T.StructType
    primary_key: tuple[str, ...]  # unique and never null
    description: str
    # Written by Spark into versioned folders (lake/versions.py); bronze collections are written by export.
    versioned: bool = True
    # column -> "parent_table.column": every non-null value exists in the parent
    references: Mapping[str, str] = field(default_factory=dict, hash=False)
    not_null: tuple[str, ...] = ()
    allowed: Mapping[str, Allowed] = field(default_factory=dict, hash=False)
    # column -> (low, high), both inclusive; nulls pass
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict, hash=False)
    # timestamp column whose newest value must be recent (the bound is `check --max-age-hours`)
    fresh_by: str | None = None

    @property
    def database(self) -> str:
        return self.layer

    def __post_init__(self) -> None:
        """Declarations name columns of the schema (a typo would silently check nothing)."""
        named = {*self.primary_key, *self.references, *self.not_null, *self.allowed, *self.ranges,
                 *[a.when for a in self.allowed.values() if a.when], *([self.fresh_by] if self.fresh_by else [])}
        unknown = named - set(self.schema.fieldNames())
        if unknown:
            raise ValueError(f"table {self.name}: declared columns not in its schema: {sorted(unknown)}")


BRONZE_COLLECTIONS = COLLECTIONS  # one bronze table per landing collection


def _spec(table: tables.Table | str, schema: T.StructType, **checks: object) -> TableSpec:
    """A registry table (spotify_core/tables.py: layer, folder, key, by name) with its schema and checks."""
    table = tables.TABLES[table] if isinstance(table, str) else table
    return TableSpec(table.name, table.layer, table.path, schema, table.primary_key, table.description,
                     versioned=table.versioned, **checks)  # type: ignore[arg-type]

HISTORY_BRONZE = ("kworb_raw", "unavailable_raw")  # read by the history job (spark_jobs/history.py)

_SPECS = [
    *[_spec(name, BRONZE_SCHEMA) for name in BRONZE_COLLECTIONS],
    _spec("silver_artists", SILVER_ARTISTS,
          not_null=("artist_name", "fetched_at"), ranges={"popularity": POPULARITY_RANGE},
          fresh_by="fetched_at"),
    _spec("silver_album", SILVER_ALBUM,
          not_null=("album_name", "fetched_at"), ranges={"popularity": POPULARITY_RANGE}),
    _spec("tracks_data", TRACKS_DATA,
          references={"album_id": "silver_album.album_id", "artist_id": "silver_artists.artist_id"},
          not_null=("track_name", "album_id", "artist_id", "fetched_at"),
          ranges={"popularity": POPULARITY_RANGE}, fresh_by="fetched_at"),
    _spec("silver_track_artists", SILVER_TRACK_ARTISTS,
          references={"track_id": "tracks_data.track_id"}),
    _spec("silver_feature_music", SILVER_FEATURE_MUSIC,
          references={"track_id": "tracks_data.track_id"}, not_null=("fetched_at",),
          allowed={"features_source": Allowed(FEATURE_SOURCES)}, ranges=FEATURE_RANGES),
    _spec("silver_artists_genres", SILVER_ARTISTS_GENRES,
          references={"artist_id": "silver_artists.artist_id"},
          allowed={"genre_source": Allowed(GENRE_SOURCES)}),
    _spec("gold_track_metadata", GOLD_TRACK_METADATA,
          references={"track_id": "tracks_data.track_id"}, not_null=("track_name", "album_id")),
    _spec("gold_feature_matrix", GOLD_FEATURE_MATRIX,
          references={"track_id": "silver_feature_music.track_id"}, ranges=FEATURE_RANGES),
    _spec("warehouse_track_dashboard", WAREHOUSE_TRACK_DASHBOARD,
          references={"track_id": "gold_track_metadata.track_id"}, not_null=("track_name", "has_features"),
          allowed={"features_source": Allowed(FEATURE_SOURCES, when="has_features")}),
    _spec("silver_artist_snapshots", SILVER_ARTIST_SNAPSHOTS),
    _spec("silver_track_snapshots", SILVER_TRACK_SNAPSHOTS),
    _spec("kworb_rankings", KWORB_RANKINGS, not_null=("value",)),
    _spec("silver_unavailable", SILVER_UNAVAILABLE),
    _spec("warehouse_artist_history", WAREHOUSE_ARTIST_HISTORY),
    _spec("warehouse_track_recommendation", WAREHOUSE_TRACK_RECOMMENDATION),
    _spec("warehouse_track_similar", WAREHOUSE_TRACK_SIMILAR,
          references={"track_id": "warehouse_track_recommendation.track_id",
                      "similar_track_id": "warehouse_track_recommendation.track_id"},
          not_null=("similar_track_id", "score")),
    _spec("warehouse_track_clusters", WAREHOUSE_TRACK_CLUSTERS,
          references={"track_id": "warehouse_track_recommendation.track_id"}, not_null=("cluster_id",)),
]
TABLES: dict[str, TableSpec] = {spec.name: spec for spec in _SPECS}
if set(TABLES) != set(tables.TABLES):  # a table is named once, in spotify_core/tables.py
    raise ValueError(f"tables without a schema: {sorted(set(tables.TABLES) - set(TABLES))}")
QUARANTINE = _spec(tables.QUARANTINE, QUARANTINE_SCHEMA)
HISTORY_QUARANTINE = _spec(tables.HISTORY_QUARANTINE, QUARANTINE_SCHEMA)
LAYERS = tables.LAYERS


def tables_in(layer: str) -> list[TableSpec]:
    return [spec for spec in _SPECS if spec.layer == layer]
