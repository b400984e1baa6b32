"""``lookups_raw``: the ids an enrichment source was asked about and did not know.

One document per (source, id): ``_id`` ``"<source>:<id>"``, payload ``{"source", "id", "asked_at"}``
(docs/sources.md). An id with such a document younger than the retry interval is not asked again.
"""

from __future__ import annotations

from collections.abc import Iterable

from crawler.landing.base import LandingStore

COLLECTION = "lookups_raw"


def miss_key(source: str, item_id: str) -> str:
    return f"{source}:{item_id}"


def miss_document(source: str, item_id: str, asked_at: str) -> tuple[str, dict]:
    """(``lookups_raw`` id, payload) of an id ``source`` did not know."""
    return miss_key(source, item_id), {"source": source, "id": item_id, "asked_at": asked_at}


def recent_misses(store: LandingStore, source: str, ids: Iterable[str], since: str | None) -> set[str]:
    """Those of ``ids`` with a miss of ``source`` landed after ``since`` (any age when None)."""
    keys = store.existing_ids(COLLECTION, (miss_key(source, i) for i in ids), fetched_after=since)
    return {key.split(":", 1)[1] for key in keys}
