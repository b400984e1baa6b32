"""The doctor's report, built from probe answers by pure functions (no IO), as JSON or aligned text.

JSON shape (``spotify-pipeline doctor --json``)::

    {"ok": bool, "exit_code": 0 | 1,
     "checks": [{"section": "spotify" | "capabilities" | "sources" | "services" | "storage" | "stack",
                 "name": str, "status": "ok" | "warn" | "fail" | "skip", "detail": str}, ...],
     "capabilities": {"batch_endpoints": bool | null, "album_page_50": ..., "audio_features": ...,
                      "artist_genres": ..., "artist_followers_popularity": ..., "track_popularity": ...,
                      "external_ids": ...},
     "sources": {"audio_features": "spotify" | "reccobeats" | "file:PATH" | "none",
                 "genres": "spotify" | "musicbrainz" | "none"},
     "probe": {"artist_id": str, "artist_from": "kworb" | "fallback", "spotify_calls": int}}

``null`` means not probed (no credentials, or a probe stopped early). Exit code 1 when the pipeline cannot
run as configured (no credentials, token refused, landing zone unreachable), 0 otherwise: warnings (a
refused capability, an enrichment source down, the stack not answering) are allowed.
"""

from __future__ import annotations

import re

from spotify_core.settings import Settings
from spotify_pipeline.doctor.probes import Answer, Probes, landing_location

CAPABILITIES = {  # name -> (label, what happens when refused or absent)
    "batch_endpoints": ("batch endpoints (/artists?ids=...)", "refused: one call per artist, album and track"),
    "album_page_50": ("album listing limit 50", "refused: album listings page by 10"),
    "audio_features": ("audio features", "refused: features come from AUDIO_FEATURES_SOURCE"),
    "artist_genres": ("artist genres", "absent: genres come from GENRES_SOURCE"),
    "artist_followers_popularity": ("artist followers/popularity", "absent: null downstream"),
    "track_popularity": ("track popularity", "absent: null downstream"),
    "external_ids": ("track external_ids (ISRC)", "absent: null downstream"),
}
BLOCKING = {"credentials", "token", "landing zone"}  # a failure here means the pipeline cannot run
MARK = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "-"}
_CONTACT = re.compile(r"\([^)]*(@|https?://)[^)]*\)")


def mask(value: str) -> str:
    """Enough of an id to recognise it, not enough to use it."""
    return f"{value[:4]}…{value[-2:]}" if len(value) > 8 else "…"


def features_source(spec: str, allowed: bool | None) -> tuple[str, str]:
    """Which source fills audio features for AUDIO_FEATURES_SOURCE=``spec``, given what Spotify allows."""
    spec = (spec or "auto").strip()
    if spec == "auto":
        if allowed is False:
            return "reccobeats", "Spotify refuses audio-features to these credentials"
        return "spotify", "Spotify allows audio-features" if allowed else "Spotify where allowed (not probed)"
    if spec == "spotify" and allowed is False:
        return "none", "AUDIO_FEATURES_SOURCE=spotify but Spotify refuses it: set auto or reccobeats"
    return spec, f"AUDIO_FEATURES_SOURCE={spec}"


def genres_source(spec: str, given: bool | None) -> tuple[str, str]:
    """Which source fills artist genres for GENRES_SOURCE=``spec``, given whether artist objects carry them."""
    spec = (spec or "auto").strip()
    if spec == "auto":
        if given is False:
            return "musicbrainz", "artist objects carry no genres for these credentials"
        return "spotify", ("artist objects carry genres" if given else
                           "Spotify's genres where given, else MusicBrainz")
    if spec == "spotify" and given is False:
        return "none", "GENRES_SOURCE=spotify but artist objects carry no genres: set auto or musicbrainz"
    return spec, f"GENRES_SOURCE={spec}"


def user_agent_has_contact(user_agent: str) -> bool:
    """MusicBrainz wants ``app/version ( contact )`` with an e-mail address or a URL."""
    return bool(_CONTACT.search(user_agent))


def _auto(spec: str) -> bool:
    return (spec or "auto").strip() == "auto"


def _check(section: str, name: str, status: str, detail: str) -> dict:
    return {"section": section, "name": name, "status": status, "detail": detail}


def _answer(section: str, name: str, answer: Answer | None, when_down: str = "warn") -> dict:
    if answer is None:
        return _check(section, name, "skip", "not probed")
    detail = answer.detail + (" (not used with this setup)" if not answer.ok and when_down == "skip" else "")
    return _check(section, name, "ok" if answer.ok else when_down, detail)


def spotify_checks(settings: Settings, probes: Probes) -> list[dict]:
    if not settings.has_credentials:
        return [_check("spotify", "credentials", "fail", "SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET must be set"),
                _check("spotify", "token", "skip", "no credentials")]
    checks = [_check("spotify", "credentials", "ok",
                     f"SPOTIFY_CLIENT_ID {mask(settings.spotify_client_id or '')}, secret set")]
    checks.append(_answer("spotify", "token", probes.token, when_down="fail"))
    if probes.spotify_error:
        checks.append(_check("spotify", "probe", "warn", f"stopped early: {probes.spotify_error}"))
    return checks


