"""DuckDB reference build of every lake table, from the same bronze files, for the ETL benchmark only.

Not a second implementation in the product: it exists so the benchmark compares Spark with an
engine doing the same work (every silver, gold and warehouse table, same schemas and rows,
written as Parquet, each layer reading the previous layer's files) and can check that both
produce the same rows. That includes the history tables Spark's silver and warehouse layers
build (``spark_jobs/history.py``: per-date snapshots, kworb rankings, unavailable entities, their
quarantine, ``warehouse_artist_history``). Tie-breaks between two fetches of one id at the same
instant and run differ (Spark orders by a payload hash DuckDB does not have); the benchmark data
has none. A quarantined kworb row's payload is Spark's ``to_json`` of the parsed row, rebuilt here
field by field (nulls left out); doubles inside its metrics may print differently (Java's
``1.0E7`` against DuckDB's ``10000000.0``), and a rejected row carries no metrics. Payloads are
parsed with Spark's payload schemas (integers read as text and converted, as silver does), so an
integral float and a wrong integer quarantine alike; JSON of another shape (a string where an
object or a boolean belongs) fails Spark's parse but is read leniently by ``json_transform``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
from pyspark.sql import types as T

from lake.fs import LocalFS
from lake.tables import current_path
from spark_jobs import schemas as S
from spark_jobs.silver import INTEGER_LIMITS, NO_ID, RECCOBEATS_HREF, has_integers
from spotify_core.vocabulary import FEATURE_NAMES, GENRE_SOURCES

TS = "strptime(fetched_at, '%Y-%m-%dT%H:%M:%S.%fZ')"
FEATURES = FEATURE_NAMES
# Spark's payload schemas (spark_jobs.schemas), so both engines parse the same fields the same way.
SPARK_PAYLOADS = {"artists_raw": S.ARTIST_PAYLOAD, "albums_raw": S.ALBUM_PAYLOAD, "tracks_raw": S.TRACK_PAYLOAD,
                  "audio_features_raw": S.FEATURES_PAYLOAD, "genres_raw": S.GENRES_PAYLOAD}
SPARK_HISTORY_PAYLOADS = {"kworb_raw": S.KWORB_PAYLOAD, "unavailable_raw": S.UNAVAILABLE_PAYLOAD}
_DUCK_TYPES = {T.StringType: "VARCHAR", T.DoubleType: "DOUBLE", T.BooleanType: "BOOLEAN"}
_DUCK_INTS = {T.IntegerType: "INTEGER", T.LongType: "BIGINT"}


def wire_structure(dt: T.DataType) -> object:
    """``json_transform``'s structure of a Spark payload type, integers read as text (silver.wire_type)."""
    if isinstance(dt, T.StructType):
        return {f.name: wire_structure(f.dataType) for f in dt.fields}
    if isinstance(dt, T.ArrayType):
        return [wire_structure(dt.elementType)]
    if isinstance(dt, T.MapType):
        return f"MAP({wire_structure(dt.keyType)}, {wire_structure(dt.valueType)})"
    return "VARCHAR" if type(dt) in INTEGER_LIMITS else _DUCK_TYPES[type(dt)]


