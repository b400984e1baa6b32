"""Embedded landing zone: one SQLite file, WAL mode, one table per collection.

Each thread gets its own connection (sqlite3 connections are not shareable across threads);
writes go through short transactions serialized by SQLite's own lock with a generous busy
timeout, so a SIGKILL at any point leaves the last committed batch intact.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from crawler.landing.base import (
    COLLECTIONS,
    Checkpoint,
    LandingDocument,
    LandingStore,
    RawDocument,
    utc_now_iso,
)


def _check(collection: str) -> str:
    if collection not in COLLECTIONS:
        raise ValueError(f"unknown landing collection {collection!r}")
    return collection


class SQLiteLandingStore(LandingStore):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        conn = self._conn()
        with conn:
            for name in COLLECTIONS:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} (_id TEXT PRIMARY KEY, payload TEXT NOT NULL, "
                    "fetched_at TEXT NOT NULL, run_id TEXT NOT NULL)"
                )
                conn.execute(f"CREATE INDEX IF NOT EXISTS {name}_fetched_at ON {name} (fetched_at, _id)")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS crawl_checkpoints (artist_key TEXT PRIMARY KEY, status TEXT NOT NULL, "
                "reason TEXT, run_id TEXT NOT NULL, updated_at TEXT NOT NULL)"
            )

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60.0, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def upsert(self, collection: str, documents: Iterable[LandingDocument]) -> int:
        rows = [
            (d.id, json.dumps(d.payload, ensure_ascii=False, separators=(",", ":")), d.fetched_at, d.run_id)
            for d in documents
        ]
        if not rows:
            return 0
        conn = self._conn()
        with conn:
            conn.executemany(
                f"INSERT INTO {_check(collection)} (_id, payload, fetched_at, run_id) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(_id) DO UPDATE SET payload=excluded.payload, fetched_at=excluded.fetched_at, "
                "run_id=excluded.run_id",
                rows,
            )
        return len(rows)

    def existing_ids(self, collection: str, ids: Iterable[str], fetched_after: str | None = None) -> set[str]:
        wanted = list(dict.fromkeys(ids))
        found: set[str] = set()
        conn = self._conn()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            sql = f"SELECT _id FROM {_check(collection)} WHERE _id IN ({','.join('?' * len(chunk))})"
            params: list[str] = list(chunk)
            if fetched_after is not None:
                sql += " AND fetched_at > ?"
                params.append(fetched_after)
            found.update(row[0] for row in conn.execute(sql, params))
        return found

    def get_payloads(self, collection: str, ids: Iterable[str]) -> dict[str, dict]:
        wanted = list(dict.fromkeys(ids))
        found: dict[str, dict] = {}
        conn = self._conn()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            sql = f"SELECT _id, payload FROM {_check(collection)} WHERE _id IN ({','.join('?' * len(chunk))})"
            found.update((row[0], json.loads(row[1])) for row in conn.execute(sql, chunk))
        return found

    def iter_raw(self, collection: str, fetched_after: str | None = None,
                 batch_size: int = 5000) -> Iterator[RawDocument]:
        # Keyset pagination: constant memory, and no long read transaction blocking checkpoints.
        conn = self._conn()
        # Start strictly after the watermark: every id sorts below U+10FFFF.
        last = (fetched_after, "\U0010ffff") if fetched_after is not None else ("", "")
        table = _check(collection)
        while True:
            rows = conn.execute(
                f"SELECT _id, payload, fetched_at, run_id FROM {table} "
                "WHERE (fetched_at > ?) OR (fetched_at = ? AND _id > ?) ORDER BY fetched_at, _id LIMIT ?",
                (last[0], last[0], last[1], batch_size),
            ).fetchall()
            if not rows:
                return
            for _id, payload, fetched_at, run_id in rows:
                yield RawDocument(_id, payload, fetched_at, run_id)
            last = (rows[-1][2], rows[-1][0])

    def count(self, collection: str) -> int:
        return self._conn().execute(f"SELECT count(*) FROM {_check(collection)}").fetchone()[0]

    def set_checkpoint(self, artist_key: str, status: str, reason: str | None, run_id: str) -> None:
        conn = self._conn()
        with conn:
            conn.execute(
                "INSERT INTO crawl_checkpoints (artist_key, status, reason, run_id, updated_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT(artist_key) DO UPDATE SET status=excluded.status, reason=excluded.reason, "
                "run_id=excluded.run_id, updated_at=excluded.updated_at",
                (artist_key, status, reason, run_id, utc_now_iso()),
            )

    def checkpoints(self) -> dict[str, Checkpoint]:
        rows = self._conn().execute(
            "SELECT artist_key, status, reason, run_id, updated_at FROM crawl_checkpoints"
        ).fetchall()
        return {row[0]: Checkpoint(*row) for row in rows}

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
