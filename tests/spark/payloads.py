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
