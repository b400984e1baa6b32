"""Versioned table folders: how Spark-written tables are published to readers atomically.

Every write of a silver/gold/warehouse (or quarantine) table goes to a new, immutable folder
``<table>/v<UTC timestamp>-<short id>/``; a reader resolves the *current* version, the newest one
whose ``_SUCCESS`` marker exists, so it never sees a half-written or emptied table. Pure rules
only (no IO): Spark lists folders through Hadoop's FileSystem, Python through ``lake.fs``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

PREFIX = "v"  # no "=": DuckDB, Spark and Hive would read "v=..." as a partition column
SUCCESS = "_SUCCESS"  # written by Hadoop's output committer once every part file is in place
KEEP = 2  # complete versions kept after a write: the current one and the previous one
_NAME = re.compile(r"^v(\d{8}T\d{12}Z)-([0-9a-f]{8})$")


@dataclass(frozen=True)
class Version:
    """A version folder found in a table folder; ``complete`` when its ``_SUCCESS`` exists."""

    name: str
    complete: bool


def new_version(now: datetime | None = None, token: str | None = None) -> str:
    """A fresh folder name; fixed-width UTC time first, so name order is time order."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{PREFIX}{stamp}-{token or uuid.uuid4().hex[:8]}"


def is_version(name: str) -> bool:
    return _NAME.match(name.rstrip("/")) is not None


def current(versions: Iterable[Version]) -> str | None:
    """The newest complete version's name, or None when no write has completed."""
    complete = sorted(v.name for v in versions if v.complete and is_version(v.name))
    return complete[-1] if complete else None


def to_prune(versions: Iterable[Version], others: Iterable[str] = (), keep: int = KEEP) -> list[str]:
    """Entries of a table folder to delete after a successful write.

    Keeps the ``keep`` newest complete versions (an in-flight reader of the previous one keeps
    its files), and incomplete folders newer than the current one (another writer may be busy);
    deletes older complete versions and failed attempts older than the current one. ``others``
    are non-version entries (files of the pre-versioning layout written straight into the table
    folder): they count as the oldest version, so they go once ``keep`` versions exist.
    """
    versions = [v for v in versions if is_version(v.name)]
    complete = sorted(v.name for v in versions if v.complete)
    if not complete:
        return []
    newest = complete[-1]
    doomed = complete[:-keep] if keep > 0 else complete
    doomed += [v.name for v in versions if not v.complete and v.name < newest]
    if len(complete) >= keep:
        doomed += list(others)
    return sorted(doomed)
