"""A quick sample MusicBrainz for crawls that are not about its pace.

The sample MusicBrainz admits one request a second per client, as MusicBrainz does, and a development-mode
crawl asks it about every artist (~1 s each). Crawls that are not about that pace speed up service and
client together, with the client 3x slower than the service admits (as test_musicbrainz.py's `quick`);
the pace itself is checked at its real value in tests/crawler/test_musicbrainz.py.
"""

from __future__ import annotations

QUICK_MUSICBRAINZ_SERVICE_S = 0.01
QUICK_MUSICBRAINZ_CLIENT_S = 0.03


def quick_musicbrainz(api) -> dict[str, str]:
    """Speed up the sample API's MusicBrainz; the client's setting to match, as environment variables."""
    api.musicbrainz.min_interval_s = QUICK_MUSICBRAINZ_SERVICE_S
    return {"MUSICBRAINZ_MIN_INTERVAL_S": str(QUICK_MUSICBRAINZ_CLIENT_S)}
