"""Downloads on the host (the JDBC driver): verified against the published checksum, atomic, once under
concurrency, reused offline."""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from spotify_core.errors import PipelineError
from spotify_pipeline.stack import downloads

PAYLOAD = b"jar bytes " * 50_000


class Repo(http.server.ThreadingHTTPServer):
    """A tiny Maven-like repository: files by path, a request counter per path."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files, self.hits = files, {}
        repo = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                repo.hits[self.path] = repo.hits.get(self.path, 0) + 1
                body = repo.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                if self.path.endswith(".jar"):
                    time.sleep(0.3)  # slow enough that concurrent runs overlap
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture
def repo():
    server = Repo({"/a.jar": PAYLOAD, "/a.jar.sha1": hashlib.sha1(PAYLOAD).hexdigest().encode() + b"  a.jar\n",
                   "/bad.jar": PAYLOAD, "/bad.jar.sha512": b"0" * 128})
    yield server
    server.shutdown()


def test_verified_once_then_reused_without_the_network(repo, tmp_path: Path) -> None:
    dest = downloads.download(repo.url("/a.jar"), tmp_path / "a.jar")
    assert dest.read_bytes() == PAYLOAD and repo.hits["/a.jar"] == 1
    assert (tmp_path / "a.jar.verified").read_text().startswith("sha1 ")
    repo.shutdown()
    assert downloads.download(repo.url("/a.jar"), tmp_path / "a.jar") == dest  # no server needed now


def test_a_checksum_mismatch_deletes_the_file_and_says_so(repo, tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"^download failed: bad.jar has sha512 .* expected 000000"):
        downloads.download(repo.url("/bad.jar"), tmp_path / "bad.jar")
    assert not (tmp_path / "bad.jar").exists() and not list(tmp_path.glob(".bad.jar.*"))


def test_a_missing_artifact_is_one_line(repo, tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="no checksum published|HTTP 404"):
        downloads.download(repo.url("/nope.jar"), tmp_path / "nope.jar")


def test_concurrent_runs_download_once(repo, tmp_path: Path) -> None:
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda _: downloads.download(repo.url("/a.jar"), tmp_path / "a.jar"), range(4)))
    assert len(set(paths)) == 1 and paths[0].read_bytes() == PAYLOAD
    assert repo.hits["/a.jar"] == 1


def test_maven_urls() -> None:
    assert downloads.maven_url("io.trino:trino-jdbc:476") == (
        "https://repo1.maven.org/maven2/io/trino/trino-jdbc/476/trino-jdbc-476.jar")
    assert downloads.maven_url("org.apache.hadoop:hadoop-hdfs:3.5.0", classifier="tests") == (
        "https://repo1.maven.org/maven2/org/apache/hadoop/hadoop-hdfs/3.5.0/hadoop-hdfs-3.5.0-tests.jar")
