"""A MusicBrainz-like web service over the synthetic catalog, for offline runs and tests.

Mounted by the sample server under ``/musicbrainz/ws/2/`` (so
``MUSICBRAINZ_API_BASE_URL=http://127.0.0.1:P/musicbrainz/ws/2``), it answers the four calls the
genre source makes, in MusicBrainz's JSON shapes:

* ``url?resource=...&inc=artist-rels``: up to 100 URLs; several answer
  ``{"url-count", "url-offset", "urls"}`` with unknown URLs absent, one answers the url object
  itself or 404;
* ``artist?query=arid:(A OR B ...)&limit=N``: artists with their ``tags`` (limit at most 100);
* ``artist/<MBID>?inc=genres``: one artist with its ``genres``;
* ``genre/all?limit=&offset=`` (JSON pages) and ``genre/all?fmt=txt`` (every name, one per line).

The data is derived from the catalog, deterministically by seed: about 83% of the Spotify
artists are linked (a uuid5 MBID; about 3% of those to two MusicBrainz artists, a duplicate
awaiting a merge); a linked artist's tags are the catalog's Spotify genres plus tags that are no
genre ("seen live", "british", ...), which the genre list (a few hundred names) leaves out.

MusicBrainz's two rules are enforced: a request without a meaningful User-Agent
(``app/version ( contact )``, not a library default) gets 403, and a client (User-Agent +
address) asking again less than a second after its last admitted request gets 503.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from crawler.musicbrainz.calls import minimum_calls
from sample_api.synthetic_catalog import Catalog, decode_id

PREFIX = "/musicbrainz"
MAX_RESOURCES = 100
MAX_LIMIT = 100
LINKED_SHARE = 0.83
DUPLICATE_SHARE = 0.03
_NAMESPACE = uuid.UUID("5f0c5b2e-7d1c-4c61-9d6e-2b0b8a6f1c11")  # of this synthetic service only
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HELP = "For usage, please see: https://musicbrainz.org/development/mmd"
RATE_MESSAGE = ("Your requests are exceeding the allowable rate limit. Please see "
                "http://wiki.musicbrainz.org/XMLWebService for more information.")

# The catalog's Spotify genres (every one must be a MusicBrainz genre here: tests check it).
CATALOG_GENRES = (
    "pop", "dance pop", "hip hop", "rap", "trap", "r&b", "latin pop", "reggaeton", "k-pop", "rock",
    "indie rock", "alternative rock", "edm", "house", "techno", "country", "afrobeats", "j-pop",
    "singer-songwriter", "soul", "funk", "metal", "punk", "jazz", "classical", "lo-fi", "drill",
    "bossa nova", "chanson", "schlager",
)
_MORE_GENRES = (
    "acid jazz", "afrobeat", "ambient", "americana", "art pop", "art rock", "bachata", "baroque", "bebop",
    "bluegrass", "blues", "blues rock", "breakbeat", "britpop", "chamber pop", "chillwave", "contemporary r&b",
    "cumbia", "dance", "dancehall", "deep house", "disco", "downtempo", "drum and bass", "dub", "dubstep",
    "electro", "electronic", "electropop", "emo", "eurodance", "experimental", "folk", "folk rock",
    "garage rock", "gospel", "grime", "grunge", "hard rock", "hardcore punk", "heavy metal", "idm",
    "indie folk", "indie pop", "industrial", "jungle", "math rock", "merengue", "metalcore", "neo-soul",
    "new wave", "noise", "opera", "pop punk", "pop rap", "pop rock", "post-punk", "post-rock", "power pop",
    "progressive rock", "psychedelic rock", "reggae", "rock and roll", "salsa", "samba", "shoegaze", "ska",
    "soundtrack", "synth-pop", "synthwave", "tango", "trance", "trip hop", "uk garage", "vaporwave",
)
_STYLES = ("pop", "rock", "folk", "jazz", "house", "techno", "metal", "hip hop", "soul", "punk")
_QUALIFIERS = ("alternative", "experimental", "progressive", "psychedelic", "acoustic", "dark", "melodic",
               "instrumental", "latin", "japanese", "french", "brazilian", "african", "nordic", "celtic",
               "korean", "turkish", "italian", "arabic", "balkan")
GENRES: tuple[str, ...] = tuple(sorted(
    set(CATALOG_GENRES) | set(_MORE_GENRES) | {f"{q} {s}" for q in _QUALIFIERS for s in _STYLES}))
# Tags that are not genres: the genre source must leave them out.
NON_GENRE_TAGS = ("seen live", "british", "american", "female vocalist", "male vocalists", "german", "swedish",
                  "00s", "90s", "favorites", "under 2000 listeners", "spotify")
_COUNTRIES = ("US", "GB", "DE", "FR", "SE", "BR", "JP", "KR", "NG", "MX")
_TYPE_IDS = {"Person": "b6e035f4-3ce9-331c-97df-83397230b0df", "Group": "e431f5f6-b5d2-343d-8b36-72607fffb74b"}
_GENERIC_AGENTS = frozenset({"python-requests", "python-urllib", "python-httpx", "aiohttp", "curl", "wget", "java",
                             "go-http-client", "okhttp", "axios", "node-fetch", "libwww-perl", "mozilla"})
_MEANINGFUL_AGENT = re.compile(r"^\s*[^\s/()]+/\S+.*\(\s*\S.*\)\s*$")


def stats_key(endpoint: str) -> str:
    """The ``/_stats`` key counting calls of a client endpoint (``url``, ``artist?query``, ...)."""
    return f"GET {PREFIX}/ws/2/{endpoint}"


def meaningful_user_agent(agent: str | None) -> bool:
    """``app/version ( contact )`` and not an HTTP library's default."""
    if not agent or not _MEANINGFUL_AGENT.match(agent):
        return False
    return agent.strip().split("/", 1)[0].lower() not in _GENERIC_AGENTS


