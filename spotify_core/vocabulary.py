"""Spotify's vocabulary, in one place: id format, audio-feature names, album groups, batch sizes,
and the landing collections named after the API objects.

The crawler, the table schemas and the query layer all use these names, and the sample API
imitates them; nothing here knows about the sample API.
"""

from __future__ import annotations

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 22


def is_base62_id(text: str) -> bool:
    """A Spotify id: 22 base62 characters."""
    return len(text) == ID_LENGTH and all(ch in BASE62 for ch in text)


# Audio-features object fields (the silver/gold/warehouse feature columns carry the same names).
FEATURE_NAMES: tuple[str, ...] = (
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "time_signature",
)
INTEGER_FEATURES = frozenset({"key", "mode", "time_signature"})

# `include_groups` of GET /artists/{id}/albums; an artist's own releases are the first three.
ALBUM_GROUPS: tuple[str, ...] = ("album", "single", "compilation", "appears_on")
OWN_ALBUM_GROUPS: tuple[str, ...] = ALBUM_GROUPS[:3]

# Most ids one batch call accepts (`?ids=`), and the largest page of a paging object.
MAX_IDS = {"artists": 50, "albums": 20, "tracks": 50, "audio-features": 100}
MAX_PAGE = 50
DEVELOPMENT_ALBUM_PAGE = 10  # development-mode apps: GET /artists/{id}/albums refuses limit > 10

# Landing collections, one per API object kind (genres_raw is keyed by artist id).
COLLECTIONS: tuple[str, ...] = (
    "artists_raw",
    "albums_raw",
    "tracks_raw",
    "audio_features_raw",
    "genres_raw",
    # Beyond the five contract collections (exported to bronze the same way):
    "kworb_raw",  # kworb ranking rows per scrape date: _id "<date>:<page>:<artist id>" (docs/refresh.md)
    "unavailable_raw",  # 404 on refresh: _id "<album|artist>:<id>", payload with the detection time
    "listings_raw",  # an artist's album ids at its last crawl: how a refresh sees what vanished
    # ids an enrichment source was asked about and did not know: _id "<source>:<id>" (e.g.
    # "reccobeats:<track id>", "musicbrainz:<artist id>"), payload {"source", "id", "asked_at"};
    # asked again only after ENRICHMENT_RETRY_DAYS
    "lookups_raw",
)

# Where each landed enrichment document came from (silver's features_source / genre_source).
FEATURE_SOURCES: tuple[str, ...] = ("spotify", "reccobeats", "file")
GENRE_SOURCES: tuple[str, ...] = ("spotify", "musicbrainz")
RECCOBEATS_MAX_IDS = 40  # ReccoBeats drops ids past the 40th silently
MUSICBRAINZ_MAX_RESOURCES = 100  # url lookups and arid: searches answer at most 100 at once
