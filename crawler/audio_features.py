"""Where audio features come from (``AUDIO_FEATURES_SOURCE``).

Spotify stopped serving audio features to development-mode apps in 2024-11, so the source is
pluggable: ``spotify`` (the endpoint), ``file:PATH`` (CSV or Parquet with ``track_id`` and the
Spotify feature columns, e.g. a public dataset), ``none``, or ``auto`` (the API when the
credentials may use it, else none). A missing feature never stops a crawl.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from crawler.spotify import capabilities
from crawler.spotify.capabilities import REFUSED
from crawler.spotify.client import SpotifyClient
from spotify_pipeline.errors import PipelineError
from spotify_pipeline.vocabulary import FEATURE_NAMES, MAX_IDS

log = logging.getLogger(__name__)
BATCH = MAX_IDS["audio-features"]


class FeatureSource(Protocol):
    name: str

    def fetch(self, track_ids: list[str]) -> list[dict]:
        """Audio-features objects (with ``id``) for those of ``track_ids`` that have any."""


class NoFeatures:
    name = "none"

    def fetch(self, track_ids: list[str]) -> list[dict]:
        return []


class ApiFeatures:
    """The audio-features endpoint; the first 403 turns it off for the rest of the run."""

    name = "spotify"

    def __init__(self, client: SpotifyClient) -> None:
        self.client = client
        self.capability = capabilities.audio_features()

    @property
    def allowed(self) -> bool | None:
        return self.capability.allowed

    def fetch(self, track_ids: list[str]) -> list[dict]:
        out: list[dict] = []
        for start in range(0, len(track_ids), BATCH):
            chunk = track_ids[start:start + BATCH]
            result = self.capability.call(lambda chunk=chunk: self.client.several("audio-features", chunk))
            if result is REFUSED:
                return out
            out.extend(f for f in result if f and f.get("id"))
        return out


class FileFeatures:
    """Features from a local CSV/Parquet file, shaped like the API object for landing."""

    name = "file"

    def __init__(self, path: Path) -> None:
        import pandas as pd

        try:
            frame = pd.read_parquet(path) if path.suffix.lower() in {".parquet", ".pq"} else pd.read_csv(path)
        except (OSError, ValueError) as exc:
            raise PipelineError(f"AUDIO_FEATURES_SOURCE file {path}: {exc}") from None
        id_col = "track_id" if "track_id" in frame.columns else "id" if "id" in frame.columns else None
        missing = [c for c in FEATURE_NAMES if c not in frame.columns]
        if id_col is None or missing:
            raise PipelineError(f"AUDIO_FEATURES_SOURCE file {path}: needs track_id and {', '.join(missing)}")
        frame = frame.drop_duplicates(subset=[id_col], keep="last").set_index(id_col)
        self._rows = frame[list(FEATURE_NAMES)]

    def fetch(self, track_ids: list[str]) -> list[dict]:
        hits = self._rows.loc[self._rows.index.intersection(track_ids)]
        out = []
        for track_id, row in hits.iterrows():
            obj = {name: (None if row[name] != row[name] else row[name].item()) for name in FEATURE_NAMES}
            obj.update({"id": str(track_id), "type": "audio_features", "uri": f"spotify:track:{track_id}"})
            out.append(obj)
        return out


def make_source(spec: str, client: SpotifyClient) -> FeatureSource:
    spec = (spec or "auto").strip()
    if spec in ("auto", "spotify"):
        return ApiFeatures(client)
    if spec == "none":
        return NoFeatures()
    if spec.startswith("file:"):
        return FileFeatures(Path(spec.removeprefix("file:")).expanduser())
    raise PipelineError(f"AUDIO_FEATURES_SOURCE={spec!r}: expected auto, spotify, none or file:PATH")
