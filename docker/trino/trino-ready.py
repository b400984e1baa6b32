#!/usr/bin/env python3
"""Healthcheck of Trino: healthy once a query of a Hive table can be given a node.

Three gates, each later than the one before it after a (re)start, measured here:
1. ``/v1/info`` says ``"starting": false``;
2. ``system.runtime.nodes`` lists an active node (``trino-ready N``: N active workers, for the cluster
   profile's coordinator, which schedules no splits);
3. a scan of one Hive table gets its splits placed. The Hive catalog's node map lags the node list by
   1-2 s, and a BI query in that gap fails with "No nodes available to run query"; so the healthcheck
   scans a table (the first of ``warehouse``, else of any schema) and counts only NO_NODES_AVAILABLE
   as not ready: a table whose files are unreadable is the lake's problem, not Trino's. With no table
   yet there is nothing a query could be refused for."""

import contextlib
import json
import sys
import time
import urllib.request

BASE = "http://127.0.0.1:8080"
WORKERS = int(sys.argv[1]) if len(sys.argv) > 1 else 0


class NotReady(Exception):
    pass


def get(url: str, data: bytes | None = None) -> dict:
    req = urllib.request.Request(url, data=data, headers={"X-Trino-User": "healthcheck"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def query(sql: str) -> list:
    """Rows of ``sql``; NotReady on NO_NODES_AVAILABLE, ValueError on any other error, TimeoutError after 8 s."""
    doc = get(f"{BASE}/v1/statement", sql.encode())
    rows: list = []
    deadline = time.monotonic() + 8
    while True:
        rows += doc.get("data") or []
        if "error" in doc:
            error = doc["error"]
            raise (NotReady if error.get("errorName") == "NO_NODES_AVAILABLE" else ValueError)(error.get("message"))
        if "nextUri" not in doc:
            return rows
        if time.monotonic() > deadline:
            raise TimeoutError(sql)
        doc = get(doc["nextUri"])


def a_hive_table() -> tuple[str, str] | None:
    rows = query("SELECT table_schema, table_name FROM hive.information_schema.tables "
                 "WHERE table_schema <> 'information_schema' AND table_type = 'BASE TABLE' "
                 "ORDER BY table_schema = 'warehouse' DESC LIMIT 1")
    return (rows[0][0], rows[0][1]) if rows else None


def main() -> int:
    if get(f"{BASE}/v1/info").get("starting") is not False:
        return 1
    sql = "SELECT count(*) FROM system.runtime.nodes WHERE state = 'active'"
    rows = query(sql + (" AND NOT coordinator" if WORKERS else ""))
    if not rows or rows[0][0] < max(WORKERS, 1):
        return 1
    try:
        table = a_hive_table()
    except (ValueError, TimeoutError):
        table = None  # the metastore is down or slow: Trino itself is up and answers for itself
    if table:
        schema, name = (part.replace('"', '""') for part in table)
        # Any other error is the table's own (its files, its schema): the scheduler had a node for it.
        with contextlib.suppress(ValueError, TimeoutError):
            query(f'SELECT count(*) FROM (SELECT 1 FROM hive."{schema}"."{name}" LIMIT 1)')
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError, KeyError, NotReady):
        sys.exit(1)
