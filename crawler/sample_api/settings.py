"""Defaults of the `sample-api` command's fault flags, from ``SAMPLE_API_*`` variables.

The sample API is test and demo harness: its knobs live here, not in the production
:class:`spotify_pipeline.settings.Settings`. Built once by the command's handler.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class SampleApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAMPLE_API_", env_file=".env", env_ignore_empty=True,
                                      extra="ignore", frozen=True)

    fault_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 1.0
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    rate_limit: int = 0
    rate_window_s: float = 30.0
    token_ttl_s: int = 3600
    quota_after: int | None = None
    quota_retry_after_s: int = 14400
    float_integers: bool = False
    reccobeats_rate_limit: int = 0
    reccobeats_rate_window_s: float = 1.0
