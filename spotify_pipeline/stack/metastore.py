"""The Hive metastore's ``get_all_databases()`` over thrift (TBinaryProtocol on a plain socket, as Hive 2.3
serves it): what Spark and Trino ask first, so a fair probe. The stack's healthcheck
(docker/platform/metastore-ready.py, run in the platform image where this package is installed) makes
this call; asked through the published port, it shows the databases the metastore itself holds.
"""

from __future__ import annotations

import socket
import struct


def _tstring(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">i", len(data)) + data


def _recv(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("metastore closed the connection")
        buf += chunk
    return buf


def _read_string(sock: socket.socket) -> str:
    (n,) = struct.unpack(">i", _recv(sock, 4))
    return _recv(sock, n).decode()


def get_all_databases(host: str, port: int, timeout: float = 5.0) -> list[str]:
    """``ThriftHiveMetastore.get_all_databases()``; ConnectionError when the metastore answers with an error."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">I", 0x80010001) + _tstring("get_all_databases") + struct.pack(">i", 1) + b"\x00")
        (head,) = struct.unpack(">I", _recv(sock, 4))
        _read_string(sock)
        _recv(sock, 4)  # seqid
        if head & 0xFF != 2:  # not a REPLY (3 = application exception)
            raise ConnectionError("metastore answered with an exception")
        names: list[str] = []
        while True:
            (ftype,) = _recv(sock, 1)
            if ftype == 0:
                return names
            (fid,) = struct.unpack(">h", _recv(sock, 2))
            if fid != 0 or ftype != 15:  # o1: MetaException
                raise ConnectionError("metastore answered get_all_databases with an error")
            _elem, size = struct.unpack(">bi", _recv(sock, 5))
            names = [_read_string(sock) for _ in range(size)]
