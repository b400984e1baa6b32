"""Test harness: what every registered lake table holds, as Trino sees it, to compare two runs; the
metastore's own database, to see what it holds.

One order-insensitive fingerprint per table: the row count and Trino's ``checksum`` over every column
as one row value, so two runs "leave identical tables" when the fingerprints are equal.
"""

from __future__ import annotations

import trino

# The metastore's database in the stack's PostgreSQL (docker/postgres/init-metastore-db.sh).
METASTORE_DB, METASTORE_USER, METASTORE_PASSWORD = "metastore", "hive", "hive"


def metastore_db(stack):
    """A psycopg2 connection to the metastore's tables, through the stack's published PostgreSQL port."""
    import psycopg2

    return psycopg2.connect(host="127.0.0.1", port=stack.port("STACK_POSTGRES_PORT"), dbname=METASTORE_DB,
                            user=METASTORE_USER, password=METASTORE_PASSWORD)


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