def narrow_sql(expr: str, dt: T.DataType, path: str = "", depth: int = 0) -> tuple[str, list[tuple[str, str]]]:
    """silver.narrow in SQL: (the value with integers converted back, [(field path, is-wrong condition)])."""
    if not has_integers(dt):
        return expr, []
    if isinstance(dt, T.StructType):
        parts = [(f.name, *narrow_sql(f"{expr}.{f.name}", f.dataType, f"{path}.{f.name}".lstrip("."), depth))
                 for f in dt.fields]
        packed = ", ".join(f"\"{name}\" := {value}" for name, value, _ in parts)
        return f"CASE WHEN {expr} IS NOT NULL THEN struct_pack({packed}) END", [w for *_, ws in parts for w in ws]
    if isinstance(dt, T.ArrayType):
        x = f"x{depth}"
        value, wrong = narrow_sql(x, dt.elementType, f"{path}[]", depth + 1)
        return (f"list_transform({expr}, {x} -> {value})",
                [(p, f"len(list_filter({expr}, {x} -> {c})) > 0") for p, c in wrong])
    number = f"TRY_CAST({expr} AS DOUBLE)"
    ok = f"({number} % 1 = 0 AND abs({number}) <= {INTEGER_LIMITS[type(dt)]})"
    return (f"CASE WHEN {ok} THEN CAST({number} AS {_DUCK_INTS[type(dt)]}) END",
            [(path, f"({expr} IS NOT NULL AND NOT coalesce({ok}, false))")])


PAYLOADS = {c: json.dumps(wire_structure(t)) for c, t in SPARK_PAYLOADS.items()}
HISTORY_PAYLOADS = {c: json.dumps(wire_structure(t)) for c, t in SPARK_HISTORY_PAYLOADS.items()}
KWORB_METRICS = ("monthly_listeners", "streams_millions", "daily_streams_millions")
ISO = "'%Y-%m-%dT%H:%M:%S.%fZ'"


def _bronze(bronze: Path, collection: str) -> str:
    """A bronze collection's rows; an empty relation when the export wrote no file for it (no kworb scrape)."""
    if any((bronze / collection).glob("*.parquet")):
        return f"read_parquet('{bronze}/{collection}/*.parquet')"
    return "(SELECT NULL::VARCHAR AS _id, NULL::VARCHAR AS fetched_at, NULL::VARCHAR AS run_id, " \
           "NULL::VARCHAR AS payload WHERE false)"


def _fetches(collection: str, bronze: Path, schema: T.StructType, key: str = "p.id") -> str:
    """Every fetch of a collection parsed once (silver's latest-per-key and history's per-date tables
    both derive from it), integers read as text and converted like silver.parse_fetches; ``p`` is null
    where the payload is not JSON, ``bad`` says why a row is quarantined, ``key`` is null for those
    and where the payload has no id."""
    value, wrong = narrow_sql("w", schema)
    problems = "concat_ws('; ', " + ", ".join(
        [f"CASE WHEN {c} THEN 'field {p} is not an integer' END" for p, c in wrong] or ["NULL"]) + ")"
    return f"""
    CREATE OR REPLACE TEMP TABLE {collection}_fetches AS
    SELECT *, CASE WHEN bad IS NULL THEN {key} END AS key FROM (
        SELECT _id, fetched_at, run_id, payload, valid, CASE WHEN valid THEN {value} END AS p,
               CASE WHEN NOT valid THEN 'payload is not valid JSON' WHEN {problems} <> '' THEN {problems} END AS bad
        FROM (SELECT _id, fetched_at, run_id, payload, coalesce(json_valid(payload), false) AS valid,
                     CASE WHEN json_valid(payload) THEN json_transform(payload, '{json.dumps(wire_structure(schema))}')
                     END AS w
              FROM {_bronze(bronze, collection)}))"""


def _parsed(collection: str) -> str:
    """The latest fetch per key, and every fetch without one (the quarantine's)."""
    return f"""
    CREATE OR REPLACE TEMP TABLE {collection}_parsed AS
    SELECT * EXCLUDE (rn) FROM (
        SELECT *, row_number() OVER (PARTITION BY key ORDER BY fetched_at DESC, run_id DESC, payload DESC) AS rn
        FROM {collection}_fetches)
    WHERE key IS NULL OR rn = 1"""


def _latest(collection: str) -> str:
    return f"(SELECT * FROM {collection}_parsed WHERE key IS NOT NULL)"


