"""The doctor's IO: one question to each service, answers collected in :class:`Probes` (no judgement here).

Spotify is asked through the crawler's own client and its one-time capability probes
(:mod:`crawler.spotify.capabilities`), on one known artist: the first artist with an id on the kworb page
when it answers, else :data:`FALLBACK_ARTIST_ID`. That costs at most seven calls: the artist, one batch
call, one or two album listings, one album, one track, one audio-features call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from crawler.spotify import capabilities
from crawler.spotify.capabilities import REFUSED
from crawler.spotify.client import ApiError, SpotifyClient
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings
from spotify_core.vocabulary import DEVELOPMENT_ALBUM_PAGE, MAX_PAGE

log = logging.getLogger(__name__)

# Used when kworb does not answer: Radiohead (a long-lived catalogue with albums, genres and tracks).
FALLBACK_ARTIST_ID = "4Z8W4fKeB5YxbusRsdQVPb"
# Asked of ReccoBeats when Spotify gave no track: "Never Gonna Give You Up", in every features dataset.
FALLBACK_TRACK_ID = "4uLU6hMCjMI75M1A2tKUQC"
TIMEOUT_S = 8.0
BATCH_PROBE_SIZE = 5  # artists asked in the one batch call: genres judged on several, not one


@dataclass(frozen=True)
class Answer:
    """Whether a service answered as the pipeline needs it, and a one-line detail (never a secret)."""

    ok: bool
    detail: str


@dataclass
class Probes:
    token: Answer | None = None  # None: not asked (no credentials)
    artist_id: str | None = None
    more_artist_ids: list[str] = field(default_factory=list)  # the next kworb ids, asked in the batch probe
    artist_from: str = ""  # "kworb" or "fallback"
    capabilities: dict[str, bool | None] = field(default_factory=dict)  # name -> allowed / given
    spotify_error: str | None = None  # what stopped the capability probes early
    calls: int = 0
    kworb: Answer | None = None
    reccobeats: Answer | None = None
    musicbrainz: Answer | None = None
    landing: Answer | None = None
    lake: Answer | None = None
    stack: dict[str, Answer] = field(default_factory=dict)


def gather(settings: Settings) -> Probes:
    probes = Probes()
    probes.kworb, kworb_ids = probe_kworb(settings.kworb_base_url)
    probes.artist_id, probes.artist_from = (kworb_ids[0], "kworb") if kworb_ids else (FALLBACK_ARTIST_ID, "fallback")
    probes.more_artist_ids = kworb_ids[1:BATCH_PROBE_SIZE]
    track_id = None
    if settings.has_credentials:
        track_id = probe_spotify(settings, probes)
    probes.reccobeats = probe_reccobeats(settings.reccobeats_api_base_url, track_id or FALLBACK_TRACK_ID)
    probes.musicbrainz = probe_musicbrainz(settings.musicbrainz_api_base_url, settings.musicbrainz_user_agent)
    probes.landing = probe_landing(settings)
    probes.lake = probe_lake(settings)
    probes.stack = probe_stack(settings)
    return probes


def _get(url: str, **kwargs) -> requests.Response | str:
    """The response, or a short reason when there was none."""
    try:
        return requests.get(url, timeout=TIMEOUT_S, **kwargs)
    except requests.RequestException as exc:
        return type(exc).__name__


def probe_kworb(base_url: str) -> tuple[Answer, list[str]]:
    """Does ``KWORB_BASE_URL/artists.html`` answer with a ranking; its first artist ids."""
    from crawler.kworb import decode_page, parse_kworb_page

    url = f"{base_url.rstrip('/')}/artists.html"
    resp = _get(url)
    if isinstance(resp, str) or resp.status_code != 200:
        return Answer(False, f"{url}: {resp if isinstance(resp, str) else f'HTTP {resp.status_code}'}"), []
    try:
        artists = parse_kworb_page(decode_page(resp.content), "artists.html")
    except (PipelineError, ValueError) as exc:
        return Answer(False, f"{url}: {exc}"), []
    ids = [a.spotify_id for a in artists if a.spotify_id][:BATCH_PROBE_SIZE]
    return Answer(bool(artists), f"{url}: {len(artists)} artists"), ids


def probe_spotify(settings: Settings, probes: Probes) -> str | None:
    """Token, then what these credentials may call; returns a track id for the ReccoBeats probe."""
    client = SpotifyClient(settings.replace(spotify_max_retries=1))
    try:
        client.tokens.token()
    except PipelineError as exc:
        probes.token = Answer(False, str(exc))
        return None
    probes.token = Answer(True, f"obtained from {settings.spotify_token_url}")
    caps = probes.capabilities
    track_id = None
    try:
        track_id = _probe_capabilities(client, probes.artist_id or FALLBACK_ARTIST_ID, probes.more_artist_ids, caps)
    except (ApiError, PipelineError) as exc:
        probes.spotify_error = str(exc)
    finally:
        probes.calls = client.total_calls()
        client.pool.close()
    return track_id


def _probe_capabilities(client: SpotifyClient, artist_id: str, more_ids: list[str],
                        caps: dict[str, bool | None]) -> str | None:
    artist = client.get(f"artists/{artist_id}")
    caps.update(capabilities.artist_fields(artist))
    batch = capabilities.batch_endpoints()
    several = batch.call(lambda: client.several("artists", [artist_id, *more_ids]))
    caps["batch_endpoints"] = batch.allowed
    if caps["artist_genres"] is None and several is not REFUSED:  # this artist has none: ask the others
        judged = [capabilities.artist_fields(a)["artist_genres"] for a in several if a]
        caps["artist_genres"] = True if True in judged else False if False in judged else None
    albums_path, params = f"artists/{artist_id}/albums", {"include_groups": "album,single"}
    page50 = capabilities.album_page_50()
    page = page50.call(lambda: client.get(albums_path, {**params, "limit": MAX_PAGE}))
    caps["album_page_50"] = page50.allowed
    if page is REFUSED:
        page = client.get(albums_path, {**params, "limit": DEVELOPMENT_ALBUM_PAGE})
    album_id = next((a["id"] for a in page.get("items") or [] if a), None)
    if album_id is None:
        return None
    album = client.get(f"albums/{album_id}")
    track_id = next((t["id"] for t in (album.get("tracks") or {}).get("items") or [] if t), None)
    if track_id is None:
        return None
    caps.update(capabilities.track_fields(client.get(f"tracks/{track_id}")))
    features = capabilities.audio_features()
    features.call(lambda: client.several("audio-features", [track_id]))
    caps["audio_features"] = features.allowed
    return track_id


def probe_reccobeats(base_url: str, track_id: str) -> Answer:
    url = f"{base_url.rstrip('/')}/audio-features"
    resp = _get(url, params={"ids": track_id})
    if isinstance(resp, str) or resp.status_code != 200:
        return Answer(False, f"{url}: {resp if isinstance(resp, str) else f'HTTP {resp.status_code}'}")
    try:
        known = len(resp.json().get("content") or [])
    except (ValueError, AttributeError):
        return Answer(False, f"{url}: the answer is not ReccoBeats' JSON")
    return Answer(True, f"{url}: answered ({known} of 1 track known)")


def probe_musicbrainz(base_url: str, user_agent: str) -> Answer:
    url = f"{base_url.rstrip('/')}/genre/all"
    resp = _get(url, params={"limit": 1, "fmt": "json"}, headers={"User-Agent": user_agent})
    if isinstance(resp, str) or resp.status_code != 200:
        return Answer(False, f"{url}: {resp if isinstance(resp, str) else f'HTTP {resp.status_code}'}")
    try:
        count = resp.json().get("genre-count")
    except (ValueError, AttributeError):
        return Answer(False, f"{url}: the answer is not MusicBrainz JSON")
    return Answer(True, f"{url}: answered ({count} genres)" if count is not None else f"{url}: answered")


def landing_location(settings: Settings) -> str:
    """Where the landing zone is, without a password: the SQLite path or MongoDB's host and database."""
    if settings.mongo_uri:
        url = urlsplit(settings.mongo_uri.get_secret_value())
        return f"MongoDB {url.scheme}://{url.hostname or '?'}{f':{url.port}' if url.port else ''} db {settings.mongo_db}"
    return f"SQLite {settings.landing_sqlite_path}"


