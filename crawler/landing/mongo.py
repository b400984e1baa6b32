"""MongoDB landing zone (the stack): bulk upserts on ``_id``, unordered, index on ``fetched_at``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crawler.landing.base import (
    COLLECTIONS,
    Checkpoint,
    LandingDocument,
    LandingStore,
    RawDocument,
    utc_now_iso,
)
from spotify_core.errors import PipelineError

CHECKPOINTS = "crawl_checkpoints"


def _default_timeout(uri: str | None) -> dict[str, int]:
    """5 s to find a server unless MONGO_URI says otherwise: pymongo lets a keyword argument override
    the URI's own ``serverSelectionTimeoutMS``, so the default is passed only when the URI has none."""
    query = urlsplit(uri or "").query
    if any(key.lower() == "serverselectiontimeoutms" for key in parse_qs(query)):
        return {}
    return {"serverSelectionTimeoutMS": 5000}


class MongoLandingStore(LandingStore):
    def __init__(self, uri: str | None, db: str, client: Any | None = None) -> None:
        """``client`` lets tests pass a mongomock client; production builds a pymongo one."""
        if client is None:
            import pymongo
            from pymongo.errors import PyMongoError

            client = pymongo.MongoClient(uri, tz_aware=True, **_default_timeout(uri))
            try:
                client.admin.command("ping")
            except PyMongoError as exc:
                raise PipelineError(f"MongoDB unreachable at MONGO_URI: {type(exc).__name__}") from None
        self._client = client
        self._db = client[db]
        for name in COLLECTIONS:
            self._db[name].create_index([("fetched_at", 1), ("_id", 1)])

    def _coll(self, collection: str):
        if collection not in COLLECTIONS:
            raise ValueError(f"unknown landing collection {collection!r}")
        return self._db[collection]

    def upsert(self, collection: str, documents: Iterable[LandingDocument]) -> int:
        from pymongo import UpdateOne

        ops = [
            UpdateOne({"_id": d.id}, {"$set": {"payload": d.payload, "fetched_at": d.fetched_at, "run_id": d.run_id}},
                      upsert=True)
            for d in documents
        ]
        if ops:
            self._coll(collection).bulk_write(ops, ordered=False)
        return len(ops)

    def existing_ids(self, collection: str, ids: Iterable[str], fetched_after: str | None = None) -> set[str]:
        wanted = list(dict.fromkeys(ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 1000):
            query: dict[str, Any] = {"_id": {"$in": wanted[start:start + 1000]}}
            if fetched_after is not None:
                query["fetched_at"] = {"$gt": fetched_after}
            found.update(doc["_id"] for doc in self._coll(collection).find(query, {"_id": 1}))
        return found

    def get_payloads(self, collection: str, ids: Iterable[str]) -> dict[str, dict]:
        wanted = list(dict.fromkeys(ids))
        found: dict[str, dict] = {}
        for start in range(0, len(wanted), 1000):
            cursor = self._coll(collection).find({"_id": {"$in": wanted[start:start + 1000]}}, {"payload": 1})
            found.update((doc["_id"], doc["payload"]) for doc in cursor)
        return found

    def iter_raw(self, collection: str, fetched_after: str | None = None,
                 batch_size: int = 5000) -> Iterator[RawDocument]:
        query = {"fetched_at": {"$gt": fetched_after}} if fetched_after is not None else {}
        cursor = self._coll(collection).find(query).sort([("fetched_at", 1), ("_id", 1)]).batch_size(batch_size)
        for doc in cursor:
            payload = json.dumps(doc["payload"], ensure_ascii=False, separators=(",", ":"), default=str)
            yield RawDocument(doc["_id"], payload, doc["fetched_at"], doc["run_id"])

    def count(self, collection: str) -> int:
        return self._coll(collection).count_documents({})

    def set_checkpoint(self, artist_key: str, status: str, reason: str | None, run_id: str) -> None:
        self._db[CHECKPOINTS].update_one(
            {"_id": artist_key},
            {"$set": {"status": status, "reason": reason, "run_id": run_id, "updated_at": utc_now_iso()}},
            upsert=True,
        )

    def checkpoints(self) -> dict[str, Checkpoint]:
        return {
            d["_id"]: Checkpoint(d["_id"], d["status"], d.get("reason"), d["run_id"], d["updated_at"])
            for d in self._db[CHECKPOINTS].find({})
        }

    def close(self) -> None:
        self._client.close()
