"""HTTP server that answers like the Spotify Web API, over a :class:`sample_api.synthetic_catalog.Catalog`.

One port serves the Web API under ``/v1``, the client-credentials token endpoint at ``/api/token``,
kworb-like pages under ``/kworb``, admin counters at ``/_stats`` and ``POST /_admin/evolve?generation=N``
(moves the catalog forward: new releases, a removed album and artist, changed popularity), and
ReccoBeats' audio-features endpoint under ``/reccobeats/v1`` (see :mod:`sample_api.reccobeats`).
``mode="development"`` reproduces a development-mode app as users meet it in late 2026: 403 from
audio-features, the batch endpoints and artist top-tracks, search ``limit`` capped at 10,
artist-albums ``limit`` capped at 10, the removed fields absent (artist ``genres``, followers and
popularity; album label and popularity; ``available_markets``, ``album_group``, ``linked_from`` and
track popularity), ``external_ids`` present.

Fault flags beyond the rate limit: ``quota_after=N`` spends the quota after N Web API calls (every
``/v1`` call then answers 429 with ``Retry-After`` in hours and reason ``QUOTA_EXCEEDED``, until
``configure(quota_after=None)`` or ``POST /_admin/quota?after=none``); ``float_integers`` answers
integer fields as integral floats (:mod:`sample_api.quirks`).

Rate limiting is a rolling window shared by all clients (429 + ``Retry-After``). Faults (5xx,
slow answers, dropped connections, truncated JSON) are drawn per ``/v1`` request; the token
endpoint, kworb pages and ``/_stats`` are never faulted, so tests can always observe the server;
ReccoBeats has only its own rolling window, and neither the quota nor Spotify's window touch it.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import math
import random
import re
import secrets
import signal
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from pydantic import ConfigDict

from sample_api import quirks, reccobeats
from sample_api.musicbrainz import MusicBrainzService
from sample_api.settings import Faults, SampleApiSettings, add_fault_flags, faults_from
from sample_api.synthetic_catalog import Catalog, generate_catalog, paging
from spotify_core.vocabulary import ALBUM_GROUPS, MAX_IDS, is_base62_id

log = logging.getLogger(__name__)



class ApiError(Exception):
    def __init__(self, status: int, message: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict:
        err: dict = {"status": self.status}
        if self.message is not None:
            err["message"] = self.message
        return {"error": err}


class ServerConfig(Faults):
    """What one server plays: the app (mode, credentials), the catalog's seed, and its faults (:class:`Faults`)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt fault is an error, not a silently healthy server

    mode: str = "extended"
    client_id: str = "sample-client-id"
    client_secret: str = "sample-client-secret"
    seed: int = 42
    retry_after: int | None = None  # announced on a 429 instead of the real wait (Spotify sends hours)


@dataclass
class _State:
    config: ServerConfig
    catalog: Catalog
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: dict[str, float] = field(default_factory=dict)
    window: deque = field(default_factory=deque)
    stats: Counter = field(default_factory=Counter)
    request_times: deque = field(default_factory=lambda: deque(maxlen=200_000))
    rng: random.Random = field(default_factory=random.Random)
    quota_used: int = 0  # Web API calls counted against ``config.quota_after``
    reccobeats_window: reccobeats.RollingWindow = field(default_factory=reccobeats.RollingWindow)

    def reset_stats(self) -> None:
        with self.lock:
            self.stats.clear()
            self.request_times.clear()


def _split_ids(raw: str | None, kind: str) -> list[str]:
    if not raw:
        raise ApiError(400, "invalid request: missing ids")
    ids = raw.split(",")
    if len(ids) > MAX_IDS[kind]:
        raise ApiError(400, "Too many ids requested")
    return ids


def _int_param(query: dict, name: str, default: int, maximum: int) -> int:
    raw = query.get(name, [str(default)])[0]
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}") from None
    if name == "limit" and not 0 <= value <= maximum:
        raise ApiError(400, "Invalid limit")
    if name == "offset" and value < 0:
        raise ApiError(400, "Invalid offset")
    return value


