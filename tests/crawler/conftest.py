from __future__ import annotations

from pathlib import Path

import pytest

from crawler.artists_file import ArtistEntry
from crawler.crawl import CrawlOptions, CrawlReport
from crawler.factory import build_crawler
from crawler.landing.sqlite import SQLiteLandingStore


def entries_for(api, n: int | None = None) -> list[ArtistEntry]:
    return [ArtistEntry(name, aid) for aid, name in list(api.catalog.iter_artists())[:n]]


def landing_snapshot(path: Path) -> dict[str, dict[str, str]]:
    """collection -> {id: payload json}: what a crawl landed, without run ids and timestamps."""
    store = SQLiteLandingStore(path)
    try:
        return {c: {d.id: d.payload_json for d in store.iter_raw(c)} for c in
                ("artists_raw", "albums_raw", "tracks_raw", "audio_features_raw", "genres_raw")}
    finally:
        store.close()


@pytest.fixture
def crawl():
    def run(settings, entries, **options) -> CrawlReport:
        store = SQLiteLandingStore(settings.landing_sqlite_path)
        try:
            options = {"genres": settings.genres_source, "enrichment_retry_days": settings.enrichment_retry_days,
                       **options}
            crawler = build_crawler(settings, store, CrawlOptions(run_id=options.pop("run_id", "test"), **options))
            return crawler.run(entries)
        finally:
            store.close()

    return run


ENRICHMENT_PREFIXES = ("reccobeats/", "musicbrainz/")


def spotify_calls(report: CrawlReport) -> dict[str, int]:
    """The crawl's Spotify Web API calls by endpoint (ReccoBeats and MusicBrainz calls left out)."""
    return {k: v for k, v in report.calls.items() if not k.startswith(ENRICHMENT_PREFIXES)}
