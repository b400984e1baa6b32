"""`spotify-pipeline kworb`: both kworb rankings (live or saved HTML) -> artists.txt."""

from __future__ import annotations

import argparse
from pathlib import Path

import requests

from crawler.artists_file import write_artists_file
from crawler.kworb import (
    PAGES,
    KworbArtist,
    decode_page,
    fetch_page,
    merge_rankings,
    page_kind,
    parse_kworb_page,
)
from spotify_pipeline.errors import PipelineError
from spotify_pipeline.settings import Settings


def _saved_pages(paths: list[Path]) -> dict[str, list[KworbArtist]]:
    pages: dict[str, list[KworbArtist]] = {}
    for path in paths:
        try:
            html = decode_page(path.read_bytes())
        except OSError as exc:
            raise PipelineError(f"cannot read {path}: {exc.strerror}") from None
        kind = page_kind(html)
        pages.setdefault(kind, []).extend(parse_kworb_page(html, f"{path.name} ({kind})"))
    return pages


def _live_pages(base_url: str) -> dict[str, list[KworbArtist]]:
    with requests.Session() as session:
        return {name: parse_kworb_page(fetch_page(base_url, name, session), name) for name in PAGES}


def run(args: argparse.Namespace, settings: Settings) -> int:
    pages = _saved_pages(args.html) if args.html else _live_pages(settings.kworb_base_url)
    ordered = [pages[name] for name in PAGES if name in pages]
    entries = merge_rankings(*ordered, limit=args.limit)
    if not entries:
        raise PipelineError("no artists found; the output file was left as it was")
    written = write_artists_file(args.out, entries)
    rows = ", ".join(f"{name}: {len(pages[name])} rows" for name in PAGES if name in pages)
    print(f"kworb: {rows}; {written} unique artists written to {args.out}")
    return 0
