#!/usr/bin/env python3
"""Healthcheck of Trino: /v1/info says ``"starting": false`` and a query finds an active node.

``starting: false`` comes before the coordinator has announced itself as a worker: queries in that gap
fail with "No nodes available to run query", so the table scan's precondition is asked for too.
``trino-ready N`` (the cluster profile's coordinator, which schedules no splits): N active workers."""

import json
import sys
import time
import urllib.request

BASE = "http://127.0.0.1:8080"
WORKERS = int(sys.argv[1]) if len(sys.argv) > 1 else 0


def get(url: str, data: bytes | None = None) -> dict:
    req = urllib.request.Request(url, data=data, headers={"X-Trino-User": "healthcheck"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def main() -> int:
    if get(f"{BASE}/v1/info").get("starting") is not False:
        return 1
    sql = "SELECT count(*) FROM system.runtime.nodes WHERE state = 'active'"
    doc = get(f"{BASE}/v1/statement", (sql + (" AND NOT coordinator" if WORKERS else "")).encode())
    rows: list = []
    deadline = time.monotonic() + 20
    while True:
        rows += doc.get("data") or []
        if "error" in doc or "nextUri" not in doc or time.monotonic() > deadline:
            break
        doc = get(doc["nextUri"])
    return 0 if rows and rows[0][0] >= max(WORKERS, 1) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError, KeyError):
        sys.exit(1)
