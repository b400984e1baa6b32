"""Maven Central artifacts for the metastore and Trino services: checksum-verified, cached, atomic.

Maven Central serves a ``.sha1`` beside every artifact; a download is written to a temporary file
in the cache, verified, then renamed into place, so two concurrent runs never see half a file and a
second run reuses the first one's copy.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from spotify_pipeline.errors import PipelineError

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
_CHUNK = 1 << 20


def maven_url(group: str, artifact: str, version: str, ext: str) -> str:
    return f"{MAVEN_CENTRAL}/{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.{ext}"


def _read(url: str, service: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return resp.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise PipelineError(f"{service}: download of {url} failed ({exc}); check the network and run again") from None


def fetch(url: str, dest: Path, service: str) -> Path:
    """``dest`` holding ``url``'s bytes, verified against ``url + '.sha1'``; reused when already there."""
    if dest.exists():
        return dest
    expected = _read(url + ".sha1", service).decode().split()[0].strip().lower()
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    tmp = Path(tmp_name)
    digest = hashlib.sha1()  # noqa: S324 - Maven Central's published checksum
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            total = int(resp.headers.get("Content-Length") or 0)
            done = 0
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if total and sys.stderr.isatty():
                    print(f"\r{service}: {dest.name} {done * 100 // total}%", end="", file=sys.stderr)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        if digest.hexdigest() != expected:
            raise PipelineError(f"{service}: {url} failed its checksum (sha1 {digest.hexdigest()} != {expected}); "
                                "run again")
        tmp.replace(dest)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise PipelineError(f"{service}: download of {url} failed ({exc}); check the network and run again") from None
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def maven_artifact(cache: Path, group: str, artifact: str, version: str, ext: str, service: str) -> Path:
    """One Maven Central artifact in ``cache/maven`` (laid out like a Maven repository)."""
    url = maven_url(group, artifact, version, ext)
    return fetch(url, cache / "maven" / url.removeprefix(MAVEN_CENTRAL + "/"), service)