@dataclass
class MbResponse:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class _Error(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(status: int, obj: object, headers: dict[str, str] | None = None) -> MbResponse:
    return MbResponse(status, json.dumps(obj, ensure_ascii=False).encode(), headers=headers or {})


def _int(query: dict, name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name, [str(default)])[0]
    try:
        value = int(raw)
    except ValueError:
        raise _Error(400, f"Invalid {name}: {raw}") from None
    if not low <= value <= high:
        raise _Error(400, f"Invalid {name}: {raw}")
    return value


class MusicBrainzService:
    """Routing, data and the two rules; the socket layer (server.py) only forwards requests here."""

    def __init__(self, catalog: Catalog, count: Callable[[str], None] | None = None,
                 min_interval_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.catalog = catalog
        self.min_interval_s = min_interval_s
        self.unindexed: set[str] = set()  # MBIDs the search leaves out (an index that lags edits)
        self._count = count or (lambda key: None)
        self._clock = clock
        self._lock = threading.Lock()
        self._last_admitted: dict[tuple[str, str], float] = {}
        self._requests: deque[tuple[str, float]] = deque(maxlen=200_000)  # (User-Agent, arrival) per request
        self._fail_next: list[int] = []
        self._by_mbid: dict[str, int] = {}
        self._indexed_artists = 0

    # ------------------------------------------------------------------ data
    def _rng(self, i: int) -> random.Random:
        return random.Random(f"{self.catalog.seed}:musicbrainz:{i}")

    def mbids(self, spotify_id: str) -> list[str]:
        """The MBIDs the artist's Spotify URL links to, smallest first ([] when not linked)."""
        i = self._index(spotify_id)
        return [] if i is None else self._mbids(i)

    def _index(self, spotify_id: str) -> int | None:
        i = decode_id("artist", spotify_id, self.catalog.seed)
        return i if i is not None and i < self.catalog.n_artists else None

    def _mbids(self, i: int) -> list[str]:
        rng = self._rng(i)
        if rng.random() >= LINKED_SHARE:
            return []
        sid = self.catalog.artist_id(i)
        out = [str(uuid.uuid5(_NAMESPACE, f"{self.catalog.seed}:artist:{sid}"))]
        if rng.random() < DUPLICATE_SHARE:
            out.append(str(uuid.uuid5(_NAMESPACE, f"{self.catalog.seed}:artist:{sid}:duplicate")))
        return sorted(out)

    def _artist_of(self, mbid: str) -> int | None:
        with self._lock:
            while self._indexed_artists < self.catalog.n_artists:  # the catalog may have evolved
                i = self._indexed_artists
                for m in self._mbids(i):
                    self._by_mbid[m] = i
                self._indexed_artists += 1
            return self._by_mbid.get(mbid)

    def _tags(self, i: int, mbid: str) -> list[dict]:
        """Genre tags from the catalog's Spotify genres plus tags that are no genre, in no order."""
        rng = random.Random(f"{self.catalog.seed}:musicbrainz-tags:{mbid}")
        genres = self.catalog.artist(i, "", "extended")["genres"]
        tags = [{"count": rng.randint(1, 30), "name": g} for g in genres]
        tags += [{"count": rng.randint(1, 10), "name": t} for t in rng.sample(NON_GENRE_TAGS, rng.randint(0, 3))]
        rng.shuffle(tags)
        return tags

    def _artist_core(self, i: int, mbid: str) -> dict:
        rng = random.Random(f"{self.catalog.seed}:musicbrainz-artist:{mbid}")
        kind = rng.choice(("Person", "Group"))
        name = self.catalog.artist_name(i)
        words = name.split()
        sort_name = f"{words[-1]}, {' '.join(words[:-1])}" if kind == "Person" and len(words) > 1 else name
        return {"id": mbid, "type": kind, "type-id": _TYPE_IDS[kind], "name": name, "sort-name": sort_name,
                "country": rng.choice(_COUNTRIES), "disambiguation": ""}

    def _search_artist(self, i: int, mbid: str) -> dict:
        obj = self._artist_core(i, mbid)
        obj["score"] = 100
        obj["life-span"] = {"ended": None}
        tags = self._tags(i, mbid)
        if tags:
            obj["tags"] = tags
        return obj

    def _url_object(self, resource: str, i: int, with_rels: bool) -> dict:
        obj: dict = {"id": str(uuid.uuid5(_NAMESPACE, f"url:{resource}")), "resource": resource}
        if with_rels:
            obj["relations"] = [{
                "type": "free streaming", "type-id": str(uuid.uuid5(_NAMESPACE, "free streaming")),
                "target-type": "artist", "direction": "backward", "begin": None, "end": None, "ended": False,
                "attributes": [], "attribute-ids": {}, "attribute-values": {}, "source-credit": "",
                "target-credit": "", "artist": self._artist_core(i, mbid),
            } for mbid in self._mbids(i)]
        return obj

    # ------------------------------------------------------------------ admin (tests)
    def fail_next(self, n: int, status: int = 503) -> None:
        """Answer the next ``n`` requests with ``status`` (a busy server)."""
        with self._lock:
            self._fail_next.extend([status] * n)

    def request_times(self, user_agent: str | None = None) -> list[float]:
        """Arrival times (``time.monotonic()``) of every request, or of one User-Agent's."""
        with self._lock:
            return [t for agent, t in self._requests if user_agent is None or agent == user_agent]

    # ------------------------------------------------------------------ requests
    def handle(self, method: str, path: str, query: dict[str, list[str]], user_agent: str | None,
               address: str) -> MbResponse:
        """Answer ``path`` (below ``/musicbrainz``), e.g. ``/ws/2/url``."""
        now = self._clock()
        route = self._route(method, path)
        self._count("musicbrainz_requests")
        self._count(stats_key(route[0]) if route else f"{method} {PREFIX}{path}")
        with self._lock:
            self._requests.append((user_agent or "", now))
            forced = self._fail_next.pop(0) if self._fail_next else None
        if not meaningful_user_agent(user_agent):
            return self._error(403, "Your requests are blocked: send a meaningful User-Agent "
                               "('application/version ( contact )'), see https://musicbrainz.org/doc/MusicBrainz_API")
        if forced is not None:
            return self._error(forced, "The MusicBrainz web server is currently busy. Please try again later.")
        wait = self._admit((user_agent or "", address), now)
        if wait is not None:
            return self._error(503, RATE_MESSAGE, {"Retry-After": str(max(1, math.ceil(wait)))})
        if route is None:
            return self._error(404, "Not Found")
        try:
            return route[1](query, *route[2])
        except _Error as exc:
            return self._error(exc.status, exc.message)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> MbResponse:
        self._count(f"musicbrainz_status_{status}")
        return _json(status, {"error": message, "help": _HELP}, headers)

    def _admit(self, client: tuple[str, str], now: float) -> float | None:
        """None when the client may call now (recorded), else the seconds it must still wait."""
        with self._lock:
            last = self._last_admitted.get(client)
            if last is not None and now - last < self.min_interval_s:
                return self.min_interval_s - (now - last)
            self._last_admitted[client] = now
            return None

    def _route(self, method: str, path: str) -> tuple[str, Callable, tuple[str, ...]] | None:
        if method != "GET":
            return None
        path = path.rstrip("/")
        if path == "/ws/2/url":
            return "url", self._url, ()
        if path == "/ws/2/artist":
            return "artist?query", self._search, ()
        if path == "/ws/2/genre/all":
            return "genre/all", self._genres, ()
        m = re.fullmatch(r"/ws/2/artist/([^/]+)", path)
        if m:
            return "artist/{mbid}", self._artist, (m.group(1),)
        return None

    @staticmethod
    def _format(query: dict, allowed: tuple[str, ...] = ("json",)) -> str:
        fmt = query.get("fmt", ["json"])[0]
        if fmt not in allowed:
            raise _Error(400, f"Invalid format: {fmt}")
        return fmt

    @staticmethod
    def _inc(query: dict) -> set[str]:
        return {part for value in query.get("inc", []) for part in re.split(r"[+ ]", value) if part}

    def _url(self, query: dict) -> MbResponse:
        self._format(query)
        resources = query.get("resource", [])
        if not resources:
            raise _Error(400, "Missing required parameter: resource")
        if len(resources) > MAX_RESOURCES:
            raise _Error(400, f"Too many resources: at most {MAX_RESOURCES}")
        with_rels = "artist-rels" in self._inc(query)
        found = []
        for resource in resources:
            sid = resource.rstrip("/").rsplit("/", 1)[-1] if resource.startswith("https://open.spotify.com/artist/") \
                else None
            i = self._index(sid) if sid else None
            if i is not None and self._mbids(i):
                found.append(self._url_object(resource, i, with_rels))
        if len(resources) == 1:
            if not found:
                raise _Error(404, "Not Found")
            return _json(200, found[0])
        return _json(200, {"url-count": len(found), "url-offset": 0, "urls": found})

    def _search(self, query: dict) -> MbResponse:
        self._format(query)
        text = query.get("query", [""])[0]
        if not text.strip():
            raise _Error(400, "Missing required parameter: query")
        limit = _int(query, "limit", 25, 1, MAX_LIMIT)
        offset = _int(query, "offset", 0, 0, 10**9)
        wanted = set(_UUID.findall(text.lower())) if "arid:" in text else set()
        hits = sorted(m for m in wanted if m not in self.unindexed and self._artist_of(m) is not None)
        artists = [self._search_artist(self._artist_of(m), m) for m in hits[offset:offset + limit]]
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return _json(200, {"created": created, "count": len(hits), "offset": offset, "artists": artists})

    def _artist(self, query: dict, mbid: str) -> MbResponse:
        self._format(query)
        if not _UUID.fullmatch(mbid):
            raise _Error(400, f"Invalid mbid: {mbid}")
        i = self._artist_of(mbid)
        if i is None:
            raise _Error(404, "Not Found")
        obj = self._artist_core(i, mbid)
        obj["life-span"] = {"begin": None, "end": None, "ended": False}
        inc = self._inc(query)
        tags = self._tags(i, mbid)
        if "genres" in inc:
            obj["genres"] = sorted(({"name": t["name"], "count": t["count"], "disambiguation": "",
                                     "id": str(uuid.uuid5(_NAMESPACE, f"genre:{t['name']}"))}
                                    for t in tags if t["name"] in _GENRE_SET), key=lambda g: g["name"])
        if "tags" in inc:
            obj["tags"] = sorted(tags, key=lambda t: t["name"])
        return _json(200, obj)

    def _genres(self, query: dict) -> MbResponse:
        if self._format(query, ("json", "txt")) == "txt":
            return MbResponse(200, ("\n".join(GENRES) + "\n").encode(), "text/plain; charset=utf-8")
        limit = _int(query, "limit", 25, 1, MAX_LIMIT)
        offset = _int(query, "offset", 0, 0, 10**9)
        page = [{"id": str(uuid.uuid5(_NAMESPACE, f"genre:{g}")), "name": g, "disambiguation": ""}
                for g in GENRES[offset:offset + limit]]
        return _json(200, {"genre-count": len(GENRES), "genre-offset": offset, "genres": page})


_GENRE_SET = frozenset(GENRES)


def musicbrainz_minimum_calls(service: MusicBrainzService, spotify_ids: list[str],
                              stats_keys: bool = False) -> dict[str, int]:
    """Fewest MusicBrainz calls to get the genres of ``spotify_ids`` from ``service``.

    Keyed by client endpoint (``url``, ``artist?query``, ``genre/all``), or by the ``/_stats``
    keys of those calls with ``stats_keys``.
    """
    ids = list(dict.fromkeys(spotify_ids))
    calls = minimum_calls(len(ids), sum(1 for i in ids if service.mbids(i)))
    return {stats_key(k): v for k, v in calls.items()} if stats_keys else calls
