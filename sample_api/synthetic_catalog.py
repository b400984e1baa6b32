"""A deterministic synthetic Spotify catalog, generated lazily so seed scale stays small in memory.

Only compact integer arrays are held (per artist: album range; per album: artist, track range and
a few attributes); every JSON object is built on demand from ``(seed, index)``. Ids are 22-char
base62 strings obtained by an invertible affine map of the index, so an id resolves back to its
index without a lookup table and looks as random as a real Spotify id.

The shapes follow the Spotify Web API reference (artist, simplified artist, album, simplified
album, track, simplified track, audio features). ``mode="development"`` drops the fields Spotify
removed for development-mode apps in 2026: in February artist followers/popularity, album
label/popularity, track popularity (``external_ids`` stays: reverted in March); in live answers from
August on artist ``genres`` and, on albums and tracks, ``available_markets``, ``album_group`` and
``linked_from`` (never served here).

Collaborations: a few percent of the albums credit a second primary artist, drawn from the top of
the kworb ranking, after the owner. Such an album is listed under both artists (as the real API
does), so crawling only the top of the ranking lands albums and tracks whose first credited artist
was not crawled.

``evolve(generation)`` moves the catalog forward in time, deterministically by seed: each
generation adds artists and releases, removes an album and an artist (404 from then on) and
moves followers/popularity, so refresh crawls can be tested against a known change set.
"""

from __future__ import annotations

import hashlib
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from spotify_core.vocabulary import ALBUM_GROUPS, BASE62

_ID_SPACE = 62**22
_ID_MULT = 0x5DEECE66D_1F2E3D4C5B  # odd and not a multiple of 31, so invertible modulo 62**22
_ID_MULT_INV = pow(_ID_MULT, -1, _ID_SPACE)
_KINDS = ("artist", "album", "track")

MARKETS = ["US", "GB", "DE", "FR", "SE", "BR", "JP"]

_GENRES = [
    "pop", "dance pop", "hip hop", "rap", "trap", "r&b", "latin pop", "reggaeton", "k-pop", "rock",
    "indie rock", "alternative rock", "edm", "house", "techno", "country", "afrobeats", "j-pop",
    "singer-songwriter", "soul", "funk", "metal", "punk", "jazz", "classical", "lo-fi", "drill",
    "bossa nova", "chanson", "schlager",
]
_FIRST = [
    "Luna", "Nova", "Echo", "Velvet", "Neon", "Crimson", "Silver", "Golden", "Midnight", "Electric",
    "Björk", "Sigur", "Beyoncé", "Zoë", "Jalen", "Rosalía", "Mötley", "Ana", "Kenji", "Olu", "Ayo",
    "Niño", "Chloé", "Dua", "Søren", "Maëlle", "José", "Ilya", "Aurora", "Kai",
]
_LAST = [
    "Rivers", "Lights", "Hearts", "Wolves", "Avenue", "Dreams", "Parade", "Collective", "Fever",
    "Sound", "Rós", "Crüe", "García", "Nakamura", "Okafor", "Tanaka", "Müller", "Lindqvist", "Ødegaard",
    "Kim", "Smith", "Jones", "Reyes", "Dubois", "Rossi", "Novak", "Silva", "Haddad", "Moreau", "Park",
]
_SPECIAL_NAMES = [
    "Simon & Garfunkel Tribute", "Guns N' Roses Revival", 'The "Quoted" Band', "AC/DC Kids",
    "Moon 🌙 Child", "田中 ひかり", "Мария Иванова", "Earth, Wind & Fire Jr.", "Sinéad O'Connor Songbook",
    "Ty Dolla $ign Jr.", "!!! (Chk Chk Chk) II", "Florence + The Machines",
]
_WORDS = [
    "Love", "Night", "Fire", "Summer", "Heart", "Dance", "Gold", "Rain", "City", "Dream", "Ocean",
    "Money", "Stars", "Ghost", "Paradise", "Corazón", "Été", "Sakura", "Nostalgia", "Highway",
]
_LABELS = ["Sony Music", "Universal Music", "Warner Records", "XL Recordings", "Sub Pop", "Independent"]


