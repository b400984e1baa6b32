"""Probes of a running service (``doctor``): one real protocol answer each, never a sleep."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request


def tcp_open(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    """True when something accepts a TCP connection on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_json(url: str, timeout: float = 2.0) -> dict | None:
    """The JSON body of a 200 answer, else None (refused, error status, not JSON)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - localhost URLs
            return json.loads(resp.read().decode())
    except (urllib.error.URLError, OSError, ValueError):
        return None
