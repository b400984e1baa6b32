"""The lake's filesystem: local folders by default, HDFS through WebHDFS in the stack.

Export runs in plain Python (no JVM), so HDFS is reached over WebHDFS with the ``hdfs`` package
rather than libhdfs. Both implementations offer the few operations export needs, with the same
semantics: ``rename`` is atomic within the filesystem and fails if the target exists.
"""

from __future__ import annotations

import os
import shutil
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from spotify_core.errors import PipelineError
from spotify_core.settings import Settings


class LakeFS(ABC):
    """Paths are POSIX strings relative to the lake root."""

    @abstractmethod
    def write_file(self, path: str, source: BinaryIO | bytes) -> None: ...

    @abstractmethod
    def read_bytes(self, path: str) -> bytes: ...

    @abstractmethod
    def exists(self, path: str) -> bool: ...

    @abstractmethod
    def listdir(self, path: str) -> list[str]: ...

    @abstractmethod
    def makedirs(self, path: str) -> None: ...

    @abstractmethod
    def rename(self, src: str, dst: str) -> None: ...

    @abstractmethod
    def delete(self, path: str) -> None:
        """Remove a file or a folder tree; no error when absent."""


class LocalFS(LakeFS):
    def __init__(self, root: Path) -> None:
        self.root = root

    def _p(self, path: str) -> Path:
        return self.root / path

    def write_file(self, path: str, source: BinaryIO | bytes) -> None:
        target = self._p(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            if isinstance(source, bytes):
                fh.write(source)
            else:
                shutil.copyfileobj(source, fh)
            fh.flush()
            os.fsync(fh.fileno())

    def read_bytes(self, path: str) -> bytes:
        return self._p(path).read_bytes()

    def exists(self, path: str) -> bool:
        return self._p(path).exists()

    def listdir(self, path: str) -> list[str]:
        p = self._p(path)
        return sorted(x.name for x in p.iterdir()) if p.is_dir() else []

    def makedirs(self, path: str) -> None:
        self._p(path).mkdir(parents=True, exist_ok=True)

    def rename(self, src: str, dst: str) -> None:
        target = self._p(dst)
        if target.exists():
            raise FileExistsError(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self._p(src), target)

    def delete(self, path: str) -> None:
        p = self._p(path)
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)


class WebHdfsFS(LakeFS):
    """HDFS over WebHDFS (``WEBHDFS_URL``); the lake root is the path part of ``LAKE_URI``."""

    def __init__(self, url: str, root: str, user: str | None = None) -> None:
        from hdfs import InsecureClient

        self.client = InsecureClient(url, user=user)
        self.root = root.rstrip("/") or "/"

    def _p(self, path: str) -> str:
        return f"{self.root}/{path}".replace("//", "/")

    def write_file(self, path: str, source: BinaryIO | bytes) -> None:
        self.client.write(self._p(path), data=source, overwrite=True)

    def read_bytes(self, path: str) -> bytes:
        with self.client.read(self._p(path)) as reader:
            return reader.read()

    def exists(self, path: str) -> bool:
        return self.client.status(self._p(path), strict=False) is not None

    def listdir(self, path: str) -> list[str]:
        if not self.exists(path):
            return []
        return sorted(self.client.list(self._p(path)))

    def makedirs(self, path: str) -> None:
        self.client.makedirs(self._p(path))

    def rename(self, src: str, dst: str) -> None:
        if self.exists(dst):
            raise FileExistsError(dst)
        parent = dst.rsplit("/", 1)[0] if "/" in dst else ""
        if parent:
            self.makedirs(parent)
        self.client.rename(self._p(src), self._p(dst))

    def delete(self, path: str) -> None:
        self.client.delete(self._p(path), recursive=True)


def open_lake(settings: Settings) -> LakeFS:
    """The filesystem behind ``LAKE_URI`` (file:// locally; hdfs:// through ``WEBHDFS_URL``)."""
    url = urlsplit(settings.lake_uri)
    if url.scheme in ("", "file"):
        return LocalFS(Path(url.path))
    if url.scheme == "hdfs":
        if not settings.webhdfs_url:
            raise PipelineError(f"LAKE_URI={settings.lake_uri} needs WEBHDFS_URL (e.g. http://namenode:9870)")
        return WebHdfsFS(settings.webhdfs_url, url.path or "/", settings.webhdfs_user)
    raise PipelineError(f"LAKE_URI scheme {url.scheme!r} is not supported (file:// or hdfs://)")
