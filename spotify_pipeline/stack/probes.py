"""Probes of a running service (``doctor``): one real protocol answer each, never a sleep."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit


def metastore_refusal(uri: str, timeout: float) -> str | None:
    """Why the Hive metastore of ``uri`` (``HIVE_METASTORE_URI``; the first of a comma-separated
    list) does not accept a TCP connection, in a few words; None when it does."""
    url = urlsplit(uri.split(",")[0].strip())
    if not url.hostname:
        return "no host in the URI"
    try:
        with socket.create_connection((url.hostname, url.port or 9083), timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


def http_json(url: str, timeout: float = 2.0) -> dict | None:
    """The JSON body of a 200 answer, else None (refused, error status, not JSON)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - localhost URLs
            return json.loads(resp.read().decode())
    except (urllib.error.URLError, OSError, ValueError):
        return None
