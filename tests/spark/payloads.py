"""Hand-written API payloads (real Spotify shapes, trimmed) for the Spark tests."""

from __future__ import annotations

import json

A1, A2, A3 = "1" * 22, "2" * 22, "3" * 22
AL1, AL2 = "a" * 22, "b" * 22
T1, T2, T3, T4 = "t" * 21 + "1", "t" * 21 + "2", "t" * 21 + "3", "t" * 21 + "4"


def artist(i: str, name: str, genres: list[str], followers: int | None = 10, popularity: int | None = 50) -> str:
    obj = {"id": i, "name": name, "genres": genres, "type": "artist", "uri": f"spotify:artist:{i}",
           "images": [{"url": f"https://img/{i}", "height": 640, "width": 640}]}
    if followers is not None:
        obj["followers"] = {"href": None, "total": followers}
    if popularity is not None:
        obj["popularity"] = popularity
    return json.dumps(obj)


def simple_artist(i: str, name: str) -> dict:
    return {"id": i, "name": name, "type": "artist"}


def simple_track(i: str, name: str, artists: list[dict], number: int) -> dict:
    return {"id": i, "name": name, "artists": artists, "disc_number": 1, "track_number": number,
            "duration_ms": 180_000 + number, "explicit": number % 2 == 0, "is_local": False, "type": "track"}


def album(i: str, name: str, date: str, precision: str, tracks: list[dict], label: str | None = "Label") -> str:
    obj = {"id": i, "name": name, "album_type": "album", "total_tracks": len(tracks), "release_date": date,
           "release_date_precision": precision, "artists": [simple_artist(A1, "Alpha")], "images": [],
           "external_ids": {"upc": "123"}, "tracks": {"total": len(tracks), "items": tracks, "next": None}}
    if label is not None:
        obj["label"] = label
        obj["popularity"] = 40
    return json.dumps(obj)


def full_track(i: str, name: str, album_id: str, artists: list[dict], number: int, isrc: str,
               popularity: int = 70) -> str:
    obj = simple_track(i, name, artists, number)
    obj.update({"album": {"id": album_id, "name": "x"}, "external_ids": {"isrc": isrc}, "popularity": popularity})
    return json.dumps(obj)


def features(i: str, danceability: float, energy: float = 0.5, key: int = 5) -> str:
    return json.dumps({"id": i, "danceability": danceability, "energy": energy, "key": key, "loudness": -6.0,
                       "mode": 1, "speechiness": 0.05, "acousticness": 0.1, "instrumentalness": 0.0,
                       "liveness": 0.1, "valence": 0.4, "tempo": 120.0, "time_signature": 4,
                       "duration_ms": 180_000, "type": "audio_features"})


# ---- Recorded shapes (trimmed): integers answered as floats, the enrichment sources' objects, a
# development-mode artist with only the minimal fields. Until tests/payload_samples.py lands.

def float_typed_track(i: str, album_id: str, artists: list[dict]) -> str:
    """A full track as Spotify has answered it: every integer field an integral float."""
    return json.dumps({
        "album": {"album_type": "single", "id": album_id, "name": "Floats", "total_tracks": 1.0,
                  "images": [{"url": "https://i.scdn.co/image/x", "height": 640.0, "width": 640.0}]},
        "artists": artists, "disc_number": 1.0, "duration_ms": 204053.0, "explicit": False,
        "external_ids": {"isrc": "USUM72000001"}, "id": i, "is_local": False, "name": "Float Track",
        "popularity": 85.0, "track_number": 1.0, "type": "track", "uri": f"spotify:track:{i}"})


def float_typed_artist(i: str, name: str) -> str:
    return json.dumps({"id": i, "name": name, "genres": [], "followers": {"href": None, "total": 1234567.0},
                       "popularity": 85.0, "images": [{"url": "https://i.scdn.co/image/a", "height": 640.0,
                                                       "width": 640.0}], "type": "artist",
                       "uri": f"spotify:artist:{i}"})


def minimal_artist(i: str, name: str) -> str:
    """A development-mode artist object: no genres, followers, popularity or images."""
    return json.dumps({"external_urls": {"spotify": f"https://open.spotify.com/artist/{i}"},
                       "href": f"https://api.spotify.com/v1/artists/{i}", "id": i, "name": name, "type": "artist",
                       "uri": f"spotify:artist:{i}"})


def reccobeats_features(spotify_id: str, danceability: float) -> str:
    """ReccoBeats' audio-features object: its own UUID as id, the Spotify track URL as href, no
    time_signature or duration_ms, key -1 = no key detected."""
    return json.dumps({"id": "0b1d6a3c-7a2e-4d3e-9a55-0d6f6e2f3a10", "href": f"https://open.spotify.com/track/{spotify_id}",
                       "acousticness": 0.2, "danceability": danceability, "energy": 0.7, "instrumentalness": 0.0,
                       "key": -1, "liveness": 0.1, "loudness": -5.5, "mode": 0, "speechiness": 0.04,
                       "tempo": 118.0, "valence": 0.6})


def file_features(spotify_id: str, danceability: float) -> str:
    return json.dumps({"source": "file", "id": spotify_id, "danceability": danceability, "energy": 0.3, "key": 2,
                       "loudness": -9.0, "mode": 1, "speechiness": 0.05, "acousticness": 0.5,
                       "instrumentalness": 0.1, "liveness": 0.2, "valence": 0.3, "tempo": 90.0,
                       "time_signature": 3})


def musicbrainz_genres(artist_id: str, genres: list[str]) -> str:
    mbid = "5b11f4ce-a62d-471e-81fc-a69a8278c7da"
    return json.dumps({"artist_id": artist_id, "source": "musicbrainz", "mbid": mbid, "genres": genres,
                       "artist": {"id": mbid, "name": "Someone", "genres": [{"name": g, "count": 3} for g in genres]}})
