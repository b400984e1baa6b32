"""A spent Spotify quota: recognised in one answer, raised as one error, and the crawl stops.

The quota is shared by every app of a developer. Once it is spent Spotify answers 429 with a
``Retry-After`` in hours (users saw 13749 s, 22708 s, 79892 s: the rest of a 24-hour window). The body
we code against is Spotify's usual error object with a ``reason`` (as its player errors carry)::

    {"error": {"status": 429, "message": "...", "reason": "QUOTA_EXCEEDED"}}

but users also saw the same hours-long header with an empty body ``{}`` or the plain
``{"error": {"status": 429, "message": "API rate limit exceeded"}}``. So an answer is a spent quota when
the reason ``QUOTA_EXCEEDED`` appears anywhere in the body (any key, any nesting, any case), or when
its ``Retry-After`` is beyond ``SPOTIFY_MAX_RETRY_AFTER_S``: waiting hours would hang the crawl, and
retrying before then only spends calls on more 429s.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from crawler.http.retry import retry_after_seconds
from spotify_core.errors import PipelineError

QUOTA_REASON = "QUOTA_EXCEEDED"
# EX_TEMPFAIL from sysexits.h: "try again later". Distinct from 1 (failure) and 2 (usage).
EXIT_QUOTA_SPENT = 75


class QuotaExhausted(PipelineError):
    """The app's quota is spent: stop calling Spotify until ``resume_at`` (UTC; None when not announced)."""

    exit_code = EXIT_QUOTA_SPENT

    def __init__(self, resume_at: datetime | None, why: str) -> None:
        self.resume_at = resume_at
        self.why = why
        when = f"resume after {_minute_up(resume_at):%Y-%m-%d %H:%M} UTC" if resume_at else "no resume time announced"
        super().__init__(f"Spotify quota spent ({why}); {when}. "
                         "Everything landed is kept: run the crawl again then and it resumes")


def _minute_up(when: datetime) -> datetime:
    """The printed time is never before the real one: 02:43:10 prints as 02:44."""
    floor = when.replace(second=0, microsecond=0)
    return floor if floor == when else floor + timedelta(minutes=1)


def names_quota(body: Any) -> bool:
    """Whether ``QUOTA_EXCEEDED`` appears anywhere in a parsed error body (keys or values, any case)."""
    if isinstance(body, str):
        return QUOTA_REASON in body.upper()
    if isinstance(body, dict):
        return any(names_quota(k) or names_quota(v) for k, v in body.items())
    if isinstance(body, list):
        return any(names_quota(v) for v in body)
    return False


def quota_spent(retry_after: str | None, body: Any, max_retry_after_s: float,
                now: datetime | None = None) -> QuotaExhausted | None:
    """The error for a 429 answer when it means a spent quota, else None (an ordinary rate limit).

    ``retry_after`` is the raw header, ``body`` the parsed JSON (or None), ``now`` UTC.
    """
    now = now or datetime.now(UTC)
    announced = bool((retry_after or "").strip())
    wait = retry_after_seconds(retry_after, default=0.0, cap=math.inf, now=now.timestamp())
    resume_at = now + timedelta(seconds=math.ceil(wait)) if announced else None
    if names_quota(body):
        return QuotaExhausted(resume_at, f"429 {QUOTA_REASON}")
    if announced and wait > max_retry_after_s:
        return QuotaExhausted(resume_at, f"429 with Retry-After {wait:.0f}s, beyond SPOTIFY_MAX_RETRY_AFTER_S="
                                         f"{max_retry_after_s:g}")
    return None