def encode_id(kind: str, index: int, seed: int) -> str:
    offset = int.from_bytes(hashlib.sha256(f"{kind}:{seed}".encode()).digest()[:16], "big")
    value = (index * _ID_MULT + offset) % _ID_SPACE
    chars = []
    for _ in range(22):
        value, rem = divmod(value, 62)
        chars.append(BASE62[rem])
    return "".join(reversed(chars))


def decode_id(kind: str, spotify_id: str, seed: int) -> int | None:
    """Index of ``spotify_id`` for ``kind``, or None when it is not one of ours (never raises)."""
    if len(spotify_id) != 22:
        return None
    value = 0
    for ch in spotify_id:
        pos = BASE62.find(ch)
        if pos < 0:
            return None
        value = value * 62 + pos
    offset = int.from_bytes(hashlib.sha256(f"{kind}:{seed}".encode()).digest()[:16], "big")
    return ((value - offset) * _ID_MULT_INV) % _ID_SPACE


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(f"{seed}:" + ":".join(map(str, parts)))


@dataclass(frozen=True)
class CatalogStats:
    artists: int
    albums: int
    tracks: int
    tracks_with_features: int


class Catalog:
    """Compact catalog state plus API-shaped object builders (``base`` = the API base URL)."""

    def __init__(self, n_artists: int, seed: int = 42) -> None:
        if n_artists < 1:
            raise ValueError("a catalog needs at least one artist")
        self.n_artists = n_artists
        self.seed = seed
        self._artist_ids = [encode_id("artist", i, seed) for i in range(n_artists)]
        self._names: list[str] = []
        self._artist_first_album = array("l")
        album_artist = array("l")
        album_ntracks = array("h")
        album_type = array("b")  # index into ("album", "single", "compilation")
        for i in range(n_artists):
            rng = _rng(seed, "artist", i)
            self._names.append(self._make_name(i, rng))
            self._artist_first_album.append(len(album_artist))
            n_albums = 60 if i == 0 else rng.randint(3, 20)
            for a in range(n_albums):
                kind = rng.choices((0, 1, 2), weights=(45, 40, 15))[0]
                if i == min(1, n_artists - 1) and a == 0:
                    kind, ntracks = 2, 60  # one album with more than 50 tracks: forces track paging
                else:
                    ntracks = {0: rng.randint(8, 16), 1: rng.randint(1, 3), 2: rng.randint(12, 20)}[kind]
                album_artist.append(i)
                album_type.append(kind)
                album_ntracks.append(ntracks)
        self._artist_first_album.append(len(album_artist))
        self._album_artist = album_artist
        self._album_type = album_type
        self._album_ntracks = album_ntracks
        self._base_albums = len(album_artist)  # albums from here on were released by evolve()
        self._album_first_track = array("l", [0])
        for n in album_ntracks:
            self._album_first_track.append(self._album_first_track[-1] + n)
        # Featured artists: ~12% of tracks credit a second artist; that artist "appears_on" the album.
        self._featured: dict[int, int] = {}
        self._appears_on: dict[int, list[int]] = {}
        # Evolution state (see evolve()): releases added after generation 0, removals, drifted attributes.
        self.generation = 0
        self._extra_albums: dict[int, list[int]] = {}
        self._removed_albums: set[int] = set()
        self._removed_artists: set[int] = set()
        self._drift: dict[int, tuple[int, int]] = {}
        if n_artists > 1:
            pick = random.Random(f"{seed}:features")
            for album in range(len(album_artist)):
                main = album_artist[album]
                for t in range(self._album_first_track[album], self._album_first_track[album + 1]):
                    if pick.random() < 0.12:
                        other = pick.randrange(n_artists - 1)
                        other = other + 1 if other >= main else other
                        self._featured[t] = other
                        albums = self._appears_on.setdefault(other, [])
                        if not albums or albums[-1] != album:
                            albums.append(album)
        self._partner: dict[int, int] = {}
        self._co_credited: dict[int, list[int]] = {}
        self._credit_collaborations()

    def _credit_collaborations(self) -> None:
        """~4% of the albums get a second primary artist from the top tenth of the ranking.

        A separate random stream, so every other attribute of the catalog stays as it was.
        """
        if self.n_artists < 2:
            return
        ranked = self.ranked_artists()
        top = ranked[:max(2, len(ranked) // 10)]
        pick = random.Random(f"{self.seed}:collaborations")
        for album in range(len(self._album_artist)):
            if pick.random() >= 0.04:
                continue
            partner = pick.choice(top)
            if partner == self._album_artist[album]:
                continue
            self._partner[album] = partner
            self._co_credited.setdefault(partner, []).append(album)

    # ----------------------------------------------------------------- evolution
    def evolve(self, generation: int) -> Catalog:
        """Advance to ``generation`` (never back): the same seed and generation give the same catalog."""
        if generation < self.generation:
            raise ValueError(f"catalog is at generation {self.generation}, cannot go back to {generation}")
        for g in range(self.generation + 1, generation + 1):
            self._evolve_step(g)
        return self

    def _add_album(self, artist: int, rng: random.Random) -> int:
        kind = rng.choices((0, 1, 2), weights=(45, 40, 15))[0]
        a = len(self._album_artist)
        self._album_artist.append(artist)
        self._album_type.append(kind)
        self._album_ntracks.append({0: rng.randint(8, 16), 1: rng.randint(1, 3), 2: rng.randint(12, 20)}[kind])
        self._album_first_track.append(self._album_first_track[-1] + self._album_ntracks[-1])
        self._extra_albums.setdefault(artist, []).append(a)
        return a

    def _evolve_step(self, g: int) -> None:
        rng = _rng(self.seed, "evolve", g)
        base = self.n_artists
        # New artists (kworb picks them up): an empty base album range, releases in _extra_albums.
        for i in range(base, base + max(1, base // 100)):
            self._artist_ids.append(encode_id("artist", i, self.seed))
            self._names.append(self._make_name(i, _rng(self.seed, "artist", i)))
            self._artist_first_album.append(self._artist_first_album[-1])
            self.n_artists += 1
            for _ in range(rng.randint(2, 5)):
                self._add_album(i, rng)
        live = [i for i in range(base) if i not in self._removed_artists]
        # New releases of existing artists.
        for i in rng.sample(live, max(1, len(live) // 20)):
            self._add_album(i, rng)
        # One album taken down (an artist with more than one album keeps a catalog).
        candidates = [a for i in live[2:] for a, _ in self.artist_albums(i, ("album", "single", "compilation"))
                      if len(self.artist_albums(i, ("album", "single", "compilation"))) > 1]
        if candidates:
            self._removed_albums.add(rng.choice(candidates))
        # One artist taken down (never one of the first two, which carry the paging edge cases).
        if len(live) > 4:
            self._removed_artists.add(rng.choice(live[2:]))
        # Followers and popularity move for about a third of the artists.
        for i in rng.sample(live, max(1, len(live) // 3)):
            _genres, followers, popularity = self._artist_attrs(i)
            self._drift[i] = (int(followers * rng.uniform(1.0, 1.25)) + 1,
                              max(0, min(100, popularity + rng.randint(-6, 6))))
        self.generation = g

    def is_removed_album(self, a: int) -> bool:
        return a in self._removed_albums

    def is_removed_artist(self, i: int) -> bool:
        return i in self._removed_artists

    # ----------------------------------------------------------------- names and sizes
    def _make_name(self, i: int, rng: random.Random) -> str:
        if i >= 3 and i % 17 == 3:
            return self._names[i - 3]  # two artists, one name: the crawler must keep both ids
        if i % 13 == 5:
            return _SPECIAL_NAMES[(i // 13) % len(_SPECIAL_NAMES)]
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        return f"{first} {last}" if i < len(_FIRST) * len(_LAST) else f"{first} {last} {i}"

    @property
    def n_albums(self) -> int:
        return len(self._album_artist)

    @property
    def n_tracks(self) -> int:
        return self._album_first_track[-1]

    def has_features(self, track: int) -> bool:
        return _rng(self.seed, "has-features", track).random() >= 0.07

    def stats(self) -> CatalogStats:
        with_features = sum(1 for t in range(self.n_tracks) if self.has_features(t))
        return CatalogStats(self.n_artists, self.n_albums, self.n_tracks, with_features)

    # ----------------------------------------------------------------- ids and lookups
    def artist_id(self, i: int) -> str:
        return self._artist_ids[i]

    def album_id(self, a: int) -> str:
        return encode_id("album", a, self.seed)

    def track_id(self, t: int) -> str:
        return encode_id("track", t, self.seed)

    def artist_index(self, spotify_id: str) -> int | None:
        i = decode_id("artist", spotify_id, self.seed)
        return i if i is not None and i < self.n_artists and i not in self._removed_artists else None

    def album_index(self, spotify_id: str) -> int | None:
        a = decode_id("album", spotify_id, self.seed)
        return a if a is not None and a < self.n_albums and a not in self._removed_albums else None

    def track_index(self, spotify_id: str) -> int | None:
        t = decode_id("track", spotify_id, self.seed)
        return t if t is not None and t < self.n_tracks else None

    def artist_name(self, i: int) -> str:
        return self._names[i]

    def iter_artists(self) -> Iterator[tuple[str, str]]:
        """(id, name) of every artist, in catalog order."""
        for i in range(self.n_artists):
            yield self._artist_ids[i], self._names[i]

    def is_recent_release(self, a: int) -> bool:
        """Released in 2025 or later, or by evolve(): what third-party services know least."""
        return a >= self._base_albums or int(self._album_attrs(a)[1][:4]) >= 2025

    def album_type(self, a: int) -> str:
        return ("album", "single", "compilation")[self._album_type[a]]

    def album_track_count(self, a: int) -> int:
        return self._album_ntracks[a]

    def album_tracks(self, a: int) -> range:
        return range(self._album_first_track[a], self._album_first_track[a + 1])

    def track_album(self, t: int) -> int:
        lo, hi = 0, self.n_albums
        while lo < hi:  # bisect over the prefix sums
            mid = (lo + hi) // 2
            if self._album_first_track[mid + 1] <= t:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def artist_albums(self, i: int, groups: tuple[str, ...] = ALBUM_GROUPS) -> list[tuple[int, str]]:
        """(album index, album_group) of an artist in the order the API lists them."""
        # Releases added by evolve() come first, newest first, as the API lists recent releases first.
        owned = [*reversed(self._extra_albums.get(i, [])),
                 *range(self._artist_first_album[i], self._artist_first_album[i + 1])]
        owned += self._co_credited.get(i, [])  # collaborations credited to i in second place
        out = [(a, self.album_type(a)) for a in owned
               if self.album_type(a) in groups and a not in self._removed_albums]
        if "appears_on" in groups:
            out.extend((a, "appears_on") for a in self._appears_on.get(i, [])
                       if a not in self._removed_albums and i not in self.album_artists(a))
        return out

    def album_artists(self, a: int) -> list[int]:
        """Primary artists of album ``a``: its owner, then a collaborator on a few percent of albums."""
        partner = self._partner.get(a)
        return [self._album_artist[a]] if partner is None else [self._album_artist[a], partner]

    def track_artists(self, t: int) -> list[int]:
        credited = self.album_artists(self.track_album(t))
        featured = self._featured.get(t)
        return credited if featured is None or featured in credited else [*credited, featured]

    def ranked_artists(self) -> list[int]:
        """Artist indices in the order a kworb scrape lists them (artists.html, then listeners.html)."""
        by_streams, by_listeners = self.kworb_rankings()
        seen: dict[str, None] = {}
        for spotify_id, _name in [*by_streams, *by_listeners]:
            seen.setdefault(spotify_id, None)
        return [decode_id("artist", spotify_id, self.seed) for spotify_id in seen]

    def search_artists(self, query: str) -> list[int]:
        """Artists whose name contains the query (case-insensitive), exact matches first."""
        q = query.casefold().strip()
        names = [(i, n) for i, n in enumerate(self._names) if i not in self._removed_artists]
        exact = [i for i, n in names if n.casefold() == q]
        partial = [i for i, n in names if q and q in n.casefold() and n.casefold() != q]
        return exact + partial

    # ----------------------------------------------------------------- object builders
    def _artist_attrs(self, i: int) -> tuple[list[str], int, int]:
        rng = _rng(self.seed, "artist-attrs", i)
        n_genres = 0 if i % 7 == 2 else rng.randint(1, 4)
        genres = sorted(rng.sample(_GENRES, n_genres))
        followers = int(rng.paretovariate(1.2) * 10_000)
        popularity = rng.randint(15, 100)
        if i in self._drift:
            followers, popularity = self._drift[i]
        return genres, followers, popularity

    def simplified_artist(self, i: int, base: str) -> dict:
        aid = self._artist_ids[i]
        return {
            "external_urls": {"spotify": f"https://open.spotify.com/artist/{aid}"},
            "href": f"{base}/artists/{aid}",
            "id": aid,
            "name": self._names[i],
            "type": "artist",
            "uri": f"spotify:artist:{aid}",
        }

    def artist(self, i: int, base: str, mode: str = "extended") -> dict:
        genres, followers, popularity = self._artist_attrs(i)
        aid = self._artist_ids[i]
        obj = self.simplified_artist(i, base)
        if mode == "extended":
            obj["genres"] = genres  # development mode: no `genres` key at all (live answers from 2026-08)
        obj["images"] = [
            {"url": f"https://i.scdn.co/image/{aid}{size}", "height": size, "width": size}
            for size in (640, 320, 160)
        ]
        if mode == "extended":
            obj["followers"] = {"href": None, "total": followers}
            obj["popularity"] = popularity
        return dict(sorted(obj.items()))

    def _album_attrs(self, a: int) -> tuple[str, str, str, str, int]:
        rng = _rng(self.seed, "album-attrs", a)
        year = rng.randint(1965, 2026)
        precision = rng.choices(("day", "month", "year"), weights=(80, 8, 12))[0]
        if precision == "day":
            date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        elif precision == "month":
            date = f"{year}-{rng.randint(1, 12):02d}"
        else:
            date = str(year)
        words = rng.sample(_WORDS, 2)
        name = f"{words[0]} {words[1]}" if self.album_type(a) != "single" else words[0]
        return name, date, precision, rng.choice(_LABELS), rng.randint(0, 100)

    def simplified_album(self, a: int, base: str, mode: str = "extended", group: str | None = None) -> dict:
        name, date, precision, _label, _pop = self._album_attrs(a)
        alb = self.album_id(a)
        obj = {
            "album_type": self.album_type(a),
            "total_tracks": self.album_track_count(a),
            "external_urls": {"spotify": f"https://open.spotify.com/album/{alb}"},
            "href": f"{base}/albums/{alb}",
            "id": alb,
            "images": [{"url": f"https://i.scdn.co/image/{alb}", "height": 640, "width": 640}],
            "name": name,
            "release_date": date,
            "release_date_precision": precision,
            "type": "album",
            "uri": f"spotify:album:{alb}",
            "artists": [self.simplified_artist(i, base) for i in self.album_artists(a)],
        }
        if mode == "extended":
            obj["available_markets"] = MARKETS
            if group is not None:
                obj["album_group"] = group
        return obj

    def album(self, a: int, base: str, mode: str = "extended") -> dict:
        name, _date, _precision, label, popularity = self._album_attrs(a)
        obj = self.simplified_album(a, base, mode)
        obj["tracks"] = self.album_tracks_page(a, base, mode, offset=0, limit=50)
        obj["copyrights"] = [{"text": f"(P) {label}", "type": "P"}]
        obj["external_ids"] = {"upc": f"{(a * 7919 + self.seed) % 10**12:012d}"}
        obj["genres"] = []
        if mode == "extended":
            obj["label"] = label
            obj["popularity"] = popularity
        return obj

    def album_tracks_page(self, a: int, base: str, mode: str, offset: int, limit: int) -> dict:
        tracks = self.album_tracks(a)
        items = [self.simplified_track(t, base, mode) for t in tracks[offset:offset + limit]]
        href = f"{base}/albums/{self.album_id(a)}/tracks"
        return paging(href, items, len(tracks), offset, limit)

    def _track_attrs(self, t: int) -> tuple[str, int, bool, int]:
        rng = _rng(self.seed, "track-attrs", t)
        words = rng.sample(_WORDS, rng.randint(1, 3))
        name = " ".join(words)
        featured = self._featured.get(t)
        if featured is not None and featured not in self.album_artists(self.track_album(t)):
            name += f" (feat. {self._names[featured]})"
        return name, rng.randint(95_000, 420_000), rng.random() < 0.18, rng.randint(0, 100)

    def simplified_track(self, t: int, base: str, mode: str = "extended") -> dict:
        name, duration, explicit, _pop = self._track_attrs(t)
        tid = self.track_id(t)
        a = self.track_album(t)
        obj = {
            "artists": [self.simplified_artist(i, base) for i in self.track_artists(t)],
            "disc_number": 1,
            "duration_ms": duration,
            "explicit": explicit,
            "external_urls": {"spotify": f"https://open.spotify.com/track/{tid}"},
            "href": f"{base}/tracks/{tid}",
            "id": tid,
            "is_local": False,
            "name": name,
            "preview_url": None,
            "track_number": t - self._album_first_track[a] + 1,
            "type": "track",
            "uri": f"spotify:track:{tid}",
        }
        if mode == "extended":
            obj["available_markets"] = MARKETS
        return obj

    def track(self, t: int, base: str, mode: str = "extended") -> dict:
        _name, _duration, _explicit, popularity = self._track_attrs(t)
        obj = self.simplified_track(t, base, mode)
        obj["album"] = self.simplified_album(self.track_album(t), base, mode)
        obj["external_ids"] = {"isrc": f"QZ{self.seed % 100:02d}{t % 10**7:07d}{t // 10**7 % 1000:03d}"}
        if mode == "extended":
            obj["popularity"] = popularity
        return obj

    def audio_features(self, t: int, base: str) -> dict | None:
        if not self.has_features(t):
            return None
        rng = _rng(self.seed, "features", t)
        tid = self.track_id(t)
        return {
            "acousticness": round(rng.random() ** 2, 4),
            "analysis_url": f"{base}/audio-analysis/{tid}",
            "danceability": round(rng.uniform(0.15, 0.98), 3),
            "duration_ms": self._track_attrs(t)[1],
            "energy": round(rng.uniform(0.05, 1.0), 3),
            "id": tid,
            "instrumentalness": round(rng.random() ** 4, 5),
            "key": rng.randint(-1, 11),
            "liveness": round(rng.uniform(0.02, 0.9), 4),
            "loudness": round(rng.uniform(-28.0, -1.5), 3),
            "mode": rng.randint(0, 1),
            "speechiness": round(rng.uniform(0.02, 0.6), 4),
            "tempo": round(rng.uniform(60.0, 200.0), 3),
            "time_signature": rng.choices((3, 4, 5, 7), weights=(8, 88, 3, 1))[0],
            "track_href": f"{base}/tracks/{tid}",
            "type": "audio_features",
            "uri": f"spotify:track:{tid}",
            "valence": round(rng.uniform(0.03, 0.97), 3),
        }

    def kworb_rankings(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(artists.html rows, listeners.html rows): overlapping rankings of (id, name).

        artists.html lists ~90% of the artists by a synthetic all-time stream count;
        listeners.html ~60% by monthly listeners, including some absent from artists.html.
        """
        streams, listeners = [], []
        for i in range(self.n_artists):
            rng = _rng(self.seed, "kworb", i)
            _g, followers, popularity = self._artist_attrs(i)
            row = (self._artist_ids[i], self._names[i])
            if i % 10 != 9:
                streams.append((followers * 97 + popularity * 1_000_003 + rng.randrange(10**6), row))
            if i % 10 >= 4 or i % 17 == 3:
                listeners.append((popularity * 700_001 + rng.randrange(10**7), row))
        streams.sort(key=lambda x: -x[0])
        listeners.sort(key=lambda x: -x[0])
        return [r for _, r in streams], [r for _, r in listeners]


def paging(href: str, items: list, total: int, offset: int, limit: int, extra_query: str = "") -> dict:
    """Spotify's paging object; ``next``/``previous`` are absolute URLs or null."""
    def link(off: int) -> str:
        return f"{href}?offset={off}&limit={limit}{extra_query}"

    return {
        "href": link(offset),
        "items": items,
        "limit": limit,
        "next": link(offset + limit) if offset + limit < total else None,
        "offset": offset,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        "total": total,
    }


def generate_catalog(n_artists: int, seed: int = 42) -> Catalog:
    return Catalog(n_artists, seed)
