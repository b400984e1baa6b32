"""Test helpers: read a Spark-written table of a local lake at its current version folder only.

A glob over the whole table folder (``<table>/**/*.parquet``) would count every kept version.
"""

from __future__ import annotations

from pathlib import Path

from lake import versions
from lake.fs import LocalFS
from lake.tables import current_path


def current_folder(root: str | Path, relative: str) -> Path:
    """``root/relative``'s current version folder; fails the test when none is complete."""
    found = current_path(LocalFS(Path(root)), relative.strip("/"))
    assert found is not None, f"no complete version under {root}/{relative}"
    return Path(root) / found


def parquet(root: str | Path, relative: str) -> str:
    """DuckDB's ``read_parquet`` of the table's current version."""
    return f"read_parquet('{current_folder(root, relative)}/*.parquet')"


def write_version(folder: Path, name: str | None = None) -> Path:
    """A new complete-looking version folder under a table ``folder`` (for hand-written lakes)."""
    target = folder / (name or versions.new_version())
    target.mkdir(parents=True)
    (target / versions.SUCCESS).write_text("")
    return target
