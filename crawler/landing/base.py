"""The landing-zone contract shared by the SQLite (embedded) and MongoDB (stack) stores.

Documents follow ARCHITECTURE.md "Landing documents": ``_id`` is the Spotify id, ``payload`` the
API object exactly as received, ``fetched_at`` a UTC ISO-8601 string, ``run_id`` the crawl run.
Writes are upserts on ``_id``. Crawl checkpoints (per artist: done / failed with reason) live in
the same store so a killed crawl resumes without refetching.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from spotify_core.vocabulary import COLLECTIONS

__all__ = ["COLLECTIONS", "LandingDocument", "LandingStore", "RawDocument", "utc_now_iso"]


@dataclass(frozen=True)
class LandingDocument:
    id: str
    payload: dict[str, Any]
    fetched_at: str
    run_id: str


@dataclass(frozen=True)
class RawDocument:
    """A landed document with its payload still serialized: export copies it without re-parsing."""

    id: str
    payload_json: str
    fetched_at: str
    run_id: str


@dataclass(frozen=True)
class Checkpoint:
    artist_key: str  # the Spotify artist id, or "name:<name>" for a name still to resolve
    status: str  # "done" | "failed"
    reason: str | None
    run_id: str
    updated_at: str


class LandingStore(ABC):
    """One interface, two implementations; the contract tests run against both."""

    @abstractmethod
    def upsert(self, collection: str, documents: Iterable[LandingDocument]) -> int:
        """Insert or replace by ``_id``; returns how many documents were written."""

    @abstractmethod
    def existing_ids(self, collection: str, ids: Iterable[str], fetched_after: str | None = None) -> set[str]:
        """The subset of ``ids`` already landed (and fetched after ``fetched_after`` when given)."""

    @abstractmethod
    def get_payloads(self, collection: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Payloads of the landed documents among ``ids`` (small lookups, e.g. previous listings)."""

    @abstractmethod
    def iter_raw(self, collection: str, fetched_after: str | None = None,
                 batch_size: int = 5000) -> Iterator[RawDocument]:
        """Stream documents with ``fetched_at`` > ``fetched_after`` ordered by (fetched_at, _id)."""

    @abstractmethod
    def count(self, collection: str) -> int: ...

    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in COLLECTIONS}

    @abstractmethod
    def set_checkpoint(self, artist_key: str, status: str, reason: str | None, run_id: str) -> None: ...

    @abstractmethod
    def checkpoints(self) -> dict[str, Checkpoint]: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> LandingStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def utc_now_iso() -> str:
    """``fetched_at`` format: fixed-width UTC with microseconds, so string order is time order."""
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
