"""A WebHDFS stand-in over a local folder, for running the lake tests through ``WebHdfsFS``.

Not HDFS: it answers the REST operations the lake uses the way a namenode and datanode do
(Hadoop's WebHDFS spec): CREATE and OPEN answer 307 with a datanode ``Location`` that the
client follows; RENAME and DELETE answer ``{"boolean": ...}`` (RENAME false when the target
exists or its parent is missing); a missing path is a 404 ``RemoteException``
FileNotFoundException; LISTSTATUS of a file lists that one file with an empty ``pathSuffix``.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

PREFIX = "/webhdfs/v1"
DATANODE = "/datanode"


def _status(path: Path) -> dict:
    st = path.stat()
    return {"pathSuffix": path.name, "type": "DIRECTORY" if path.is_dir() else "FILE",
            "length": 0 if path.is_dir() else st.st_size, "modificationTime": int(st.st_mtime * 1000),
            "owner": "hdfs", "group": "supergroup", "permission": "755", "replication": 1, "blockSize": 134217728}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, code: int, body: dict | bytes | None = None, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
        self.send_response(code)
        self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code: int, exception: str, message: str) -> None:
        self._send(code, {"RemoteException": {"exception": exception, "message": message,
                                              "javaClassName": f"java.io.{exception}"}})

    def _parse(self) -> tuple[bool, str, Path, dict[str, str]]:
        url = urlsplit(self.path)
        datanode = url.path.startswith(DATANODE)
        hdfs_path = unquote(url.path.removeprefix(DATANODE).removeprefix(PREFIX)) or "/"
        params = {k.lower(): v[0] for k, v in parse_qs(url.query).items()}
        local = self.server.root / hdfs_path.lstrip("/")
        return datanode, hdfs_path, local, params

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        datanode, hdfs_path, local, params = self._parse()
        op = params.get("op", "").upper()
        if not local.exists():
            self._error(404, "FileNotFoundException", f"File does not exist: {hdfs_path}")
        elif op == "GETFILESTATUS":
            self._send(200, {"FileStatus": {**_status(local), "pathSuffix": ""}})
        elif op == "LISTSTATUS":
            entries = [_status(p) for p in sorted(local.iterdir())] if local.is_dir() else \
                [{**_status(local), "pathSuffix": ""}]
            self._send(200, {"FileStatuses": {"FileStatus": entries}})
        elif op == "OPEN" and not datanode:
            self._send(307, None, {"Location": f"http://{self.headers['Host']}{DATANODE}{self.path}"})
        elif op == "OPEN" and local.is_file():
            self._send(200, local.read_bytes())
        else:
            self._error(400, "IllegalArgumentException", f"Invalid value for webhdfs parameter \"op\": {op}")

    def do_PUT(self) -> None:  # noqa: N802 - http.server API
        datanode, hdfs_path, local, params = self._parse()
        op = params.get("op", "").upper()
        if op == "CREATE":
            if local.is_dir() or (local.exists() and params.get("overwrite", "false").lower() != "true"):
                self._body()
                self._error(403, "FileAlreadyExistsException", f"{hdfs_path} already exists")
            elif not datanode:
                self._body()
                self._send(307, None, {"Location": f"http://{self.headers['Host']}{DATANODE}{self.path}"})
            else:
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_bytes(self._body())
                self._send(201, None, {"Location": f"hdfs://standin{hdfs_path}"})
        elif op == "MKDIRS":
            local.mkdir(parents=True, exist_ok=True)
            self._send(200, {"boolean": True})
        elif op == "RENAME":
            target = self.server.root / params["destination"].lstrip("/")
            if target.is_dir():
                target = target / local.name
            ok = local.exists() and not target.exists() and target.parent.is_dir()
            if ok:
                local.rename(target)
            self._send(200, {"boolean": ok})
        else:
            self._error(400, "IllegalArgumentException", f"Invalid value for webhdfs parameter \"op\": {op}")

    def do_DELETE(self) -> None:  # noqa: N802 - http.server API
        _, hdfs_path, local, params = self._parse()
        if not local.exists():
            self._send(200, {"boolean": False})
        elif local.is_dir() and any(local.iterdir()) and params.get("recursive", "false").lower() != "true":
            self._error(403, "PathIsNotEmptyDirectoryException", f"{hdfs_path} is non empty")
        else:
            shutil.rmtree(local) if local.is_dir() else local.unlink()
            self._send(200, {"boolean": True})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root


@contextmanager
def webhdfs_standin(root: Path) -> Iterator[str]:
    """Serve ``root`` as an HDFS namespace; yields the WebHDFS URL (``http://127.0.0.1:PORT``)."""
    root.mkdir(parents=True, exist_ok=True)
    server = _Server(root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
