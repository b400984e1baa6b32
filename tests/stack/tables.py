"""Test harness: what every registered lake table holds, as Trino sees it, to compare two runs.

One order-insensitive fingerprint per table: the row count and Trino's ``checksum`` over every column
as one row value, so two runs "leave identical tables" when the fingerprints are equal.
"""

from __future__ import annotations

import trino


def table_fingerprints(port: int, schemas: tuple[str, ...] = ("silver", "gold", "warehouse")) -> dict[str, tuple]:
    """``{"schema.table": (rows, checksum hex)}`` for every table of ``schemas`` in the ``hive`` catalog."""
    out: dict[str, tuple] = {}
    with trino.dbapi.connect(host="localhost", port=port, user="fingerprints", catalog="hive") as con:
        cur = con.cursor()
        for schema in schemas:
            cur.execute(f"SHOW TABLES FROM {schema}")
            for (table,) in cur.fetchall():
                cur.execute(f'SELECT column_name FROM information_schema.columns WHERE table_schema = \'{schema}\' '
                            f"AND table_name = '{table}' ORDER BY ordinal_position")
                cols = ", ".join(f'"{c}"' for (c,) in cur.fetchall())
                cur.execute(f'SELECT count(*), to_hex(checksum(ROW({cols}))) FROM {schema}."{table}"')
                rows, digest = cur.fetchall()[0]
                out[f"{schema}.{table}"] = (rows, digest)
    return out
