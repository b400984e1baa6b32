"""API payloads in the shapes real responses have taken, for tests that parse what lands.

Pure data, no imports from the product. The shapes are those reported from live responses (ids,
names and values are made up):

- integer fields answered as integral floats (``"duration_ms": 204053.0``, ``"popularity": 85.0``,
  image ``height``/``width``, ``track_number``, ``disc_number``, ``total_tracks``,
  ``followers.total``), as Spotify has served them; an integral float is that integer;
- development-mode objects of late 2026: no artist ``genres``/``followers``/``popularity``, no album
  ``label``/``popularity``, no ``available_markets``/``album_group``/``linked_from``, track
  ``external_ids`` present, track ``popularity`` absent;
- nulls where the reference allows them (``preview_url``, ``followers.href``, image sizes, an
  album in a track list of ``null`` items) and an artist whose ``genres`` is an empty list;
- ReccoBeats' audio-features answer: its own UUID as ``id``, the Spotify id the last segment of
  ``href``, no ``time_signature``/``duration_ms``, unknown tracks absent;
- the body of a spent quota (429 with ``Retry-After`` in hours).

Each constant is a dict as ``json.loads`` returns it; ``json.dumps`` gives the landed payload.
"""

ARTIST_ID = "4tZwfgrHOc3mvqYlEYSvVi"
FEATURED_ID = "0du5cEVh5yTK9QJze8zA0C"
ALBUM_ID = "2noRn2Aes5aoNVsU6iWThc"
TRACK_ID = "0VjIjW4GlUZAMYd2vXMi3b"
TRACK_ID_2 = "7qiZfU4dY1lWllzX7mPBI3"
UNKNOWN_TRACK_ID = "3n3Ppam7vgaVa1iaRUc9Lp"

_IMAGES_FLOAT = [
    {"url": "https://i.scdn.co/image/ab6761610000e5eb0001", "height": 640.0, "width": 640.0},
    {"url": "https://i.scdn.co/image/ab676161000051740001", "height": 320.0, "width": 320.0},
    {"url": "https://i.scdn.co/image/ab6761610000f1780001", "height": 160.0, "width": 160.0},
]

ARTIST_FLOAT_INTEGERS = {
    "external_urls": {"spotify": f"https://open.spotify.com/artist/{ARTIST_ID}"},
    "followers": {"href": None, "total": 52719348.0},
    "genres": [],
    "href": f"https://api.spotify.com/v1/artists/{ARTIST_ID}",
    "id": ARTIST_ID,
    "images": _IMAGES_FLOAT,
    "name": "Daft Punk Tribute",
    "popularity": 85.0,
    "type": "artist",
    "uri": f"spotify:artist:{ARTIST_ID}",
}

# Development mode, late 2026: no genres, followers or popularity; an image without sizes.
ARTIST_DEVELOPMENT_2026 = {
    "external_urls": {"spotify": f"https://open.spotify.com/artist/{FEATURED_ID}"},
    "href": f"https://api.spotify.com/v1/artists/{FEATURED_ID}",
    "id": FEATURED_ID,
    "images": [{"url": "https://i.scdn.co/image/ab6761610000e5eb0002", "height": None, "width": None}],
    "name": "Pharrell Covers",
    "type": "artist",
    "uri": f"spotify:artist:{FEATURED_ID}",
}

_SIMPLE_ARTIST = {
    "external_urls": {"spotify": f"https://open.spotify.com/artist/{ARTIST_ID}"},
    "href": f"https://api.spotify.com/v1/artists/{ARTIST_ID}",
    "id": ARTIST_ID,
    "name": "Daft Punk Tribute",
    "type": "artist",
    "uri": f"spotify:artist:{ARTIST_ID}",
}
_SIMPLE_FEATURED = {**_SIMPLE_ARTIST, "id": FEATURED_ID, "name": "Pharrell Covers",
                    "href": f"https://api.spotify.com/v1/artists/{FEATURED_ID}",
                    "external_urls": {"spotify": f"https://open.spotify.com/artist/{FEATURED_ID}"},
                    "uri": f"spotify:artist:{FEATURED_ID}"}

_SIMPLE_ALBUM_FLOAT = {
    "album_type": "album",
    "artists": [_SIMPLE_ARTIST],
    "available_markets": ["US", "GB", "DE"],
    "external_urls": {"spotify": f"https://open.spotify.com/album/{ALBUM_ID}"},
    "href": f"https://api.spotify.com/v1/albums/{ALBUM_ID}",
    "id": ALBUM_ID,
    "images": [{"url": "https://i.scdn.co/image/ab67616d0000b2730001", "height": 640.0, "width": 640.0}],
    "name": "Random Access Memories (Tribute)",
    "release_date": "2013-05-17",
    "release_date_precision": "day",
    "total_tracks": 13.0,
    "type": "album",
    "uri": f"spotify:album:{ALBUM_ID}",
}

