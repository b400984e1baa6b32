"""Landing zone: MongoDB when ``MONGO_URI`` is set, else embedded SQLite under ``DATA_DIR``."""

from __future__ import annotations

from crawler.landing.base import COLLECTIONS, LandingDocument, LandingStore, RawDocument, utc_now_iso
from spotify_core.settings import Settings

__all__ = ["COLLECTIONS", "LandingDocument", "LandingStore", "RawDocument", "open_store", "stats", "utc_now_iso"]


def open_store(settings: Settings) -> LandingStore:
    if settings.mongo_uri:
        from crawler.landing.mongo import MongoLandingStore

        return MongoLandingStore(settings.mongo_uri.get_secret_value(), settings.mongo_db)
    from crawler.landing.sqlite import SQLiteLandingStore

    return SQLiteLandingStore(settings.landing_sqlite_path)


def stats(store: LandingStore) -> dict[str, object]:
    """Documents per collection, and checkpoints per status under ``_checkpoints``."""
    counts: dict[str, object] = dict(store.counts())
    statuses: dict[str, int] = {}
    for cp in store.checkpoints().values():
        statuses[cp.status] = statuses.get(cp.status, 0) + 1
    counts["_checkpoints"] = statuses
    return counts
