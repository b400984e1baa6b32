"""SQL over the lake (the `query` command, the dashboard, the demo) — DuckDB locally, Trino when ``TRINO_HOST`` is set.

DuckDB gets one view per lake table, named like the table and also schema-qualified
(``gold.gold_track_metadata``) so the same SQL runs on DuckDB and on Trino's hive catalog.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from spotify_core.errors import PipelineError
from spotify_core.settings import Settings
from spotify_core.tables import LAYERS, tables_in

# Lake tables by layer (spotify_core/tables.py: the registry Spark's schemas hang on, without pyspark).
LAKE_TABLES: dict[str, tuple[str, ...]] = {layer: tuple(t.name for t in tables_in(layer)) for layer in LAYERS}


def parquet_source(root: Path, layer: str, table: str) -> str | None:
    """DuckDB's ``read_parquet(...)`` of a local table, None when it has no data.

    Spark-written tables are read at their current version folder only (``lake/versions.py``): a
    glob over the whole table folder would read every kept version (doubled rows) and a write in
    flight. Bronze (written by export, no versions) is read whole.
    """
    from lake.fs import LocalFS
    from lake.tables import current_path

    relative = f"{layer}_layer/{table}"
    if layer == "bronze":
        pattern = "**/*.parquet"
    else:
        relative, pattern = current_path(LocalFS(root), relative), "*.parquet"
        if relative is None:
            return None
    folder = root / relative
    if not any(folder.glob(pattern)):
        return None
    return f"read_parquet('{folder}/{pattern}')"


def connect_duckdb(settings: Settings):
    import duckdb

    url = urlsplit(settings.lake_uri)
    if url.scheme not in ("", "file"):
        raise PipelineError(f"DuckDB reads a local lake only; LAKE_URI={settings.lake_uri}: set TRINO_HOST")
    root = Path(url.path)
    con = duckdb.connect()
    for layer, tables in LAKE_TABLES.items():
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
        for table in tables:
            source = parquet_source(root, layer, table)
            if source is None:
                continue
            con.execute(f"CREATE VIEW {layer}.{table} AS SELECT * FROM {source}")
            alias = f"bronze_{table}" if layer == "bronze" else table
            con.execute(f"CREATE VIEW main.{alias} AS SELECT * FROM {layer}.{table}")
    return con


def connect_trino(settings: Settings):
    import trino

    return trino.dbapi.connect(host=settings.trino_host, port=settings.trino_port, user=settings.trino_user,
                               catalog=settings.trino_catalog, http_scheme="http")


@contextmanager
def open_cursor(settings: Settings) -> Iterator[Any]:
    """A cursor on the configured engine (Trino when ``TRINO_HOST`` is set, else DuckDB over the lake),
    closed with its connection afterwards. DuckDB's connection is its own cursor (``.df()`` included)."""
    con = connect_trino(settings) if settings.trino_host else connect_duckdb(settings)
    try:
        yield con.cursor() if settings.trino_host else con
    finally:
        con.close()


def run_query(settings: Settings, sql: str, max_rows: int = 100) -> tuple[list[str], list[tuple]]:
    """(column names, at most ``max_rows`` rows) of ``sql`` on the configured engine."""
    engine = "Trino" if settings.trino_host else "DuckDB"
    try:
        with open_cursor(settings) as cur:
            cur.execute(sql)
            return [d[0] for d in cur.description or []], [tuple(r) for r in cur.fetchmany(max_rows)]
    except PipelineError:
        raise
    except Exception as exc:  # duckdb and the trino client raise several unrelated error types
        raise PipelineError(f"{engine}: {str(exc).splitlines()[0]}") from None


def cell_text(value: Any) -> str:
    """One value as the table and CSV outputs show it (NULL, 6 significant digits, [a, b])."""
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(cell_text(v) for v in value) + "]"
    return str(value)


def format_table(columns: list[str], rows: list[tuple]) -> str:
    cells = [[cell_text(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [line, "-+-".join("-" * w for w in widths)]
    out += [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(out)