class SpotifyApp:
    """Routing and responses, independent of the socket layer."""

    def __init__(self, state: _State) -> None:
        self.state = state
        self.routes: list[tuple[str, re.Pattern, Callable]] = [
            ("GET /v1/search", re.compile(r"^/v1/search/?$"), self.search),
            ("GET /v1/artists", re.compile(r"^/v1/artists/?$"), self.several_artists),
            ("GET /v1/artists/{id}/albums", re.compile(r"^/v1/artists/([^/]+)/albums/?$"), self.artist_albums),
            ("GET /v1/artists/{id}/top-tracks", re.compile(r"^/v1/artists/([^/]+)/top-tracks/?$"),
             self.top_tracks),
            ("GET /v1/artists/{id}", re.compile(r"^/v1/artists/([^/]+)/?$"), self.one_artist),
            ("GET /v1/albums", re.compile(r"^/v1/albums/?$"), self.several_albums),
            ("GET /v1/albums/{id}/tracks", re.compile(r"^/v1/albums/([^/]+)/tracks/?$"), self.album_tracks),
            ("GET /v1/albums/{id}", re.compile(r"^/v1/albums/([^/]+)/?$"), self.one_album),
            ("GET /v1/tracks", re.compile(r"^/v1/tracks/?$"), self.several_tracks),
            ("GET /v1/tracks/{id}", re.compile(r"^/v1/tracks/([^/]+)/?$"), self.one_track),
            ("GET /v1/audio-features", re.compile(r"^/v1/audio-features/?$"), self.several_features),
            ("GET /v1/audio-features/{id}", re.compile(r"^/v1/audio-features/([^/]+)/?$"), self.one_feature),
        ]

    @property
    def dev(self) -> bool:
        return self.state.config.mode == "development"

    def match(self, path: str) -> tuple[str, Callable, tuple[str, ...]] | None:
        for key, pattern, handler in self.routes:
            m = pattern.match(path)
            if m:
                return key, handler, m.groups()
        return None

    # -- lookups
    def _index(self, kind: str, spotify_id: str) -> int:
        if not is_base62_id(spotify_id):
            raise ApiError(400, "Invalid base62 id")
        cat = self.state.catalog
        idx = {"artist": cat.artist_index, "album": cat.album_index, "track": cat.track_index}[kind](spotify_id)
        if idx is None:
            raise ApiError(404, "Resource not found")
        return idx

    def _maybe(self, kind: str, spotify_id: str) -> int | None:
        try:
            return self._index(kind, spotify_id)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def _forbidden_in_dev(self, message: str | None = None) -> None:
        if self.dev:
            raise ApiError(403, message)

    # -- handlers: (base, query, *groups) -> JSON object
    def search(self, base: str, q: dict) -> dict:
        text = q.get("q", [""])[0]
        types = q.get("type", [""])[0].split(",")
        if not text:
            raise ApiError(400, "No search query")
        if "artist" not in types:
            raise ApiError(400, "Bad search type field")
        limit = _int_param(q, "limit", 20, 10 if self.dev else 50)
        offset = _int_param(q, "offset", 0, 1000)
        hits = self.state.catalog.search_artists(re.sub(r'^artist:|"', "", text))
        items = [self.state.catalog.artist(i, base, self.state.config.mode) for i in hits[offset:offset + limit]]
        extra = f"&query={text}&type=artist"
        return {"artists": paging(f"{base}/search", items, len(hits), offset, limit, extra)}

    def one_artist(self, base: str, q: dict, aid: str) -> dict:
        return self.state.catalog.artist(self._index("artist", aid), base, self.state.config.mode)

    def several_artists(self, base: str, q: dict) -> dict:
        self._forbidden_in_dev("Forbidden")
        ids = _split_ids(q.get("ids", [None])[0], "artists")
        cat = self.state.catalog
        return {"artists": [None if (i := self._maybe("artist", x)) is None else cat.artist(i, base) for x in ids]}

    def artist_albums(self, base: str, q: dict, aid: str) -> dict:
        i = self._index("artist", aid)
        limit = _int_param(q, "limit", 20, 10 if self.dev else 50)
        offset = _int_param(q, "offset", 0, 10**6)
        raw_groups = q.get("include_groups", [",".join(ALBUM_GROUPS)])[0]
        groups = tuple(g for g in raw_groups.split(",") if g)
        if any(g not in ALBUM_GROUPS for g in groups):
            raise ApiError(400, "Invalid include_groups value")
        cat = self.state.catalog
        albums = cat.artist_albums(i, groups)
        items = [cat.simplified_album(a, base, self.state.config.mode, group)
                 for a, group in albums[offset:offset + limit]]
        return paging(f"{base}/artists/{aid}/albums", items, len(albums), offset, limit,
                      f"&include_groups={','.join(groups)}")

    def top_tracks(self, base: str, q: dict, aid: str) -> dict:
        self._forbidden_in_dev(None)
        i = self._index("artist", aid)
        cat = self.state.catalog
        tracks = [t for a, _ in cat.artist_albums(i, ("album", "single", "compilation"))[:3]
                  for t in cat.album_tracks(a)][:10]
        return {"tracks": [cat.track(t, base) for t in tracks]}

    def one_album(self, base: str, q: dict, alb: str) -> dict:
        return self.state.catalog.album(self._index("album", alb), base, self.state.config.mode)

    def several_albums(self, base: str, q: dict) -> dict:
        self._forbidden_in_dev("Forbidden")
        ids = _split_ids(q.get("ids", [None])[0], "albums")
        cat = self.state.catalog
        return {"albums": [None if (a := self._maybe("album", x)) is None else cat.album(a, base) for x in ids]}

    def album_tracks(self, base: str, q: dict, alb: str) -> dict:
        a = self._index("album", alb)
        limit = _int_param(q, "limit", 20, 50)
        offset = _int_param(q, "offset", 0, 10**6)
        return self.state.catalog.album_tracks_page(a, base, self.state.config.mode, offset, limit)

    def one_track(self, base: str, q: dict, tid: str) -> dict:
        return self.state.catalog.track(self._index("track", tid), base, self.state.config.mode)

    def several_tracks(self, base: str, q: dict) -> dict:
        self._forbidden_in_dev("Forbidden")
        ids = _split_ids(q.get("ids", [None])[0], "tracks")
        cat = self.state.catalog
        return {"tracks": [None if (t := self._maybe("track", x)) is None else cat.track(t, base) for x in ids]}

    def one_feature(self, base: str, q: dict, tid: str) -> dict:
        self._forbidden_in_dev(None)
        features = self.state.catalog.audio_features(self._index("track", tid), base)
        if features is None:
            raise ApiError(404, "analysis not found")
        return features

    def several_features(self, base: str, q: dict) -> dict:
        self._forbidden_in_dev(None)
        ids = _split_ids(q.get("ids", [None])[0], "audio-features")
        cat = self.state.catalog
        out = []
        for x in ids:
            t = self._maybe("track", x)
            out.append(None if t is None else cat.audio_features(t, base))
        return {"audio_features": out}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: with Nagle's algorithm the body waits for the client's delayed
    # ACK of the headers, 40 ms per call on a kept-alive connection (a crawl ran at 88 calls/s, 4 threads).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, fmt: str, *args: object) -> None:  # quiet by default
        log.debug("%s " + fmt, self.address_string(), *args)

    # -- plumbing
    def _send(self, status: int, body: bytes, content_type: str = "application/json; charset=utf-8",
              headers: dict[str, str] | None = None, declared_length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if declared_length is None else declared_length))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode(), headers=headers)

    def _base(self) -> str:
        host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        return f"http://{host}/v1"

    def _drop(self) -> None:
        self.close_connection = True
        with suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        state = self.server.state
        try:
            if url.path == "/api/token" and method == "POST":
                return self._token()
            if url.path == "/_stats" and method == "GET":
                with state.lock:
                    return self._json(200, dict(state.stats))
            if url.path == "/_stats/reset" and method == "POST":
                state.reset_stats()
                return self._json(200, {"reset": True})
            if url.path == "/_admin/evolve" and method == "POST":
                return self._evolve(parse_qs(url.query))
            if url.path == "/_admin/quota" and method == "POST":
                return self._quota(parse_qs(url.query))
            if url.path.startswith(reccobeats.PREFIX + "/") and method == "GET":
                return self._reccobeats(url.path, parse_qs(url.query))
            if url.path.startswith("/kworb/") and method == "GET":
                return self._kworb(url.path.removeprefix("/kworb/"))
            if url.path.startswith("/v1/"):
                return self._api(method, url.path, parse_qs(url.query))
            if url.path.startswith("/musicbrainz/"):  # MusicBrainz-like genre source (sample_api/musicbrainz.py)
                mb = self.server.musicbrainz.handle(method, url.path.removeprefix("/musicbrainz"), parse_qs(url.query),
                                                    self.headers.get("User-Agent"), self.client_address[0])
                return self._send(mb.status, mb.body, mb.content_type, mb.headers)
            self._json(404, {"error": {"status": 404, "message": "Service not found"}})
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _count(self, key: str) -> None:
        with self.server.state.lock:
            self.server.state.stats[key] += 1

    def _token(self) -> None:
        state = self.server.state
        cfg = state.config
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        client_id = form.get("client_id", [None])[0]
        client_secret = form.get("client_secret", [None])[0]
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                client_id = client_secret = None
        self._count("POST /api/token")
        if form.get("grant_type", [None])[0] != "client_credentials":
            return self._json(400, {"error": "unsupported_grant_type",
                                    "error_description": "grant_type parameter is missing"})
        if not client_id or client_id != cfg.client_id or client_secret != cfg.client_secret:
            return self._json(400, {"error": "invalid_client", "error_description": "Invalid client"})
        token = secrets.token_urlsafe(32)
        with state.lock:
            state.tokens[token] = time.monotonic() + cfg.token_ttl
        self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": cfg.token_ttl})

    def _evolve(self, query: dict) -> None:
        state = self.server.state
        try:
            generation = int(query.get("generation", [""])[0])
            with state.lock:
                state.catalog.evolve(generation)
        except ValueError as exc:
            return self._json(400, {"error": {"status": 400, "message": str(exc)}})
        cat = state.catalog
        self._json(200, {"generation": cat.generation, "artists": cat.n_artists, "albums": cat.n_albums})

    def _quota(self, query: dict) -> None:
        raw = query.get("after", [""])[0]
        try:
            after = None if raw.lower() in ("", "none") else int(raw)
        except ValueError:
            return self._json(400, {"error": {"status": 400, "message": f"invalid after={raw!r}"}})
        state = self.server.state
        with state.lock:
            state.config.quota_after, state.quota_used = after, 0
        self._json(200, {"quota_after": after})

    def _reccobeats(self, path: str, query: dict) -> None:
        state = self.server.state
        cfg = state.config
        status, body, headers, keys = reccobeats.answer(state.catalog, path, query, state.reccobeats_window,
                                                        cfg.reccobeats_rate_limit, cfg.reccobeats_rate_window)
        for key in keys:
            self._count(key)
        self._json(status, body, headers)

    def _kworb(self, page: str) -> None:
        from sample_api.kworb_pages import render_artists_page, render_listeners_page

        self._count(f"GET /kworb/{page}")
        by_streams, by_listeners = self.server.state.catalog.kworb_rankings()
        if page == "artists.html":
            html = render_artists_page(by_streams)
        elif page == "listeners.html":
            html = render_listeners_page(by_listeners)
        else:
            return self._send(404, b"<html><body>Not Found</body></html>", "text/html")
        # Like kworb.net: UTF-8 bytes, no charset in the header.
        self._send(200, html.encode("utf-8"), "text/html")

    def _rate_limited(self) -> int | None:
        """Seconds to wait when the rolling window is full, else None (and the request is counted)."""
        state = self.server.state
        cfg = state.config
        now = time.monotonic()
        with state.lock:
            if cfg.rate_limit <= 0:
                return None
            while state.window and state.window[0] <= now - cfg.rate_window:
                state.window.popleft()
            if len(state.window) >= cfg.rate_limit:
                if cfg.retry_after is not None:
                    return cfg.retry_after
                return max(1, math.ceil(state.window[0] + cfg.rate_window - now))
            state.window.append(now)
            return None

    def _api(self, method: str, path: str, query: dict) -> None:
        state = self.server.state
        cfg = state.config
        app = self.server.app
        route = app.match(path) if method == "GET" else None
        key = route[0] if route else f"{method} {path}"
        with state.lock:
            state.stats[key] += 1
            state.stats["requests"] += 1
            state.request_times.append(time.monotonic())
            roll = state.rng.random(), state.rng.random(), state.rng.random(), state.rng.random()
            state.quota_used += 1
            quota_spent = cfg.quota_after is not None and state.quota_used > cfg.quota_after
        if quota_spent:
            self._count("quota_exceeded")
            return self._json(429, quirks.quota_exceeded_body(), {"Retry-After": str(cfg.quota_retry_after)})
        retry_after = self._rate_limited()
        if retry_after is not None:
            self._count("status_429")
            return self._json(429, {"error": {"status": 429, "message": "API rate limit exceeded"}},
                              {"Retry-After": str(retry_after)})
        if roll[0] < cfg.drop_rate:
            self._count("fault_dropped")
            return self._drop()
        if roll[1] < cfg.fault_rate:
            status = (500, 502, 503)[int(roll[1] * 1000) % 3]
            self._count(f"fault_{status}")
            return self._json(status, {"error": {"status": status, "message": "Server error"}})
        if roll[2] < cfg.slow_rate:
            self._count("fault_slow")
            time.sleep(cfg.slow_seconds)
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return self._json(401, {"error": {"status": 401, "message": "No token provided"}})
        with state.lock:
            expiry = state.tokens.get(auth[7:])
        if expiry is None:
            return self._json(401, {"error": {"status": 401, "message": "Invalid access token"}})
        if expiry <= time.monotonic():
            return self._json(401, {"error": {"status": 401, "message": "The access token expired"}})
        if route is None:
            return self._json(404, {"error": {"status": 404, "message": "Service not found"}})
        try:
            obj = route[1](self._base(), query, *route[2])
        except ApiError as exc:
            self._count(f"status_{exc.status}")
            return self._json(exc.status, exc.body())
        if cfg.float_integers:
            obj = quirks.integral_floats(obj)
        body = json.dumps(obj, ensure_ascii=False).encode()
        if roll[3] < cfg.truncate_rate:
            self._count("fault_truncated")
            body = body[: max(1, len(body) // 2)]
        self._send(200, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: _State) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.app = SpotifyApp(state)
        self.musicbrainz = MusicBrainzService(state.catalog, count=self._count)

    def _count(self, key: str) -> None:
        with self.state.lock:
            self.state.stats[key] += 1


class SampleApi:
    """A running server: URLs to point the pipeline at, counters, and runtime reconfiguration."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        host, port = server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self.api_url = f"{self.base_url}/v1"
        self.token_url = f"{self.base_url}/api/token"
        self.kworb_url = f"{self.base_url}/kworb"
        self.reccobeats_url = f"{self.base_url}{reccobeats.PREFIX}"
        self.musicbrainz_url = f"{self.base_url}/musicbrainz/ws/2"
        self.port = port
        self._thread = threading.Thread(target=server.serve_forever, name="sample-api", daemon=True)

    @property
    def config(self) -> ServerConfig:
        return self._server.state.config

    @property
    def catalog(self) -> Catalog:
        return self._server.state.catalog

    @property
    def musicbrainz(self) -> MusicBrainzService:
        return self._server.musicbrainz

    @property
    def client_id(self) -> str:
        return self.config.client_id

    @property
    def client_secret(self) -> str:
        return self.config.client_secret

    def configure(self, **changes: object) -> None:
        """Change faults, rate limits, quota, mode or token TTL while serving.

        Setting ``quota_after`` starts its count afresh (None lifts a spent quota).
        """
        with self._server.state.lock:
            for name, value in changes.items():
                if not hasattr(self.config, name):
                    raise AttributeError(name)
                setattr(self.config, name, value)
            if "quota_after" in changes:
                self._server.state.quota_used = 0
            self._server.state.window.clear()
        self._server.state.reccobeats_window.clear()

    def evolve(self, generation: int) -> None:
        """Move the catalog to ``generation`` (same as ``POST /_admin/evolve?generation=N``)."""
        with self._server.state.lock:
            self._server.state.catalog.evolve(generation)

    def expire_tokens(self) -> None:
        with self._server.state.lock:
            for token in self._server.state.tokens:
                self._server.state.tokens[token] = 0.0

    def stats(self) -> dict[str, int]:
        with self._server.state.lock:
            return dict(self._server.state.stats)

    def reset_stats(self) -> None:
        self._server.state.reset_stats()

    def request_times(self) -> list[float]:
        """``time.monotonic()`` of every /v1 request seen (for rate-limit assertions)."""
        with self._server.state.lock:
            return list(self._server.state.request_times)

    def start(self) -> SampleApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def make_server(n_artists: int = 20, seed: int = 42, host: str = "127.0.0.1", port: int = 0,
                generation: int = 0, **config: object) -> SampleApi:
    cfg = ServerConfig(seed=seed, **config)  # type: ignore[arg-type]
    if cfg.mode not in ("extended", "development"):
        raise ValueError(f"unknown mode {cfg.mode!r}")
    catalog = generate_catalog(n_artists, seed).evolve(generation)
    state = _State(config=cfg, catalog=catalog, rng=random.Random(seed))
    return SampleApi(_Server((host, port), state))


@contextmanager
def start_sample_api(n_artists: int = 20, seed: int = 42, mode: str = "extended", generation: int = 0,
                     **config: object) -> Iterator[SampleApi]:
    """Serve on an ephemeral loopback port for the duration of the block (tests, demo, bench)."""
    api = make_server(n_artists, seed, mode=mode, generation=generation, **config).start()
    try:
        yield api
    finally:
        api.stop()


def build_parser(prog: str = "spotify-pipeline sample-api") -> argparse.ArgumentParser:
    """The `sample-api` command's flags: where to listen, which catalog, and the fault flags (:class:`Faults`)."""
    p = argparse.ArgumentParser(
        prog=prog,
        description="One port serves the Web API (/v1), the token endpoint (/api/token), kworb-like pages "
                    "(/kworb) and ReccoBeats' audio features (/reccobeats/v1); it prints the variables that "
                    "point the pipeline at it. Counters at /_stats. Unset fault flags default to SAMPLE_API_*.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--mode", choices=("extended", "development"), default="extended",
                   help="development: a development-mode app as in late 2026 (no batch endpoints, no audio "
                        "features, no artist genres/followers/popularity, no available_markets/album_group)")
    p.add_argument("--artists", type=_positive_int, default=20, help="catalog size in artists")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--generation", type=int, default=0,
                   help="catalog evolved N steps (new releases, removals, popularity changes; by seed)")
    p.add_argument("--client-id", default="sample-client-id")
    p.add_argument("--client-secret", default="sample-client-secret")
    add_fault_flags(p)
    return p


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def run(args: argparse.Namespace, settings) -> int:
    """`spotify-pipeline sample-api`: serve until Ctrl-C / SIGTERM (flags override ``SAMPLE_API_*``).

    ``args.argv`` holds the command's own arguments: the command line hands them over unparsed, as the
    flags are the harness's (a wheel install has the command but not the harness).
    """
    from pydantic import ValidationError

    from spotify_core.errors import PipelineError

    args = build_parser().parse_args(args.argv)
    flags = faults_from(args)
    try:
        faults = SampleApiSettings(**flags)  # a flag given wins over its SAMPLE_API_* variable
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0])
        where = f"--{name.replace('_', '-')}" if name in flags else f"SAMPLE_API_{name.upper()}"
        raise PipelineError(f"{where}={err['input']!r}: {err['msg']}") from None
    try:
        api = make_server(
            args.artists, args.seed, host=args.host, port=args.port, mode=args.mode, generation=args.generation,
            client_id=args.client_id, client_secret=args.client_secret, **faults.model_dump(),
        )
    except OSError as exc:
        raise PipelineError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    api.start()
    cat = api.catalog
    print(f"sample Spotify API ({args.mode} mode): {cat.n_artists} artists, {cat.n_albums} albums, "
          f"{cat.n_tracks} tracks (seed {args.seed}, generation {cat.generation})", flush=True)
    print(f"export SPOTIFY_API_BASE_URL={api.api_url}", flush=True)
    print(f"export SPOTIFY_TOKEN_URL={api.token_url}", flush=True)
    print(f"export KWORB_BASE_URL={api.kworb_url}", flush=True)
    print(f"export RECCOBEATS_API_BASE_URL={api.reccobeats_url}", flush=True)
    print(f"export MUSICBRAINZ_API_BASE_URL={api.musicbrainz_url}", flush=True)
    print(f"export SPOTIFY_CLIENT_ID={api.client_id}", flush=True)
    print(f"export SPOTIFY_CLIENT_SECRET={api.client_secret}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()
    return 0