def silver_sql() -> dict[str, str]:
    ar, al, tr = _latest("artists_raw"), _latest("albums_raw"), _latest("tracks_raw")
    fe, ge = _latest("audio_features_raw"), _latest("genres_raw")
    rank = ("CASE src " + " ".join(f"WHEN '{g}' THEN '{i}'" for i, g in enumerate(GENRE_SOURCES))
            + f" ELSE '{len(GENRE_SOURCES)}' END")
    padded = ("CASE p.release_date_precision WHEN 'year' THEN p.release_date || '-01-01' "
              "WHEN 'month' THEN p.release_date || '-01' ELSE p.release_date END")
    return {
        "_quarantine": " UNION ALL ".join(
            f"SELECT '{c}' AS source, _id, fetched_at, coalesce(bad, '{NO_ID}') AS reason, payload "
            f"FROM {c}_parsed WHERE key IS NULL" for c in PAYLOADS),
        "silver_artists": f"""SELECT p.id AS artist_id, p.name AS artist_name, p.followers.total AS followers,
            p.popularity, p.images[1].url AS image_url, p.uri, {TS} AS fetched_at FROM {ar}""",
        "silver_album": f"""SELECT p.id AS album_id, p.name AS album_name, p.album_type,
            CASE WHEN year(try_strptime({padded}, '%Y-%m-%d')) >= 1
                 THEN CAST(try_strptime({padded}, '%Y-%m-%d') AS DATE) END AS release_date,
            p.release_date_precision, p.total_tracks, p.label, p.popularity, p.artists[1].id AS artist_id,
            list_transform(p.artists, a -> a.id) AS artist_ids, p.external_ids.upc AS upc,
            p.images[1].url AS image_url, {TS} AS fetched_at FROM {al}""",
        "tracks_data": f"""
            WITH items AS (SELECT p.id AS album_id, unnest(p.tracks.items) AS t, fetched_at FROM {al}),
            a AS (SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY t.id ORDER BY album_id) rn
                                              FROM items WHERE t.id IS NOT NULL) WHERE rn = 1),
            r AS (SELECT p AS r, fetched_at AS r_fetched_at FROM {tr}),
            j AS (SELECT *, coalesce(r.artists, a.t.artists) AS artists FROM r FULL OUTER JOIN a ON r.r.id = a.t.id)
            SELECT coalesce(r.id, t.id) AS track_id, coalesce(r.name, t.name) AS track_name,
                   coalesce(r.album.id, album_id) AS album_id, artists[1].id AS artist_id,
                   list_transform(artists, x -> x.id) AS artist_ids,
                   coalesce(r.disc_number, t.disc_number) AS disc_number,
                   coalesce(r.track_number, t.track_number) AS track_number,
                   coalesce(r.duration_ms, t.duration_ms) AS duration_ms, coalesce(r.explicit, t.explicit) AS explicit,
                   r.popularity, r.external_ids.isrc AS isrc,
                   coalesce(strptime(r_fetched_at, '%Y-%m-%dT%H:%M:%S.%fZ'),
                            strptime(fetched_at, '%Y-%m-%dT%H:%M:%S.%fZ')) AS fetched_at
            FROM j""",
        "silver_track_artists": """
            SELECT track_id, artist_id, CAST(min(pos) AS INTEGER) AS artist_position FROM (
                SELECT track_id, unnest(artist_ids) AS artist_id, unnest(range(1, len(artist_ids) + 1)) AS pos
                FROM tracks_data) WHERE artist_id IS NOT NULL GROUP BY track_id, artist_id""",
        "silver_feature_music": f"""SELECT key AS track_id, coalesce(p.source, CASE WHEN contains(p.href,
                '{RECCOBEATS_HREF}') THEN 'reccobeats' END, 'spotify') AS features_source,
            {", ".join(f"p.{c}" for c in FEATURES)},
            p.duration_ms, {TS} AS fetched_at FROM {fe}""",
        "silver_artists_genres": f"""
            WITH g AS (SELECT key AS artist_id, p.genres, coalesce(p.source, 'spotify') AS src FROM {ge}),
            a AS (SELECT p.id AS artist_id, p.genres, 'spotify' AS src FROM {ar}),
            both_ AS (SELECT * FROM g UNION ALL SELECT * FROM a
                      WHERE artist_id NOT IN (SELECT artist_id FROM g WHERE src = 'spotify')),
            r AS (SELECT artist_id, trim(genre) AS genre, {rank} || src AS rk
                  FROM (SELECT artist_id, unnest(genres) AS genre, src FROM both_))
            SELECT artist_id, genre, substr(min(rk), 2) AS genre_source FROM r
            WHERE genre IS NOT NULL AND length(genre) > 0 GROUP BY artist_id, genre""",
    }


