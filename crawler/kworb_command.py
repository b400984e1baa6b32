"""`spotify-pipeline kworb`: both kworb rankings (live or saved HTML) -> artists.txt + kworb numbers.

The names go to artists.txt; the numbers beside them land in ``kworb_raw`` for the scrape date
(``--date``, default today in UTC) so the lake keeps them per date (``kworb_rankings``).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import requests

from crawler.artists_file import write_artists_file
from crawler.kworb import PAGES, decode_page, fetch_page, merge_rankings, page_kind, parse_kworb_page
from crawler.kworb_landing import land_kworb_numbers
from crawler.landing import open_store
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings


def _saved_pages(paths: list[Path]) -> dict[str, list[str]]:
    pages: dict[str, list[str]] = {}
    for path in paths:
        try:
            html = decode_page(path.read_bytes())
        except OSError as exc:
            raise PipelineError(f"cannot read {path}: {exc.strerror}") from None
        pages.setdefault(page_kind(html), []).append(html)
    return pages


def _live_pages(base_url: str) -> dict[str, list[str]]:
    with requests.Session() as session:
        return {name: [fetch_page(base_url, name, session)] for name in PAGES}


def scrape_date(text: str | None) -> str:
    if text is None:
        return datetime.now(UTC).date().isoformat()
    try:
        return datetime.strptime(text, "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise PipelineError(f"--date {text!r}: expected YYYY-MM-DD") from None


def run(args: argparse.Namespace, settings: Settings) -> int:
    date = scrape_date(getattr(args, "date", None))
    html = _saved_pages(args.html) if args.html else _live_pages(settings.kworb_base_url)
    pages = {name: [a for h in htmls for a in parse_kworb_page(h, name)] for name, htmls in html.items()}
    ordered = [pages[name] for name in PAGES if name in pages]
    entries = merge_rankings(*ordered, limit=args.limit)
    if not entries:
        raise PipelineError("no artists found; the output file was left as it was")
    written = write_artists_file(args.out, entries)
    rows = ", ".join(f"{name}: {len(pages[name])} rows" for name in PAGES if name in pages)
    print(f"kworb: {rows}; {written} unique artists written to {args.out}")
    if not getattr(args, "no_numbers", False):
        with open_store(settings) as store:
            landed = land_kworb_numbers(store, html, date, f"kworb-{date}")
        print(f"kworb numbers for {date}: {landed.rows} rows landed in kworb_raw"
              + (f", {landed.rejected} rows whose numbers did not parse (quarantined)" if landed.rejected else ""))
    return 0
