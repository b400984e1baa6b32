"""Readiness probes shared by the stack's services: one real protocol answer each, never a sleep."""

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


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when ``port`` can be bound (nothing listens there; TIME_WAIT leftovers don't count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return not tcp_open(port)
