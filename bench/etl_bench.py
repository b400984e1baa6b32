"""ETL benchmark: export and each Spark layer on local[*], with DuckDB SQL as the reference.

Landing data is generated straight from the synthetic catalog as the crawler would land it in
extended mode (full artists, albums with joined track pages, full tracks, audio features,
genres), so the Spark jobs parse realistic payloads. DuckDB computes the same
gold_track_metadata from the same bronze files in one SQL statement, in the same run.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import psutil

from bench.common import PeakRss
from crawler.landing.base import LandingDocument, utc_now_iso
from crawler.landing.sqlite import SQLiteLandingStore
from crawler.sample_api.synthetic_catalog import generate_catalog
from lake.export import export_landing
from lake.fs import open_lake
from spotify_pipeline.settings import load_settings

BASE = "https://api.spotify.com/v1"


def land_catalog(store: SQLiteLandingStore, n_artists: int) -> int:
    cat = generate_catalog(n_artists)
    now = utc_now_iso()

    def docs(pairs):
        return [LandingDocument(i, p, now, "bench") for i, p in pairs]

    artists = [cat.artist(i, BASE) for i in range(n_artists)]
    store.upsert("artists_raw", docs((a["id"], a) for a in artists))
    store.upsert("genres_raw", docs((a["id"], {"id": a["id"], "genres": a["genres"]}) for a in artists))
    for start in range(0, cat.n_albums, 2000):
        albums = []
        for a in range(start, min(start + 2000, cat.n_albums)):
            obj = cat.album(a, BASE)
            obj["tracks"] = {**obj["tracks"], "items": [cat.simplified_track(t, BASE) for t in cat.album_tracks(a)],
                             "next": None}
            albums.append((obj["id"], obj))
        store.upsert("albums_raw", docs(albums))
    for start in range(0, cat.n_tracks, 20_000):
        ids = range(start, min(start + 20_000, cat.n_tracks))
        store.upsert("tracks_raw", docs((cat.track_id(t), cat.track(t, BASE)) for t in ids))
        feats = [f for f in (cat.audio_features(t, BASE) for t in ids) if f]
        store.upsert("audio_features_raw", docs((f["id"], f) for f in feats))
    return cat.n_tracks


DUCKDB_GOLD = """
COPY (
WITH
 tr AS (SELECT payload FROM (SELECT payload, row_number() OVER (PARTITION BY _id ORDER BY fetched_at DESC) rn
        FROM read_parquet('{b}/tracks_raw/*.parquet')) WHERE rn = 1),
 t AS (SELECT payload->>'$.id' AS track_id, payload->>'$.name' AS track_name, payload->>'$.album.id' AS album_id,
              payload->>'$.artists[0].id' AS artist_id,
              CAST(json_extract_string(payload, '$.artists[*].id') AS VARCHAR[]) AS artist_ids,
              CAST(payload->>'$.duration_ms' AS BIGINT) AS duration_ms, payload->>'$.external_ids.isrc' AS isrc
       FROM tr),
 al AS (SELECT payload->>'$.id' AS album_id, payload->>'$.name' AS album_name,
               payload->>'$.release_date' AS release_date FROM read_parquet('{b}/albums_raw/*.parquet')),
 ar AS (SELECT payload->>'$.id' AS artist_id, payload->>'$.name' AS artist_name
        FROM read_parquet('{b}/artists_raw/*.parquet')),
 g AS (SELECT payload->>'$.id' AS artist_id, unnest(json_extract_string(payload, '$.genres[*]')) AS genre
       FROM read_parquet('{b}/genres_raw/*.parquet')),
 ta AS (SELECT track_id, unnest(artist_ids) AS artist_id FROM t),
 tg AS (SELECT ta.track_id, list_sort(list_distinct(list(g.genre))) AS genres
        FROM ta JOIN g ON g.artist_id = ta.artist_id GROUP BY ta.track_id)
SELECT t.track_id, t.track_name, t.album_id, al.album_name, t.artist_id, ar.artist_name, t.artist_ids,
       al.release_date, t.duration_ms, t.isrc, coalesce(tg.genres, []) AS genres
FROM t LEFT JOIN al USING (album_id) LEFT JOIN ar USING (artist_id) LEFT JOIN tg USING (track_id)
) TO '{out}' (FORMAT parquet)
"""


def _land_in_child(path: Path, n_artists: int, out: multiprocessing.Queue) -> None:
    with SQLiteLandingStore(path) as store:
        out.put(land_catalog(store, n_artists))


def run_size(n_artists: int, workdir: Path) -> dict:
    from spark_jobs.runner import RUNNERS
    from spark_jobs.session import SparkIO

    settings = load_settings({"DATA_DIR": str(workdir)})
    result: dict = {"artists": n_artists}
    # Generate the landing data in a child process, so that the memory it took does not count
    # towards the peak RSS of the export and the Spark driver measured in this one.
    ctx = multiprocessing.get_context("spawn")
    tracks: multiprocessing.Queue = ctx.Queue()
    t0 = time.monotonic()
    child = ctx.Process(target=_land_in_child, args=(settings.landing_sqlite_path, n_artists, tracks))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"generating the landing data failed (exit {child.exitcode})")
    result["tracks"] = tracks.get(timeout=10)
    result["landing_load_s"] = round(time.monotonic() - t0, 1)
    result["landing_sqlite_mb"] = round(settings.landing_sqlite_path.stat().st_size / 2**20, 1)
    result["bench_process_rss_before_export_mb"] = round(psutil.Process().memory_info().rss / 2**20, 1)
    with SQLiteLandingStore(settings.landing_sqlite_path) as store, PeakRss(os.getpid()) as rss:
        t0 = time.monotonic()
        export = export_landing(store, open_lake(settings))
        result["export"] = {"seconds": round(time.monotonic() - t0, 1), "rows": export.total_rows,
                            "peak_rss_mb": rss.peak_mb}
    layers: dict = {}
    counts: dict[str, int] = {}
    with PeakRss(os.getpid()) as total_rss:
        t_all = time.monotonic()
        with SparkIO(settings, app_name="etl-bench") as spark:
            result["spark_start_s"] = round(time.monotonic() - t_all, 1)
            for layer in ("silver", "gold", "warehouse"):
                with PeakRss(os.getpid()) as rss:
                    t0 = time.monotonic()
                    RUNNERS[layer](spark, settings, counts)
                    layers[layer] = {"seconds": round(time.monotonic() - t0, 1), "peak_rss_mb": rss.peak_mb}
        result["etl_total_s"] = round(time.monotonic() - t_all, 1)
        result["etl_peak_rss_mb_incl_jvm"] = total_rss.peak_mb
    result["layers"] = layers
    result["rows"] = counts
    bronze = workdir / "lake" / "bronze_layer"
    out = workdir / "duckdb_gold.parquet"
    t0 = time.monotonic()
    duckdb.sql(DUCKDB_GOLD.format(b=bronze, out=out))
    duck_s = time.monotonic() - t0
    duck_rows = duckdb.sql(f"SELECT count(*) FROM '{out}'").fetchone()[0]
    silver_gold_s = layers["silver"]["seconds"] + layers["gold"]["seconds"]
    result["duckdb_reference"] = {
        "gold_track_metadata_s": round(duck_s, 1), "rows": duck_rows,
        "same_row_count_as_spark": duck_rows == counts.get("gold_track_metadata"),
        "spark_silver_plus_gold_s": silver_gold_s,
        "spark_to_duckdb_ratio": round(silver_gold_s / duck_s, 2) if duck_s else None,
        "note": "Spark writes all six silver tables (each re-read to count) before gold and pays "
                "JVM/task scheduling per stage; DuckDB computes only gold_track_metadata in one "
                "vectorized in-process query. The ratio is Spark's overhead on one 2-core machine, "
                "the price of code that runs unchanged on a cluster.",
    }
    return result


def main(results_dir: Path, sizes: tuple[int, ...] = (3000, 10_000)) -> dict:
    runs = []
    for n in sizes:
        workdir = Path(tempfile.mkdtemp(prefix=f"etl-bench-{n}-"))
        try:
            runs.append(run_size(n, workdir))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        (results_dir / "etl.json").write_text(json.dumps({"benchmark": "etl", "runs": runs,
                                                          "target": "300k tracks < 180 s"}, indent=2))
    return {"benchmark": "etl", "runs": runs}
