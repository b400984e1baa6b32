"""kworb numbers -> landing collection ``kworb_raw``, one document per scrape date, page and artist.

This is how kworb's numbers reach the lake: ``export`` copies ``kworb_raw`` to
``bronze_layer/kworb_raw`` like every landing collection, and the history job builds
``kworb_rankings`` (date, artist id, rank, metric, value) from it. Rows whose numbers did not
parse land with an ``error`` and their raw cells, so the history job quarantines them visibly.
Re-scraping the same date replaces that date's documents (same ``_id``), never duplicates them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crawler.kworb import KworbRanking, KworbReject, parse_kworb_numbers
from crawler.landing.base import LandingDocument, LandingStore, utc_now_iso


@dataclass(frozen=True)
class KworbLanded:
    rows: int
    rejected: int


def kworb_documents(rankings: Iterable[KworbRanking], rejects: Iterable[KworbReject], scrape_date: str
                    ) -> list[tuple[str, dict]]:
    """(_id, payload) pairs; ``scrape_date`` is an ISO date (YYYY-MM-DD)."""
    docs: list[tuple[str, dict]] = []
    for r in rankings:
        docs.append((f"{scrape_date}:{r.page}:{r.artist_id}", {
            "scrape_date": scrape_date, "page": r.page, "artist_id": r.artist_id, "artist_name": r.name,
            "rank": r.rank, "metrics": r.metrics}))
    for r in rejects:
        docs.append((f"{scrape_date}:{r.page}:{r.artist_id}", {
            "scrape_date": scrape_date, "page": r.page, "artist_id": r.artist_id, "artist_name": r.name,
            "rank": r.rank, "error": r.reason, "cells": r.cells}))
    return docs


def land_kworb_numbers(store: LandingStore, pages: dict[str, list[str]], scrape_date: str, run_id: str
                       ) -> KworbLanded:
    """Parse the numbers of each page kind's HTML and upsert them into ``kworb_raw``."""
    rankings: list[KworbRanking] = []
    rejects: list[KworbReject] = []
    for page, htmls in pages.items():
        for html in htmls:
            good, bad = parse_kworb_numbers(html, page)
            rankings.extend(good)
            rejects.extend(bad)
    now = utc_now_iso()
    docs = [LandingDocument(i, p, now, run_id) for i, p in kworb_documents(rankings, rejects, scrape_date)]
    store.upsert("kworb_raw", docs)
    return KworbLanded(len(rankings), len(rejects))
