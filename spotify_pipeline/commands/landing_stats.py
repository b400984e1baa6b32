"""`spotify-pipeline landing-stats`: the landing zone's counts as JSON."""

from __future__ import annotations

import argparse
import json

from crawler.landing import open_store, stats
from spotify_core.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        counts = stats(store)
    print(json.dumps(counts, indent=2))
    return 0
