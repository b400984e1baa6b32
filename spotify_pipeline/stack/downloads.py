"""Downloads on the host (the Trino JDBC driver for ``stack jdbc``): into a cache outside the repo,
checksum-verified, reused next run.

Every file lands through a temporary file in the same folder and an atomic ``os.replace``, under
an exclusive ``flock`` on a lock file beside it: two runs at once download a file once and never
see half of it. Maven Central serves ``.sha512``/``.sha1`` beside each artifact; a file whose
digest differs is deleted and the run stops with one line. (The images' downloads are pinned by
sha256 in their Dockerfiles.)
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from spotify_core.errors import PipelineError

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
_CHUNK = 1 << 20


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock named after ``path`` (``path.lock``), held across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def maven_url(coords: str, ext: str = "jar", classifier: str | None = None) -> str:
    """``group:artifact:version`` -> its Maven Central URL."""
    group, artifact, version = coords.split(":")
    name = f"{artifact}-{version}{'-' + classifier if classifier else ''}.{ext}"
    return f"{MAVEN_CENTRAL}/{group.replace('.', '/')}/{artifact}/{version}/{name}"


def _read_url(url: str, timeout: float = 30.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - fixed https URLs
        return resp.read()


def published_digest(url: str) -> tuple[str, str]:
    """(algorithm, hex digest) that Maven Central publishes beside ``url``: sha512, else sha1."""
    for algo in ("sha512", "sha1"):
        try:
            text = _read_url(f"{url}.{algo}").decode().strip()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                continue
            raise PipelineError(f"download failed: {url}.{algo}: HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise PipelineError(f"download failed: {url}.{algo}: {exc}; check the network and run again") from None
        return algo, text.split()[0].lower()
    raise PipelineError(f"no checksum published for {url}")


def file_digest(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _progress(name: str, done: int, total: int | None, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-6) / 2**20
    size = f"/{total / 2**20:.0f}" if total else ""
    sys.stderr.write(f"\r  downloading {name}: {done / 2**20:.0f}{size} MiB ({rate:.1f} MiB/s)")
    sys.stderr.flush()


def download(url: str, dest: Path, digest: tuple[str, str] | None = None) -> Path:
    """``url`` -> ``dest`` once; verified against ``digest`` (default: the one published beside it).

    A verified ``dest`` is reused without touching the network. ``dest.verified`` records the
    digest it was checked against, so the next run does not re-hash a 300 MB tarball.
    """
    marker = dest.with_name(dest.name + ".verified")
    if dest.exists() and marker.exists():
        return dest
    with locked(dest):
        if dest.exists() and marker.exists():  # another run finished it while we waited
            return dest
        algo, expected = digest or published_digest(url)
        if not dest.exists():
            _fetch(url, dest)
        actual = file_digest(dest, algo)
        if actual != expected:
            dest.unlink()
            raise PipelineError(f"download failed: {dest.name} has {algo} {actual[:12]}…, expected "
                                f"{expected[:12]}…; deleted, run again")
        marker.write_text(f"{algo} {expected}\n")
    return dest


def _fetch(url: str, dest: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    started = time.monotonic()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310
            total = int(resp.headers.get("Content-Length") or 0) or None
            done, last = 0, 0.0
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                out.write(chunk)
                done += len(chunk)
                if time.monotonic() - last > 1:
                    _progress(dest.name, done, total, started)
                    last = time.monotonic()
        _progress(dest.name, done, total, started)
        sys.stderr.write("\n")
        os.replace(tmp, dest)
    except urllib.error.HTTPError as exc:
        raise PipelineError(f"download failed: {url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise PipelineError(f"download failed: {url}: {exc}; check the network and run again") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def maven_artifact(cache: Path, coords: str, ext: str = "jar", classifier: str | None = None) -> Path:
    """One artifact from Maven Central into ``cache/maven/``, checksum-verified."""
    url = maven_url(coords, ext, classifier)
    return download(url, cache / "maven" / url.rsplit("/", 1)[1])
