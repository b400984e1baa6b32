"""The sample API's fault and limit knobs, declared once.

Each field of :class:`Faults` is at the same time a field of the server's configuration
(``start_sample_api(fault_rate=0.1)``, ``api.configure(...)``), a ``SAMPLE_API_*`` variable (the
default of the `sample-api` command, :class:`SampleApiSettings`) and a `sample-api` flag
(``--fault-rate``, :func:`add_fault_flags`), with its description as the flag's help. The sample API
is test and demo harness: its knobs live here, not in the production
:class:`spotify_core.settings.Settings`.
"""

from __future__ import annotations

import argparse
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

RATE = {"ge": 0.0, "le": 1.0}


class Faults(BaseModel):
    """What the server breaks or limits on purpose (all off by default)."""

    token_ttl: int = Field(3600, gt=0, description="token lifetime in seconds")
    rate_limit: int = Field(0, ge=0, description="Web API requests allowed per rolling window (0 = off)")
    rate_window: float = Field(30.0, gt=0, description="rolling window in seconds")
    fault_rate: float = Field(0.0, **RATE, description="share of requests answered 5xx")
    slow_rate: float = Field(0.0, **RATE, description="share of requests answered slowly")
    slow_seconds: float = Field(1.0, ge=0, description="delay of a slow response")
    drop_rate: float = Field(0.0, **RATE, description="share of connections dropped without an answer")
    truncate_rate: float = Field(0.0, **RATE, description="share of responses with truncated JSON")
    quota_after: int | None = Field(
        None, ge=0, description="spend the quota after N Web API calls: then 429 QUOTA_EXCEEDED with Retry-After "
                                "in hours (lift it: POST /_admin/quota?after=none)")
    quota_retry_after: int = Field(14400, ge=0, description="Retry-After of a spent quota in seconds")
    float_integers: bool = Field(False, description="answer integer fields as integral floats (duration_ms "
                                                    "204053.0), as Spotify has")
    reccobeats_rate_limit: int = Field(0, ge=0, description="ReccoBeats (/reccobeats/v1) requests per rolling "
                                                            "window of its own (0 = off)")
    reccobeats_rate_window: float = Field(1.0, gt=0, description="ReccoBeats rolling window in seconds")


class SampleApiSettings(Faults, BaseSettings):
    """The `sample-api` command's defaults: ``SAMPLE_API_<FIELD>`` (``SAMPLE_API_FAULT_RATE=0.1``)."""

    model_config = SettingsConfigDict(env_prefix="SAMPLE_API_", env_file=".env", env_ignore_empty=True,
                                      extra="ignore", frozen=True)


def _flag_type(annotation: Any) -> type:
    if get_origin(annotation) in (Union, types.UnionType):  # int | None
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    return annotation


def add_fault_flags(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per field, default None (unset: the ``SAMPLE_API_*`` value or the field's default)."""
    for name, info in Faults.model_fields.items():
        flag = "--" + name.replace("_", "-")
        kind = _flag_type(info.annotation)
        if kind is bool:
            parser.add_argument(flag, action="store_true", default=None, help=info.description)
        else:
            parser.add_argument(flag, type=kind, metavar="N" if kind is int else "X", help=info.description)


def faults_from(args: argparse.Namespace) -> dict[str, Any]:
    """The fault flags given on the command line (the rest is left to ``SAMPLE_API_*`` and the defaults)."""
    return {name: getattr(args, name) for name in Faults.model_fields if getattr(args, name, None) is not None}
