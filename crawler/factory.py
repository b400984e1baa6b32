"""The one place that builds a crawler from settings: client, connection pool, limiter, features source."""

from __future__ import annotations

from collections.abc import Callable

from crawler.audio_features import make_source
from crawler.crawl import Crawler, CrawlOptions
from crawler.http.pool import SharedPool
from crawler.landing.base import LandingStore
from crawler.spotify.client import SpotifyClient
from spotify_pipeline.settings import Settings


def crawl_options(settings: Settings, run_id: str, workers: int | None = None, mode: str = "continue",
                  include_appears_on: bool = False) -> CrawlOptions:
    """Options from settings; explicit arguments (command-line flags) win."""
    return CrawlOptions(run_id=run_id, workers=workers or settings.crawl_workers, mode=mode,
                        include_appears_on=include_appears_on or settings.crawl_include_appears_on,
                        ttl_hours=settings.crawl_ttl_hours)


def build_crawler(settings: Settings, store: LandingStore, options: CrawlOptions,
                  progress: Callable[[str], None] | None = None) -> Crawler:
    """A crawler whose threads share one client, one rate limiter and one connection pool."""
    client = SpotifyClient(settings, pool=SharedPool(max_connections=max(options.workers, 4)))
    return Crawler(client, store, make_source(settings.audio_features_source, client), options, progress=progress)
