#!/usr/bin/env python3
"""Healthcheck of the cluster profile's coordinator: it schedules no splits, so it is ready only when
both workers are active in system.runtime.nodes (a query before that fails "No nodes available")."""

import json
import sys
import time
import urllib.request

BASE = "http://127.0.0.1:8080"
WORKERS = int(sys.argv[1]) if len(sys.argv) > 1 else 2


def get(url: str, data: bytes | None = None) -> dict:
    req = urllib.request.Request(url, data=data, headers={"X-Trino-User": "healthcheck"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def main() -> int:
    if get(f"{BASE}/v1/info").get("starting") is not False:
        return 1
    doc = get(f"{BASE}/v1/statement",
              b"SELECT count(*) FROM system.runtime.nodes WHERE state = 'active' AND NOT coordinator")
    rows: list = []
    deadline = time.monotonic() + 20
    while True:
        rows += doc.get("data") or []
        if "error" in doc or "nextUri" not in doc or time.monotonic() > deadline:
            break
        doc = get(doc["nextUri"])
    return 0 if rows and rows[0][0] >= WORKERS else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError, KeyError):
        sys.exit(1)
