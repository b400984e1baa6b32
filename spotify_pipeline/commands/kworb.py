"""`spotify-pipeline kworb`: both kworb rankings (live or saved HTML) -> artists.txt + kworb numbers."""

from __future__ import annotations

import argparse

from crawler.kworb_scrape import land_numbers, live_pages, saved_pages, scrape_date, write_artists
from spotify_core.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    date = scrape_date(getattr(args, "date", None))
    html = saved_pages(args.html) if args.html else live_pages(settings.kworb_base_url)
    artists = write_artists(html, args.out, args.limit)
    rows = ", ".join(f"{name}: {n} rows" for name, n in artists.rows.items())
    print(f"kworb: {rows}; {artists.written} unique artists written to {args.out}")
    if not getattr(args, "no_numbers", False):
        landed = land_numbers(settings, html, date)
        print(f"kworb numbers for {date}: {landed.rows} rows landed in kworb_raw"
              + (f", {landed.rejected} rows whose numbers did not parse (quarantined)" if landed.rejected else ""))
    return 0
