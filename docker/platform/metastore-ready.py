"""Healthcheck of the Hive metastore: one real thrift call, ``get_all_databases()`` (what Spark and Trino
ask first), over TBinaryProtocol on a plain socket as Hive 2.3 serves it. Exit 0 when it answers."""

import socket
import struct
import sys


def _recv(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("metastore closed the connection")
        buf += chunk
    return buf


def _string(text: str) -> bytes:
    return struct.pack(">i", len(text)) + text.encode()


def get_all_databases(host: str, port: int, timeout: float = 5.0) -> bool:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">I", 0x80010001) + _string("get_all_databases") + struct.pack(">i", 1) + b"\x00")
        (head,) = struct.unpack(">I", _recv(sock, 4))
        (n,) = struct.unpack(">i", _recv(sock, 4))
        _recv(sock, n + 4)  # method name, seqid
        return head & 0xFF == 2  # REPLY (3 would be an application exception)


if __name__ == "__main__":
    try:
        ok = get_all_databases(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1", 9083)
    except (OSError, ConnectionError, struct.error):
        ok = False
    sys.exit(0 if ok else 1)
