"""The one place that builds a crawler from settings: client, connection pool, limiter, enrichment sources."""

from __future__ import annotations

from collections.abc import Callable

from crawler.audio_features import make_source
from crawler.crawl import Crawler, CrawlOptions
from crawler.genre_stage import GenreSource
from crawler.http.pool import SharedPool
from crawler.landing.base import LandingStore
from crawler.spotify.client import SpotifyClient
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings


def crawl_options(settings: Settings, run_id: str, workers: int | None = None, mode: str = "continue",
                  include_appears_on: bool = False) -> CrawlOptions:
    """Options from settings; explicit arguments (command-line flags) win."""
    genres = (settings.genres_source or "auto").strip()
    try:
        return CrawlOptions(run_id=run_id, workers=workers or settings.crawl_workers, mode=mode,
                            include_appears_on=include_appears_on or settings.crawl_include_appears_on,
                            ttl_hours=settings.crawl_ttl_hours, genres=genres,
                            enrichment_retry_days=settings.enrichment_retry_days)
    except ValueError as exc:
        raise PipelineError(str(exc)) from None


def genre_source(settings: Settings, genres: str) -> GenreSource | None:
    """MusicBrainz when ``GENRES_SOURCE`` may ask it (auto, musicbrainz); None otherwise."""
    if genres not in ("auto", "musicbrainz"):
        return None
    from crawler.musicbrainz.genres import MusicBrainzGenres

    return MusicBrainzGenres.from_settings(settings)


def spotify_limiter(settings: Settings):
    """The shared budget when ``CRAWL_RATE_STORE_URL`` names one, else None (the client's own limiter)."""
    if not settings.crawl_rate_store_url:
        return None
    from crawler.spotify.shared_limit import shared_limiter

    return shared_limiter(settings.crawl_rate_store_url, "spotify", settings.spotify_client_id,
                          settings.spotify_requests_per_second)


def build_crawler(settings: Settings, store: LandingStore, options: CrawlOptions,
                  progress: Callable[[str], None] | None = None) -> Crawler:
    """A crawler whose threads share one client, one rate limiter and one connection pool.

    ReccoBeats and MusicBrainz have limiters of their own: they never spend Spotify's budget. With
    ``CRAWL_RATE_STORE_URL`` set, Spotify's limiter is the one shared by every crawl process.
    """
    pool = SharedPool(max_connections=max(options.workers, 4))
    client = SpotifyClient(settings, limiter=spotify_limiter(settings), pool=pool)
    return Crawler(client, store, make_source(settings.audio_features_source, client, settings, pool=pool), options, progress=progress,
                   genre_source=genre_source(settings, options.genres))
