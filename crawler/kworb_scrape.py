"""Both kworb rankings (live or saved HTML) -> artists.txt + kworb numbers: the `kworb` command's work,
shared with the Airflow task.

The names go to artists.txt; the numbers beside them land in ``kworb_raw`` for the scrape date
(default today in UTC) so the lake keeps them per date (``kworb_rankings``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from crawler.artists_file import write_artists_file
from crawler.kworb import (
    PAGES,
    decode_page,
    fetch_page,
    kworb_http,
    merge_rankings,
    page_kind,
    parse_kworb_page,
)
from crawler.kworb_landing import KworbLanded, land_kworb_numbers
from crawler.landing import open_store
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings


@dataclass(frozen=True)
class KworbArtists:
    rows: dict[str, int]  # artists parsed per page, in PAGES order
    written: int  # unique artists written


def saved_pages(paths: Sequence[Path]) -> dict[str, list[str]]:
    """Saved kworb pages by kind (``artists.html``, ``listeners.html``)."""
    pages: dict[str, list[str]] = {}
    for path in paths:
        try:
            html = decode_page(path.read_bytes())
        except OSError as exc:
            raise PipelineError(f"cannot read {path}: {exc.strerror}") from None
        pages.setdefault(page_kind(html), []).append(html)
    return pages


def live_pages(base_url: str) -> dict[str, list[str]]:
    http = kworb_http()
    try:
        return {name: [fetch_page(base_url, name, http)] for name in PAGES}
    finally:
        http.pool.close()


def scrape_date(text: str | None) -> str:
    if text is None:
        return datetime.now(UTC).date().isoformat()
    try:
        return datetime.strptime(text, "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise PipelineError(f"--date {text!r}: expected YYYY-MM-DD") from None


def write_artists(html: dict[str, list[str]], out: Path, limit: int | None = None) -> KworbArtists:
    """The rankings' artists, merged, to ``out``; nothing found leaves ``out`` as it was (an error)."""
    pages = {name: [a for h in htmls for a in parse_kworb_page(h, name)] for name, htmls in html.items()}
    entries = merge_rankings(*(pages[name] for name in PAGES if name in pages), limit=limit)
    if not entries:
        raise PipelineError("no artists found; the output file was left as it was")
    return KworbArtists({name: len(pages[name]) for name in PAGES if name in pages},
                        write_artists_file(out, entries))


def land_numbers(settings: Settings, html: dict[str, list[str]], date: str) -> KworbLanded:
    """The pages' numbers into ``kworb_raw`` for ``date`` (a rescrape of a date replaces it)."""
    with open_store(settings) as store:
        return land_kworb_numbers(store, html, date, f"kworb-{date}")
