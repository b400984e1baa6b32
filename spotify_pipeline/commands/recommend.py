"""`spotify-pipeline recommend`: tracks that sound like a seed track, as a table or one JSON object."""

from __future__ import annotations

import argparse
import json

from analytics.query import format_table
from analytics.recommend import recommend_from_warehouse
from spotify_core.settings import Settings

COLUMNS = ["rank", "track_id", "track_name", "artist_name", "genres", "distance", "genre_overlap"]


def run(args: argparse.Namespace, settings: Settings) -> int:
    rec = recommend_from_warehouse(settings, args.k, track_id=args.track, name=args.name)
    if args.format == "json":
        print(json.dumps({"seed": rec.seed, "neighbours": rec.neighbours}, ensure_ascii=False))
        return 0
    s = rec.seed
    print(f"tracks like {s['track_name']} - {s['artist_name']} ({s['track_id']}; genres: "
          f"{', '.join(s['genres']) or 'none'})")
    print(format_table(COLUMNS, [tuple(n[c] for c in COLUMNS) for n in rec.neighbours]))
    return 0
