"""The sample lake: the sample API's catalog crawled, exported and run through every Spark layer.

Built once per test session (``sample_lake`` fixture, tests/conftest.py) for the pipeline's own
tests and the analyst tools that read a warehouse (report, dashboard, notebooks, recommend). Under
xdist the session has several worker processes: ``shared_sample_lake`` lets the first one build it
and the others read that build (pytest-xdist's documented file-lock pattern), so it is built once.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crawler.artists_file import ArtistEntry
from crawler.audio_features import make_source
from crawler.crawl import Crawler, CrawlOptions
from crawler.landing.sqlite import SQLiteLandingStore
from crawler.spotify.client import SpotifyClient
from lake.export import export_landing
from lake.fs import open_lake
from sample_api.synthetic_catalog import Catalog, generate_catalog
from spotify_core.settings import Settings, load_settings

N_ARTISTS, SEED = 12, 42


@dataclass(frozen=True)
class SampleLake:
    settings: Settings
    counts: dict[str, int]  # rows written per table by the one build
    catalog: Catalog


def entries_for(api, n: int | None = None) -> list[ArtistEntry]:
    """The first ``n`` artists of the sample API's catalog as artists.txt entries (all by default)."""
    return [ArtistEntry(name, aid) for aid, name in list(api.catalog.iter_artists())[:n]]


def sample_api_settings(data_dir: Path, api) -> Settings:
    """Settings with DATA_DIR ``data_dir``, crawling the sample API ``api`` at full speed."""
    return load_settings({"DATA_DIR": str(data_dir)}).replace(
        spotify_api_base_url=api.api_url, spotify_token_url=api.token_url, spotify_client_id=api.client_id,
        spotify_client_secret=api.client_secret, spotify_requests_per_second=1000.0)


def crawl_and_export(settings: Settings, api) -> None:
    """Crawl every artist of the sample API into the landing zone and export it to bronze."""
    client = SpotifyClient(settings)
    with SQLiteLandingStore(settings.landing_sqlite_path) as store:
        Crawler(client, store, make_source("auto", client), CrawlOptions(run_id="t", workers=4)).run(entries_for(api))
        export_landing(store, open_lake(settings))


def build_sample_lake(data_dir: Path, n_artists: int = N_ARTISTS, seed: int = SEED) -> SampleLake:
    """Crawl, export and run every layer (needs the caller's Spark session to be started first)."""
    from sample_api.server import start_sample_api
    from spark_jobs.runner import run_layers

    with start_sample_api(n_artists=n_artists, seed=seed) as api:
        settings = sample_api_settings(data_dir, api)
        crawl_and_export(settings, api)
        catalog = api.catalog
    return SampleLake(settings, run_layers(settings, ["all"]), catalog)


def shared_sample_lake(root: Path, start_spark: Callable[[], object]) -> SampleLake:
    """The sample lake under ``root`` (a folder every process of the session shares): built by the first
    caller while it holds the lock, read by the others once it is built. Only a builder starts Spark.

    The lake is shared: a test that changes it works on a copy. Its settings name only its DATA_DIR
    (the sample API that was crawled is gone once the build is done).
    """
    from filelock import FileLock

    data_dir, built = root / "sample-lake", root / "sample-lake.json"
    with FileLock(root / "sample-lake.lock"):
        if not built.is_file():
            shutil.rmtree(data_dir, ignore_errors=True)  # a build that failed in another worker
            start_spark()
            counts = build_sample_lake(data_dir).counts
            built.write_text(json.dumps({"counts": counts, "n_artists": N_ARTISTS, "seed": SEED}))
    info = json.loads(built.read_text())
    return SampleLake(load_settings({"DATA_DIR": str(data_dir)}), info["counts"],
                      generate_catalog(info["n_artists"], info["seed"]))
