"""A development-mode crawl of part of a ranked list passes the data-quality gate, with every source.

Every real crawl is partial, and albums credited to several artists appear in each one's listing:
the crawl lands tracks whose first credited artist it was not asked to crawl. The gate's reference
check (`tracks_data.artist_id` -> `silver_artists`) must pass because the crawl lands those
artists, not because the check is loose.
"""

from __future__ import annotations

import duckdb

from crawler.artists_file import ArtistEntry
from crawler.factory import build_crawler, crawl_options
from crawler.landing.sqlite import SQLiteLandingStore
from lake.export import export_landing
from lake.fs import open_lake
from sample_api.server import start_sample_api
from spark_jobs import quality
from spark_jobs.runner import run_layers
from spark_jobs.schemas import TABLES
from tests.lake_tables import parquet

TOP = 15


def test_top_of_the_ranking_in_development_mode_passes_the_gate(spark, make_settings, tmp_path) -> None:
    with start_sample_api(n_artists=20, seed=42, mode="development") as api:
        settings = make_settings(api)
        cat = api.catalog
        top = [ArtistEntry(cat.artist_name(i), cat.artist_id(i)) for i in cat.ranked_artists()[:TOP]]
        with SQLiteLandingStore(settings.landing_sqlite_path) as store:
            report = build_crawler(settings, store, crawl_options(settings, "partial", workers=4)).run(top)
            export_landing(store, open_lake(settings))
    assert not report.failed and report.credited_artists > 0

    run_layers(settings, ["all"])
    gate = quality.run_checks(spark, settings)
    assert gate.passed, [r for r in gate.results if not r.passed]

    root = settings.lake_uri.removeprefix("file://")

    def table(name: str) -> str:
        return parquet(root, TABLES[name].path)

    # Tracks first credited to an artist outside the top 15 are there, each with its artist's name.
    crawled = [e.spotify_id for e in top]
    outsiders = duckdb.sql(f"SELECT count(*) FROM {table('tracks_data')} "
                           f"WHERE artist_id NOT IN {tuple(crawled)}").fetchone()[0]
    assert outsiders > 0
    unnamed = duckdb.sql(f"SELECT count(*) FROM {table('gold_track_metadata')} "
                         "WHERE artist_name IS NULL").fetchone()[0]
    assert unnamed == 0
    # A development-mode app's gaps are filled from the two enrichment sources, with provenance.
    features = dict(duckdb.sql(f"SELECT features_source, count(*) FROM {table('silver_feature_music')} "
                               "GROUP BY 1").fetchall())
    genres = dict(duckdb.sql(f"SELECT genre_source, count(*) FROM {table('silver_artists_genres')} "
                             "GROUP BY 1").fetchall())
    assert set(features) == {"reccobeats"} and features["reccobeats"] > 0
    assert set(genres) == {"musicbrainz"} and genres["musicbrainz"] > 0
