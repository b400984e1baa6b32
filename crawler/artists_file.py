"""The ``artists.txt`` format: ``name<TAB>spotify_id`` per line, the id optional.

Reading is forgiving (blank lines and ``#`` comments skipped, malformed lines reported with their
line number and skipped); writing is atomic so a failed scrape never replaces a good file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from spotify_core.errors import PipelineError
from spotify_core.vocabulary import is_base62_id


@dataclass(frozen=True)
class ArtistEntry:
    name: str
    spotify_id: str | None = None

    @property
    def key(self) -> str:
        """Checkpoint key: the id when known, else the name still to be resolved by search."""
        return self.spotify_id or f"name:{self.name}"


def parse_artists_lines(lines: Iterable[str]) -> tuple[list[ArtistEntry], list[str]]:
    entries: list[ArtistEntry] = []
    problems: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) > 2:
            problems.append(f"line {number}: expected 'name<TAB>spotify_id', found {len(fields)} columns")
            continue
        name = fields[0].strip()
        spotify_id = fields[1].strip() if len(fields) == 2 and fields[1].strip() else None
        if not name and not spotify_id:
            problems.append(f"line {number}: empty artist name")
            continue
        if spotify_id is not None and not is_base62_id(spotify_id):
            problems.append(f"line {number}: {spotify_id!r} is not a 22-character Spotify id")
            continue
        entries.append(ArtistEntry(name or spotify_id or "", spotify_id))
    return entries, problems


def read_artists_file(path: Path) -> tuple[list[ArtistEntry], list[str]]:
    try:
        with open(path, encoding="utf-8") as fh:
            return parse_artists_lines(fh)
    except FileNotFoundError:
        raise PipelineError(f"artists file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"cannot read artists file {path}: {exc}") from None


def write_artists_file(path: Path, entries: Iterable[ArtistEntry]) -> int:
    """Write all entries to a temp file beside ``path`` and rename it over: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for entry in entries:
                name = entry.name.replace("\t", " ").replace("\n", " ").strip()
                fh.write(f"{name}\t{entry.spotify_id or ''}\n")
                count += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