def capability_checks(probes: Probes) -> list[dict]:
    out = []
    for key, (label, consequence) in CAPABILITIES.items():
        value = probes.capabilities.get(key)
        if value is None:
            detail = ("given but empty for the probed artist: proves nothing" if key in probes.capabilities
                      else "not probed")
            out.append(_check("capabilities", label, "skip", detail))
        else:
            out.append(_check("capabilities", label, "ok" if value else "warn", "yes" if value else consequence))
    return out


def source_checks(settings: Settings, probes: Probes) -> tuple[dict[str, str], list[dict]]:
    features, why_features = features_source(settings.audio_features_source,
                                             probes.capabilities.get("audio_features"))
    genres, why_genres = genres_source(settings.genres_source, probes.capabilities.get("artist_genres"))
    checks = [
        _check("sources", "audio features", "warn" if features == "none" else "ok", f"{features}: {why_features}"),
        _check("sources", "genres", "warn" if genres == "none" else "ok", f"{genres}: {why_genres}"),
    ]
    # With auto, the fallback source is in use unless Spotify is known to give the data (genres also fall
    # back per artist without any).
    used = {features, genres}
    if _auto(settings.audio_features_source) and probes.capabilities.get("audio_features") is None:
        used.add("reccobeats")
    if _auto(settings.genres_source) and probes.capabilities.get("artist_genres") is not True:
        used.add("musicbrainz")
    checks.append(_answer("services", "kworb", probes.kworb))
    checks.append(_answer("services", "ReccoBeats", probes.reccobeats,
                          when_down="warn" if "reccobeats" in used else "skip"))
    checks.append(_answer("services", "MusicBrainz", probes.musicbrainz,
                          when_down="warn" if "musicbrainz" in used else "skip"))
    ua = settings.musicbrainz_user_agent
    default_ua = type(settings).model_fields["musicbrainz_user_agent"].default
    if not user_agent_has_contact(ua) or ua == default_ua:
        checks.append(_check("services", "MusicBrainz User-Agent", "warn",
                             f"{ua!r} has no contact of yours: set MUSICBRAINZ_USER_AGENT='app/1.0 ( you@example.org )'"
                             " or MusicBrainz may block requests"))
    return {"audio_features": features, "genres": genres}, checks


def storage_checks(settings: Settings, probes: Probes) -> list[dict]:
    landing = probes.landing or Answer(False, f"{landing_location(settings)}: not probed")
    return [_check("storage", "landing zone", "ok" if landing.ok else "fail", landing.detail),
            _answer("storage", "lake", probes.lake)]


def stack_checks(probes: Probes) -> list[dict]:
    if not probes.stack:
        return [_check("stack", "stack", "skip", "not configured (TRINO_HOST, HIVE_METASTORE_URI unset)")]
    return [_answer("stack", name, answer) for name, answer in probes.stack.items()]


def build_report(settings: Settings, probes: Probes) -> dict:
    """The whole report (see the module docstring for its shape)."""
    sources, checks_sources = source_checks(settings, probes)
    checks = [*spotify_checks(settings, probes), *capability_checks(probes), *checks_sources,
              *storage_checks(settings, probes), *stack_checks(probes)]
    ok = not any(c["status"] == "fail" and c["name"] in BLOCKING for c in checks)
    return {
        "ok": ok,
        "exit_code": 0 if ok else 1,
        "checks": checks,
        "capabilities": {key: probes.capabilities.get(key) for key in CAPABILITIES},
        "sources": sources,
        "probe": {"artist_id": probes.artist_id, "artist_from": probes.artist_from, "spotify_calls": probes.calls},
    }


def render_text(report: dict) -> str:
    """Aligned lines, one per check, grouped by section; the verdict last."""
    width = max(len(c["name"]) for c in report["checks"])
    lines: list[str] = []
    section = None
    for c in report["checks"]:
        if c["section"] != section:
            section = c["section"]
            title = section
            if section == "capabilities" and report["probe"]["artist_id"]:
                title += f" (probed on artist {report['probe']['artist_id']} from {report['probe']['artist_from']})"
            lines.append(f"{title}:")
        lines.append(f"  {MARK[c['status']]} {c['name']:<{width}}  {c['detail']}")
    warnings = sum(c["status"] == "warn" for c in report["checks"])
    if report["ok"]:
        lines.append(f"ready: the pipeline can run as configured ({warnings} warning{'s' * (warnings != 1)})")
    else:
        failed = ", ".join(c["name"] for c in report["checks"] if c["status"] == "fail" and c["name"] in BLOCKING)
        lines.append(f"NOT READY: {failed}")
    return "\n".join(lines)
