"""A Trino stand-in: Trino's client REST protocol in front of DuckDB over the local lake.

Not Trino: it speaks the protocol the ``trino`` client uses (``POST /v1/statement`` answered
QUEUED with a ``nextUri``; ``GET`` pages of ``data`` with ``columns`` and type signatures; the
last page without ``nextUri``; SQL errors as an ``error`` object with ``errorType``), so the
query command's Trino path runs for real here. It records each request's ``X-Trino-*`` headers.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PAGE_ROWS = 2

_SCALARS = {"VARCHAR": "varchar", "BIGINT": "bigint", "INTEGER": "integer", "DOUBLE": "double",
            "BOOLEAN": "boolean", "DATE": "date", "FLOAT": "real", "SMALLINT": "smallint"}


def _type(duck_type: str) -> dict[str, Any]:
    """Trino's ``type`` and ``typeSignature`` for a DuckDB column type."""
    if duck_type.endswith("[]"):
        inner = _type(duck_type[:-2])
        return {"type": f"array({inner['type']})",
                "typeSignature": {"rawType": "array", "arguments": [{"kind": "TYPE", "value": inner["typeSignature"]}]}}
    raw = _SCALARS.get(duck_type, "varchar")
    # An unbounded varchar carries its length, as Trino sends it.
    arguments = [{"kind": "LONG", "value": 2147483647}] if raw == "varchar" else []
    return {"type": raw, "typeSignature": {"rawType": raw, "arguments": arguments}}


def _value(v: Any) -> Any:
    if isinstance(v, list):
        return [_value(x) for x in v]
    if isinstance(v, date | datetime):
        return v.isoformat()
    return v


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _base(self, qid: str, state: str) -> dict:
        host = f"http://{self.headers['Host']}"
        return {"id": qid, "infoUri": f"{host}/ui/query.html?{qid}", "stats": {"state": state}, "warnings": []}

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        sql = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.server.requests.append({k: v for k, v in self.headers.items() if k.lower().startswith("x-trino-")})
        qid = uuid.uuid4().hex
        try:
            with self.server.lock:
                cur = self.server.duck.execute(sql)
                columns = [{"name": d[0], **_type(str(d[1]))} for d in cur.description]
                rows = [[_value(v) for v in r] for r in cur.fetchall()]
        except Exception as exc:  # DuckDB errors become Trino user errors
            self._send({**self._base(qid, "FAILED"), "error": {
                "message": str(exc).splitlines()[0], "errorCode": 1, "errorName": "SYNTAX_ERROR",
                "errorType": "USER_ERROR"}})
            return
        self.server.results[qid] = (columns, rows)
        self._send({**self._base(qid, "QUEUED"), "nextUri": f"http://{self.headers['Host']}/v1/statement/{qid}/0"})

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        _, _, _, qid, page = self.path.split("/")
        columns, rows = self.server.results[qid]
        start = int(page) * PAGE_ROWS
        body = {**self._base(qid, "RUNNING"), "columns": columns, "data": rows[start:start + PAGE_ROWS]}
        if start + PAGE_ROWS < len(rows):
            body["nextUri"] = f"http://{self.headers['Host']}/v1/statement/{qid}/{int(page) + 1}"
        else:
            body["stats"]["state"] = "FINISHED"
        self._send(body)

    def do_DELETE(self) -> None:  # noqa: N802 - the client cancels finished queries
        self.send_response(204)
        self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, duck) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.duck, self.lock = duck, threading.Lock()
        self.results: dict[str, tuple[list, list]] = {}
        self.requests: list[dict[str, str]] = []


@contextmanager
def trino_standin(duck) -> Iterator[_Server]:
    """Serve SQL on the DuckDB connection ``duck``; yields the server (``server_address``, ``requests``)."""
    server = _Server(duck)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