def _latest_per_date(rows: str, date: str, where: str) -> str:
    """One row per (key, date) of ``rows``: the latest fetch of that date (history.latest_per_date)."""
    return f"""(SELECT * EXCLUDE (rn) FROM (
        SELECT *, row_number() OVER (PARTITION BY key, {date} ORDER BY fetched_at DESC, run_id DESC, payload DESC) AS rn
        FROM {rows} WHERE {where}) WHERE rn = 1)"""


def _spark_json(fields: tuple[str, ...]) -> str:
    """Spark's ``to_json(p)``: the struct's non-null fields in schema order."""
    parts = ", ".join(f"""CASE WHEN p.{f} IS NOT NULL THEN '"{f}":' || to_json(p.{f}) END""" for f in fields)
    return f"CASE WHEN p IS NOT NULL THEN '{{' || concat_ws(',', {parts}) || '}}' END"


def history_sql() -> dict[str, str]:
    """The history step's tables (spark_jobs/history.py), from every fetch rather than the latest."""
    def snapshots(collection: str) -> str:
        return f"(SELECT *, CAST(strptime(fetched_at, {ISO}) AS DATE) AS snapshot_date FROM {collection}_fetches)"

    bad_parse = f"coalesce(bad, '{NO_ID}')"
    kworb_dated = ("(SELECT *, CAST(try_strptime(p.scrape_date, '%Y-%m-%d') AS DATE) AS scrape_date, "
                   "p.error IS NOT NULL OR try_strptime(p.scrape_date, '%Y-%m-%d') IS NULL "
                   "OR p.artist_id IS NULL AS broken FROM kworb_raw_fetches WHERE valid AND key IS NOT NULL)")
    kworb_fields = ("scrape_date", "page", "artist_id", "artist_name", "rank", "metrics", "error")
    return {
        "_quarantine_history": f"""
            SELECT 'kworb_raw' AS source, _id, fetched_at, {bad_parse} AS reason, payload
            FROM kworb_raw_fetches WHERE NOT valid OR key IS NULL
            UNION ALL
            SELECT 'kworb_raw', _id, fetched_at, coalesce(p.error, 'no scrape date or artist id'),
                   {_spark_json(kworb_fields)} FROM {kworb_dated} WHERE broken
            UNION ALL
            SELECT 'unavailable_raw', _id, fetched_at, {bad_parse}, payload
            FROM unavailable_raw_fetches WHERE NOT valid OR key IS NULL""",
        "silver_artist_snapshots": f"""
            SELECT p.id AS artist_id, snapshot_date, p.name AS artist_name, p.followers.total AS followers,
                   p.popularity, strptime(fetched_at, {ISO}) AS fetched_at
            FROM {_latest_per_date(snapshots("artists_raw"), "snapshot_date", "key IS NOT NULL")}""",
        "silver_track_snapshots": f"""
            SELECT p.id AS track_id, snapshot_date, p.popularity, strptime(fetched_at, {ISO}) AS fetched_at
            FROM {_latest_per_date(snapshots("tracks_raw"), "snapshot_date",
                                   "key IS NOT NULL AND p.popularity IS NOT NULL")}""",
        "kworb_rankings": f"""
            WITH good AS {_latest_per_date(kworb_dated, "scrape_date", "NOT broken")},
                 m AS (SELECT scrape_date, p.artist_id AS artist_id, p.artist_name AS artist_name, p.page AS page,
                              p.rank AS rank, unnest(map_entries(p.metrics)) AS e FROM good),
                 r AS (SELECT scrape_date, artist_id, artist_name, page, rank, e.key AS metric, e.value AS value,
                              row_number() OVER (PARTITION BY scrape_date, artist_id, e.key
                                                 ORDER BY rank ASC NULLS FIRST, page ASC NULLS FIRST) AS rn
                       FROM m WHERE e.value IS NOT NULL)
            SELECT scrape_date, artist_id, artist_name, page, rank, metric, value FROM r WHERE rn = 1""",
        "silver_unavailable": f"""
            SELECT p.type AS entity_type, p.id AS entity_id,
                   min(CAST(try_strptime(p.detected_at, {ISO}) AS DATE)) AS unavailable_since,
                   max(try_strptime(p.detected_at, {ISO})) AS last_detected_at
            FROM unavailable_raw_fetches
            WHERE valid AND key IS NOT NULL AND p.type IS NOT NULL GROUP BY p.type, p.id""",
    }


