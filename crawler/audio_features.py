"""Where audio features come from (``AUDIO_FEATURES_SOURCE``).

Spotify stopped serving audio features to development-mode apps in 2024-11, so the source is
pluggable: ``spotify`` (the endpoint), ``reccobeats`` (:mod:`crawler.reccobeats`), ``file:PATH``
(CSV or Parquet with ``track_id`` and the Spotify feature columns, e.g. a public dataset), ``none``,
or ``auto`` (the endpoint when the credentials may call it, ReccoBeats from the moment the probe is
refused; an extended-quota run never calls ReccoBeats). A missing feature never stops a crawl.

Every source answers :class:`Answers`: ``(spotify track id, payload to land)`` pairs, and the ids it
was asked and did not know. Only a source with a ``miss_source`` records those misses
(``lookups_raw``), so a refresh asks it again only after ``ENRICHMENT_RETRY_DAYS``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from crawler.spotify import capabilities
from crawler.spotify.capabilities import REFUSED
from crawler.spotify.client import SpotifyClient
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings
from spotify_core.vocabulary import FEATURE_NAMES, MAX_IDS

log = logging.getLogger(__name__)
BATCH = MAX_IDS["audio-features"]


@dataclass
class Answers:
    """What an enrichment source said: ``found`` (Spotify id, payload to land), ``unknown`` ids, and
    ``deferred`` ids it did not ask yet (to go with the next batches)."""

    found: list[tuple[str, dict]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)


class FeatureSource(Protocol):
    name: str  # the source landed documents come from (auto: the one chosen so far)
    batch_size: int  # most track ids one ``fetch`` should be given
    miss_source: str | None  # lookups_raw prefix of the misses it records, None if it records none

    def fetch(self, track_ids: list[str]) -> Answers:
        """Features for those of ``track_ids`` the source knows (raises ApiError when it fails)."""


class NoFeatures:
    name = "none"
    batch_size = BATCH
    miss_source = None

    def fetch(self, track_ids: list[str]) -> Answers:
        return Answers()


class ApiFeatures:
    """The audio-features endpoint; the first 403 turns it off for the rest of the run."""

    name = "spotify"
    batch_size = BATCH
    miss_source = None  # a null in the answer is no record, not a miss worth remembering

    def __init__(self, client: SpotifyClient) -> None:
        self.client = client
        self.capability = capabilities.audio_features()

    @property
    def allowed(self) -> bool | None:
        return self.capability.allowed

    def fetch(self, track_ids: list[str]) -> Answers:
        out = Answers()
        for start in range(0, len(track_ids), BATCH):
            chunk = track_ids[start:start + BATCH]
            result = self.capability.call(lambda chunk=chunk: self.client.several("audio-features", chunk))
            if result is REFUSED:
                return out
            out.found.extend((f["id"], f) for f in result if f and f.get("id"))
        return out


class AutoFeatures:
    """Spotify's endpoint while the credentials may call it; ``fallback`` once its probe is refused.

    The probe is the first audio-features call (one thread probes, the others wait), so an
    extended-quota run never calls the fallback and a development-mode run wastes one call.
    """

    def __init__(self, api: ApiFeatures, fallback: FeatureSource) -> None:
        self.api = api
        self.fallback = fallback

    @property
    def name(self) -> str:
        allowed = self.api.allowed
        return "auto" if allowed is None else self.api.name if allowed else self.fallback.name

    @property
    def batch_size(self) -> int:
        return self.fallback.batch_size if self.api.allowed is False else self.api.batch_size

    @property
    def miss_source(self) -> str | None:
        # Before the probe, assume development mode (the usual case): misses already recorded are skipped.
        return None if self.api.allowed else self.fallback.miss_source

    @property
    def calls(self) -> Counter:
        """Calls made to the fallback (Spotify's are counted by the client)."""
        return getattr(self.fallback, "calls", Counter())

    def fetch(self, track_ids: list[str]) -> Answers:
        if self.api.allowed is not False:
            answers = self.api.fetch(track_ids)
            if self.api.allowed:
                return answers
            # Refused now: the fallback asks its full batches and defers the remainder (40 + 40 + 20
            # would leave a part batch in the middle of the run).
            full = len(track_ids) - len(track_ids) % self.fallback.batch_size
            if full:
                answers = self.fallback.fetch(track_ids[:full])
                answers.deferred = track_ids[full:]
                return answers
        return self.fallback.fetch(track_ids)


class FileFeatures:
    """Features from a local CSV/Parquet file, shaped like the API object for landing."""

    name = "file"
    batch_size = BATCH
    miss_source = None

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

    def fetch(self, track_ids: list[str]) -> Answers:
        hits = self._rows.loc[self._rows.index.intersection(track_ids)]
        out = Answers()
        for track_id, row in hits.iterrows():
            obj = {name: (None if row[name] != row[name] else row[name].item()) for name in FEATURE_NAMES}
            obj.update({"id": str(track_id), "type": "audio_features", "uri": f"spotify:track:{track_id}",
                        "source": "file"})
            out.found.append((str(track_id), obj))
        return out


def make_source(spec: str, client: SpotifyClient, settings: Settings | None = None, pool=None) -> FeatureSource:
    """The source ``AUDIO_FEATURES_SOURCE`` names; ReccoBeats (on ``pool``, with its own limiter) needs
    ``settings``, and without them ``auto`` is Spotify's endpoint alone."""
    from crawler.reccobeats import ReccoBeatsFeatures

    spec = (spec or "auto").strip()
    if spec == "auto":
        if settings is None:
            return ApiFeatures(client)
        return AutoFeatures(ApiFeatures(client), ReccoBeatsFeatures(settings, pool=pool))
    if spec == "spotify":
        return ApiFeatures(client)
    if spec == "reccobeats":
        if settings is None:
            raise PipelineError("AUDIO_FEATURES_SOURCE=reccobeats needs the settings naming its URL")
        return ReccoBeatsFeatures(settings, pool=pool)
    if spec == "none":
        return NoFeatures()
    if spec.startswith("file:"):
        return FileFeatures(Path(spec.removeprefix("file:")).expanduser())
    raise PipelineError(f"AUDIO_FEATURES_SOURCE={spec!r}: expected auto, spotify, reccobeats, none or file:PATH")