def probe_landing(settings: Settings) -> Answer:
    from crawler.landing import open_store

    where = landing_location(settings)
    try:
        with open_store(settings) as store:
            total = sum(store.counts().values())
    except Exception as exc:  # noqa: BLE001 - any driver error means "does not answer"
        return Answer(False, f"{where}: {type(exc).__name__}: {str(exc).split(' (')[0][:120]}")
    return Answer(True, f"{where}: {total} documents")


def probe_lake(settings: Settings) -> Answer:
    url = urlsplit(settings.lake_uri)
    if url.scheme in ("", "file"):
        path = Path(url.path)
        if path.exists():
            return Answer(True, f"{settings.lake_uri}: exists")
        parent = next((p for p in path.parents if p.exists()), None)
        ok = parent is not None and parent.is_dir()
        return Answer(ok, f"{settings.lake_uri}: {'created on first export' if ok else 'no parent folder'}")
    from lake.fs import open_lake

    try:
        exists = open_lake(settings).exists("/")
    except Exception as exc:  # noqa: BLE001 - any client error means "does not answer"
        return Answer(False, f"{settings.lake_uri}: {type(exc).__name__}: {str(exc)[:120]}")
    return Answer(True, f"{settings.lake_uri} via {settings.webhdfs_url}: {'exists' if exists else 'answered'}")


def probe_stack(settings: Settings) -> dict[str, Answer]:
    """Trino and the Hive metastore, when configured (the stack's own readiness probes)."""
    from spotify_pipeline.stack.probes import http_json, metastore_refusal

    out: dict[str, Answer] = {}
    if settings.trino_host:
        url = f"http://{settings.trino_host}:{settings.trino_port}/v1/info"
        info = http_json(url, timeout=TIMEOUT_S)
        if info is None:
            out["trino"] = Answer(False, f"{url}: no answer")
        else:
            ready = info.get("starting") is False
            out["trino"] = Answer(ready, f"{url}: {'ready' if ready else 'starting'}"
                                         f" (version {(info.get('nodeVersion') or {}).get('version', '?')})")
    if settings.hive_metastore_uri:
        up = metastore_refusal(settings.hive_metastore_uri, TIMEOUT_S) is None
        out["hive-metastore"] = Answer(up, f"{settings.hive_metastore_uri}: {'accepts connections' if up else 'no answer'}")
    return out