WAREHOUSE_HISTORY = {
    "warehouse_artist_history": """
        WITH per_metric AS (
            SELECT artist_id, scrape_date AS snapshot_date, {firsts}
            FROM kworb_rankings WHERE metric IN ({metrics}) GROUP BY artist_id, scrape_date),
        ranks AS (
            SELECT artist_id, scrape_date AS snapshot_date, first(artist_name) AS kworb_name,
                   min(rank) FILTER (WHERE page = 'listeners.html') AS listeners_rank,
                   min(rank) FILTER (WHERE page = 'artists.html') AS streams_rank
            FROM kworb_rankings GROUP BY artist_id, scrape_date),
        kworb AS (SELECT * FROM per_metric JOIN ranks USING (artist_id, snapshot_date))
        SELECT coalesce(s.artist_id, k.artist_id) AS artist_id, coalesce(s.snapshot_date, k.snapshot_date)
                   AS snapshot_date, coalesce(s.artist_name, k.kworb_name) AS artist_name, s.popularity, s.followers,
               CAST(trunc(k.monthly_listeners) AS BIGINT) AS monthly_listeners, k.streams_millions,
               k.daily_streams_millions, k.listeners_rank, k.streams_rank
        FROM silver_artist_snapshots s FULL OUTER JOIN kworb k
             ON s.artist_id = k.artist_id AND s.snapshot_date = k.snapshot_date""".format(
        firsts=", ".join(f"first(value) FILTER (WHERE metric = '{m}') AS {m}" for m in KWORB_METRICS),
        metrics=", ".join(f"'{m}'" for m in KWORB_METRICS)),
}
GOLD = {
    "gold_track_metadata": """
        WITH tg AS (SELECT ta.track_id, list_sort(list_distinct(list(g.genre))) AS genres
                    FROM silver_track_artists ta JOIN silver_artists_genres g USING (artist_id) GROUP BY ta.track_id)
        SELECT t.track_id, t.track_name, t.album_id, al.album_name, al.album_type, t.artist_id, ar.artist_name,
               t.artist_ids, al.release_date, al.release_date_precision, t.duration_ms, t.explicit, t.popularity,
               t.isrc, coalesce(tg.genres, []::VARCHAR[]) AS genres
        FROM tracks_data t LEFT JOIN silver_album al ON al.album_id = t.album_id
             LEFT JOIN silver_artists ar ON ar.artist_id = t.artist_id LEFT JOIN tg ON tg.track_id = t.track_id""",
    "gold_feature_matrix": f"""
        SELECT m.track_id, m.track_name, m.artist_name, {", ".join(f"f.{c}" for c in FEATURES)}
        FROM gold_track_metadata m JOIN silver_feature_music f ON f.track_id = m.track_id""",
}
WAREHOUSE = {
    "warehouse_track_dashboard": f"""
        SELECT m.track_id, m.track_name, m.artist_id, m.artist_name, m.album_id, m.album_name, m.album_type,
               m.release_date, CAST(year(m.release_date) AS INTEGER) AS release_year,
               CAST(floor(year(m.release_date) / 10) * 10 AS INTEGER) AS decade,
               ((m.duration_ms * 100 + 30000) // 60000) / 100.0 AS duration_min, m.explicit, m.popularity,
               m.genres, array_to_string(m.genres, ', ') AS genres_text, m.genres[1] AS primary_genre,
               f.track_id IS NOT NULL AS has_features, f.features_source, {", ".join(f"f.{c}" for c in FEATURES)}
        FROM gold_track_metadata m LEFT JOIN silver_feature_music f ON f.track_id = m.track_id""",
    "warehouse_track_recommendation": """
        WITH s AS (SELECT {aggs} FROM gold_feature_matrix)
        SELECT track_id, track_name, artist_name, {zs} FROM gold_feature_matrix, s""".format(
        aggs=", ".join(f"avg({c}) AS {c}__mean, stddev_pop({c}) AS {c}__std" for c in FEATURES),
        zs=", ".join(f"CASE WHEN {c}__std > 0 THEN ({c} - {c}__mean) / {c}__std "
                     f"WHEN {c} IS NOT NULL THEN 0.0 END AS {c}" for c in FEATURES)),
}


