"""Where a Spark-written table's current version lives, for Python readers (DuckDB, tests, benches).

The rules are ``lake.versions``; this is their IO edge over ``lake.fs`` (local folders or WebHDFS).
"""

from __future__ import annotations

from lake import versions
from lake.fs import LakeFS


def list_versions(fs: LakeFS, table_path: str) -> tuple[list[versions.Version], list[str]]:
    """(version folders with completeness, other entries) of a table folder; empty when absent."""
    found, others = [], []
    for name in fs.listdir(table_path):
        if versions.is_version(name):
            found.append(versions.Version(name, fs.exists(f"{table_path}/{name}/{versions.SUCCESS}")))
        else:
            others.append(name)
    return found, others


def current_path(fs: LakeFS, table_path: str) -> str | None:
    """The current version folder of a table (relative to the lake root), None when none is complete."""
    name = versions.current(list_versions(fs, table_path)[0])
    return f"{table_path}/{name}" if name else None
