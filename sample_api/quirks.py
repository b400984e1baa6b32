"""Answers the real Web API has given that its reference does not describe, as pure functions.

- Integer fields as integral floats (``"duration_ms": 204053.0``, ``"popularity": 85.0``): Spotify
  has served such responses, and a public client library keeps one in its test data.
- A spent quota: the quota is shared by all apps of a developer; once spent, every call answers
  429 with a ``Retry-After`` in hours and an error object whose ``reason`` is ``QUOTA_EXCEEDED``.
  The body below is the one a public report from August 2026 quotes verbatim (``retry-after:
  48925``, about 13.6 hours); earlier reports show 429s with Retry-After values of 13749 and 19056
  and an empty body, and in 2026 some clients met 86400.
"""

from __future__ import annotations

# Fields Spotify has answered as floats: the track's and album's counters, image sizes,
# popularity and followers.total (only under "followers": paging objects keep an integer total).
FLOAT_FIELDS = frozenset({"duration_ms", "popularity", "height", "width", "track_number", "disc_number",
                          "total_tracks"})


def integral_floats(obj: object, parent: str | None = None) -> object:
    """``obj`` with every integer of :data:`FLOAT_FIELDS` (and ``followers.total``) as a float."""
    if isinstance(obj, list):
        return [integral_floats(item, parent) for item in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for key, value in obj.items():
        wanted = key in FLOAT_FIELDS or (parent == "followers" and key == "total")
        if wanted and isinstance(value, int) and not isinstance(value, bool):
            out[key] = float(value)
        else:
            out[key] = integral_floats(value, key)
    return out


def quota_exceeded_body() -> dict:
    """The error object of a 429 for a spent quota (as reported by users of the Web API)."""
    return {"error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}}