def _write(con: duckdb.DuckDBPyConnection, sql: str, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({sql}) TO '{out}/part-0.parquet' (FORMAT parquet, COMPRESSION zstd)")
    return con.execute(f"SELECT count(*) FROM read_parquet('{out}/part-0.parquet')").fetchone()[0]


def _view(con: duckdb.DuckDBPyConnection, name: str, out: Path) -> None:
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{out}/part-0.parquet')")


def build(bronze: Path, out_root: Path, threads: int = 2) -> dict:
    """Every silver, gold and warehouse table from ``bronze`` into ``out_root/<layer>_layer/<table>``.

    Returns seconds per layer and rows per table. Row counts are read from the written files'
    footers (metadata only).
    """
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET TimeZone = 'UTC'")
    result: dict = {"seconds": {}, "rows": {}}
    t0 = time.monotonic()
    keys = {"genres_raw": "coalesce(p.artist_id, p.id)", "kworb_raw": "_id", "audio_features_raw": "_id"}
    for collection, schema in {**SPARK_PAYLOADS, **SPARK_HISTORY_PAYLOADS}.items():
        con.execute(_fetches(collection, bronze, schema, keys.get(collection, "p.id")))
    parse_s = time.monotonic() - t0
    for collection in PAYLOADS:
        con.execute(_parsed(collection))
    silver = {**silver_sql(), **history_sql()}
    for name in silver:
        out = out_root / (f"bronze_layer/{name}" if name.startswith("_") else f"silver_layer/{name}")
        result["rows"][name] = _write(con, silver[name], out)
        if not name.startswith("_"):
            _view(con, name, out)
    for collection in {**PAYLOADS, **HISTORY_PAYLOADS}:
        con.execute(f"DROP TABLE {collection}_fetches")
    for collection in PAYLOADS:
        con.execute(f"DROP TABLE {collection}_parsed")
    result["seconds"]["silver"] = round(time.monotonic() - t0, 2)
    for layer, tables in (("gold", GOLD), ("warehouse", {**WAREHOUSE, **WAREHOUSE_HISTORY})):
        t0 = time.monotonic()
        for name, sql in tables.items():
            out = out_root / f"{layer}_layer/{name}"
            result["rows"][name] = _write(con, sql, out)
            _view(con, name, out)
        result["seconds"][layer] = round(time.monotonic() - t0, 2)
    con.close()
    result["seconds"]["total"] = round(sum(result["seconds"].values()), 2)
    result["seconds"]["parse"] = round(parse_s, 2)  # part of silver: the payloads' parse alone
    return result


TOLERANCE = 1e-9  # relative: the two engines sum doubles in different orders (means, standard deviations)


def _normalized(path: Path, schema, digits: int | None = 9) -> str:
    """A select over one table's Parquet files with doubles rounded (unless ``digits`` is None) and
    timestamps as UTC instants."""
    from pyspark.sql import types as T

    cols = []
    for f in schema.fields:
        if isinstance(f.dataType, T.DoubleType) and digits is not None:
            cols.append(f"round({f.name}, {digits}) AS {f.name}")
        elif isinstance(f.dataType, T.TimestampType):
            cols.append(f"CAST({f.name} AS TIMESTAMP) AS {f.name}")
        else:
            cols.append(f.name)
    return f"SELECT {', '.join(cols)} FROM read_parquet('{path}/**/*.parquet')"


def _unmatched_within_tolerance(con: duckdb.DuckDBPyConnection, a: str, b: str, spec) -> int:
    """Rows of ``a`` with no row of ``b`` of the same key equal on every column, doubles within TOLERANCE.

    Rounding both sides to 9 decimals still splits two values a few ulps apart that straddle a
    rounding boundary; at ~300k rows that happens to a handful of z-scores.
    """
    from pyspark.sql import types as T

    same = []
    for f in spec.schema.fields:
        if isinstance(f.dataType, T.DoubleType):
            same.append(f"((x.{f.name} IS NULL AND y.{f.name} IS NULL) OR "
                        f"abs(x.{f.name} - y.{f.name}) <= {TOLERANCE} * greatest(1.0, abs(x.{f.name})))")
        else:
            same.append(f"x.{f.name} IS NOT DISTINCT FROM y.{f.name}")
    keys = " AND ".join(f"x.{k} = y.{k}" for k in spec.primary_key)
    return con.execute(f"SELECT count(*) FROM ({a}) x WHERE NOT EXISTS (SELECT 1 FROM ({b}) y WHERE {keys} "
                       f"AND {' AND '.join(same)})").fetchone()[0]


def compare(spark_root: Path, duck_root: Path, specs) -> dict:
    """Per table: rows in each build and rows found in only one of them (multiset difference, doubles
    rounded to 9 decimals); where some differ and the table has a key, the rows that still differ when
    doubles are compared within a relative TOLERANCE instead."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    out = {}
    for spec in specs:
        spark_table = current_path(LocalFS(spark_root), spec.path) if spec.versioned else spec.path  # one version
        spark_dir, duck_dir = spark_root / spark_table, duck_root / spec.path
        a, b = _normalized(spark_dir, spec.schema), _normalized(duck_dir, spec.schema)
        only_spark = con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0]
        only_duck = con.execute(f"SELECT count(*) FROM ({b} EXCEPT ALL {a})").fetchone()[0]
        rows = con.execute(f"SELECT (SELECT count(*) FROM ({a})), (SELECT count(*) FROM ({b}))").fetchone()
        result = {"spark_rows": rows[0], "duckdb_rows": rows[1], "only_in_spark": only_spark,
                  "only_in_duckdb": only_duck, "identical": only_spark == only_duck == 0}
        if not result["identical"] and spec.primary_key and rows[0] == rows[1]:
            raw_a, raw_b = _normalized(spark_dir, spec.schema, None), _normalized(duck_dir, spec.schema, None)
            differ = (_unmatched_within_tolerance(con, raw_a, raw_b, spec)
                      + _unmatched_within_tolerance(con, raw_b, raw_a, spec))
            result.update(differ_beyond_tolerance=differ, identical_within_tolerance=differ == 0)
        out[spec.name] = result
    con.close()
    return out