TRACK_FLOAT_INTEGERS = {
    "album": _SIMPLE_ALBUM_FLOAT,
    "artists": [_SIMPLE_ARTIST, _SIMPLE_FEATURED],
    "available_markets": ["US", "GB", "DE"],
    "disc_number": 1.0,
    "duration_ms": 204053.0,
    "explicit": False,
    "external_ids": {"isrc": "USQX91300108"},
    "external_urls": {"spotify": f"https://open.spotify.com/track/{TRACK_ID}"},
    "href": f"https://api.spotify.com/v1/tracks/{TRACK_ID}",
    "id": TRACK_ID,
    "is_local": False,
    "name": "Get Lucky (feat. Pharrell Covers)",
    "popularity": 85.0,
    "preview_url": None,
    "track_number": 8.0,
    "type": "track",
    "uri": f"spotify:track:{TRACK_ID}",
}

# Development mode, late 2026: no popularity, available_markets or linked_from; external_ids back;
# the album lost available_markets (and album_group where it came from a listing).
TRACK_DEVELOPMENT_2026 = {
    "album": {k: v for k, v in _SIMPLE_ALBUM_FLOAT.items() if k != "available_markets"}
    | {"total_tracks": 13, "images": [], "release_date": "2013", "release_date_precision": "year"},
    "artists": [_SIMPLE_FEATURED, _SIMPLE_ARTIST],  # first credited artist: not the album's artist
    "disc_number": 1,
    "duration_ms": 369626,
    "explicit": False,
    "external_ids": {"isrc": "USQX91300109"},
    "external_urls": {"spotify": f"https://open.spotify.com/track/{TRACK_ID_2}"},
    "href": f"https://api.spotify.com/v1/tracks/{TRACK_ID_2}",
    "id": TRACK_ID_2,
    "is_local": False,
    "name": "Lose Yourself to Dance",
    "preview_url": None,
    "track_number": 6,
    "type": "track",
    "uri": f"spotify:track:{TRACK_ID_2}",
}


def _simple_track(track: dict) -> dict:
    return {k: v for k, v in track.items() if k not in ("album", "external_ids", "popularity")}


ALBUM_FLOAT_INTEGERS = {
    **_SIMPLE_ALBUM_FLOAT,
    "copyrights": [{"text": "(P) 2013 Tribute Records", "type": "P"}],
    "external_ids": {"upc": "886443927087"},
    "genres": [],
    "label": "Tribute Records",
    "popularity": 61.0,
    "tracks": {
        "href": f"https://api.spotify.com/v1/albums/{ALBUM_ID}/tracks?offset=0&limit=50",
        "items": [_simple_track(TRACK_FLOAT_INTEGERS)],
        "limit": 50,
        "next": None,
        "offset": 0,
        "previous": None,
        "total": 13,
    },
}

# Development mode, late 2026: no label, popularity or available_markets; year precision; a null
# item in the track list (a track that is no longer available), no copyrights; credited first to
# an artist other than the one whose listing it came from.
ALBUM_DEVELOPMENT_2026 = {
    "album_type": "compilation",
    "artists": [_SIMPLE_FEATURED, _SIMPLE_ARTIST],
    "copyrights": [],
    "external_ids": {"upc": "886443927088"},
    "external_urls": {"spotify": f"https://open.spotify.com/album/{ALBUM_ID}"},
    "href": f"https://api.spotify.com/v1/albums/{ALBUM_ID}",
    "id": ALBUM_ID,
    "images": [],
    "name": "Collaborations",
    "release_date": "2013",
    "release_date_precision": "year",
    "total_tracks": 2,
    "tracks": {
        "href": f"https://api.spotify.com/v1/albums/{ALBUM_ID}/tracks?offset=0&limit=50",
        "items": [_simple_track(TRACK_DEVELOPMENT_2026), None],
        "limit": 50,
        "next": None,
        "offset": 0,
        "previous": None,
        "total": 2,
    },
    "type": "album",
    "uri": f"spotify:album:{ALBUM_ID}",
}

# GET https://api.reccobeats.com/v1/audio-features?ids=TRACK_ID,TRACK_ID_2,UNKNOWN_TRACK_ID:
# the unknown track is absent, the order is ReccoBeats' own, key -1 means no key detected.
RECCOBEATS_AUDIO_FEATURES = {
    "content": [
        {"id": "0b6a3c4e-7f0e-5d8a-9c1b-2e3f4a5b6c7d", "href": f"https://open.spotify.com/track/{TRACK_ID_2}",
         "acousticness": 0.0215, "danceability": 0.829, "energy": 0.594, "instrumentalness": 0.00116,
         "key": -1, "liveness": 0.0735, "loudness": -8.174, "mode": 0, "speechiness": 0.0392,
         "tempo": 100.163, "valence": 0.674},
        {"id": "8212bab8-5911-48a0-b177-24923ef2329a", "href": f"https://open.spotify.com/track/{TRACK_ID}",
         "acousticness": 0.0426, "danceability": 0.794, "energy": 0.811, "instrumentalness": 1.07e-06,
         "key": 6, "liveness": 0.101, "loudness": -8.966, "mode": 0, "speechiness": 0.038,
         "tempo": 116.047, "valence": 0.862},
    ]
}

# HTTP 429, Retry-After: 48925 (about 13.6 hours): every Web API call once the quota is spent.
QUOTA_EXCEEDED_BODY = {"error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}}
QUOTA_EXCEEDED_RETRY_AFTER = "48925"
