"""kworb.net Spotify rankings -> artist (name, id) lists.

Parsing is pure and strict about structure: the page must hold a ``table.addpos`` (or a table
whose header names "Artist") with artist links; anything else raises :class:`KworbMarkupError`
naming the page and what is missing, so markup drift never silently yields an empty list.
Fetching decodes bytes as UTF-8 whatever the HTTP header says (kworb names no charset).

:func:`parse_kworb_numbers` reads the numbers beside the names (streams and daily streams on
``artists.html``; monthly listeners, daily trend, peak on ``listeners.html``), finding columns by
their header text. A row whose numbers do not parse, or a page whose number columns are gone,
becomes a :class:`KworbReject` with its reason; the names never depend on the numbers.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from bs4 import BeautifulSoup

from crawler.artists_file import ArtistEntry
from crawler.http.get import RetryingGet
from crawler.http.retry import RetryPolicy
from spotify_core.errors import PipelineError

log = logging.getLogger(__name__)

PAGES = ("artists.html", "listeners.html")
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 "
    "spotify-data-platform/0.1"
)
# /spotify/artist/<id>_songs.html, artist/<id>_songs.html, artist/<id>.html, absolute URLs too.
_ARTIST_HREF = re.compile(r"(?:^|/)artist/([0-9A-Za-z]{22})(?:_songs)?\.html(?:[?#].*)?$")
MAX_RETRY_AFTER_S = 30.0


class KworbMarkupError(PipelineError):
    """The page does not have the structure the parser relies on."""


@dataclass(frozen=True)
class KworbArtist:
    name: str
    spotify_id: str
    page: str
    position: int  # 1-based row position on its page (the rank kworb adds with JavaScript)


def _find_table(soup: BeautifulSoup):
    for table in soup.find_all("table"):
        classes = table.get("class") or []
        if "addpos" in classes:
            return table
    for table in soup.find_all("table"):
        header = table.find("th")
        if header is not None and header.get_text(strip=True).lower() == "artist":
            return table
    return None


def _linked_rows(html: str, page_name: str) -> tuple[list[str], list[tuple[object, KworbArtist]]]:
    """(normalized header texts, [(row, artist)]) of the ranking table; KworbMarkupError on drift."""
    if not html or not html.strip():
        raise KworbMarkupError(f"{page_name}: empty page")
    soup = BeautifulSoup(html, "html.parser")
    table = _find_table(soup)
    if table is None:
        raise KworbMarkupError(f"{page_name}: no ranking table (expected <table class=\"addpos sortable\">)")
    headers = [" ".join(th.get_text().split()).lower() for th in table.find_all("th")]
    rows = [tr for tr in table.find_all("tr") if tr.find("td") is not None]
    if not rows:
        raise KworbMarkupError(f"{page_name}: ranking table has no data rows")
    linked: list[tuple[object, KworbArtist]] = []
    unlinked = 0
    for tr in rows:
        link = None
        for a in tr.find_all("a", href=True):
            m = _ARTIST_HREF.search(a["href"].strip())
            if m:
                link = (a, m.group(1))
                break
        if link is None:
            unlinked += 1
            continue
        name = " ".join(link[0].get_text().split())
        if not name:
            unlinked += 1
            continue
        linked.append((tr, KworbArtist(name, link[1], page_name, len(linked) + 1)))
    if not linked:
        raise KworbMarkupError(f"{page_name}: {len(rows)} rows but no artist links (artist/<id>_songs.html)")
    if unlinked:
        log.warning("%s: %d of %d rows had no artist link and were skipped", page_name, unlinked, len(rows))
    return headers, linked


def parse_kworb_page(html: str, page_name: str) -> list[KworbArtist]:
    """Artists of one kworb page in page order; raises KworbMarkupError on markup drift."""
    return [artist for _, artist in _linked_rows(html, page_name)[1]]


# Header text (lower case) -> metric name, per page. Streams columns of artists.html are in millions.
METRIC_COLUMNS: dict[str, dict[str, str]] = {
    "artists.html": {"streams": "streams_millions", "daily": "daily_streams_millions"},
    "listeners.html": {"listeners": "monthly_listeners", "daily trend": "daily_listeners_trend",
                       "peak": "peak_rank", "pklisteners": "peak_listeners"},
}
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")


@dataclass(frozen=True)
class KworbRanking:
    """One artist's numbers on one page; a metric whose cell is empty is None."""

    page: str
    artist_id: str
    name: str
    rank: int  # 1-based position on the page
    metrics: dict[str, float | None]


@dataclass(frozen=True)
class KworbReject:
    page: str
    artist_id: str
    name: str
    rank: int
    reason: str
    cells: dict[str, str]


def parse_number(text: str) -> float | None:
    """'1,234,567' -> 1234567.0, '+1,002' -> 1002.0, '68.581' -> 68.581, '' / '-' / '—' -> None.

    Anything else raises ValueError: a reformatted column must not turn into wrong numbers.
    """
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if cleaned in ("", "-", "\u2013", "\u2014", "n/a", "N/A"):
        return None
    if not _NUMBER.match(cleaned):
        raise ValueError(f"not a number: {text.strip()!r}")
    return float(cleaned.replace(",", ""))


def parse_kworb_numbers(html: str, page: str) -> tuple[list[KworbRanking], list[KworbReject]]:
    """Numbers of every linked row of ``page`` (one of PAGES); rows that do not parse are rejected.

    Raises KworbMarkupError only where :func:`parse_kworb_page` would (no table, no links).
    """
    headers, linked = _linked_rows(html, page)
    wanted = METRIC_COLUMNS[page]
    columns = {metric: headers.index(header) for header, metric in wanted.items() if header in headers}
    missing = sorted(h for h, m in wanted.items() if m not in columns)
    good: list[KworbRanking] = []
    rejects: list[KworbReject] = []
    for tr, artist in linked:
        tds = tr.find_all("td")
        cells = {metric: tds[i].get_text() if i < len(tds) else "" for metric, i in columns.items()}
        reason = None
        if missing:
            reason = f"no column {', '.join(repr(h) for h in missing)} in the header"
        elif len(tds) != len(headers):
            reason = f"row has {len(tds)} cells, the header {len(headers)}"
        else:
            try:
                metrics = {metric: parse_number(text) for metric, text in cells.items()}
            except ValueError as exc:
                reason = str(exc)
        if reason is not None:
            rejects.append(KworbReject(page, artist.spotify_id, artist.name, artist.position, reason, cells))
            continue
        good.append(KworbRanking(page, artist.spotify_id, artist.name, artist.position, metrics))
    if rejects:
        log.warning("%s: numbers of %d of %d rows did not parse (quarantined): %s", page, len(rejects),
                    len(linked), rejects[0].reason)
    return good, rejects


def merge_rankings(*pages: Iterable[KworbArtist], limit: int | None = None) -> list[ArtistEntry]:
    """Union of the pages, first page's order first, deduplicated by id (names may repeat)."""
    seen: set[str] = set()
    merged: list[ArtistEntry] = []
    for page in pages:
        for artist in page:
            if artist.spotify_id in seen:
                continue
            seen.add(artist.spotify_id)
            merged.append(ArtistEntry(artist.name, artist.spotify_id))
            if limit is not None and len(merged) >= limit:
                return merged
    return merged


def decode_page(body: bytes) -> str:
    """kworb serves UTF-8 without naming a charset; requests would guess ISO-8859-1."""
    return body.decode("utf-8", errors="replace")


class _Unlimited:
    """kworb has no call budget: only a 429's capped ``Retry-After`` pauses the (single) caller."""

    def acquire(self) -> None:
        pass

    def done(self) -> None:
        pass

    def pause_for(self, seconds: float) -> None:
        time.sleep(seconds)


def _error(status: int | None, url: str, message: str) -> PipelineError:
    return PipelineError(f"{url}: HTTP {status}" if status is not None else f"{url}: unreachable, {message}")


def kworb_http(timeout: float = 20.0, retries: int = 4, backoff: float = 1.0) -> RetryingGet:
    """The crawler's retrying GET for kworb pages: 429 (a failed attempt) waits the capped
    ``Retry-After``, 5xx and connection errors back off, other 4xx fail at once."""
    policy = RetryPolicy(max_retries=retries, max_retry_after_s=MAX_RETRY_AFTER_S, base_delay_s=backoff)
    return RetryingGet(_Unlimited(), policy, timeout, _error, slow_down=frozenset({429}))


def fetch_page(base_url: str, page_name: str, http: RetryingGet | None = None) -> str:
    """GET one page (``http``: :func:`kworb_http`, shared by the pages of one scrape); one-line
    PipelineError when it fails."""
    url = f"{base_url.rstrip('/')}/{page_name}"
    return (http or kworb_http()).get(url, url, headers={"User-Agent": USER_AGENT},
                                      parse=lambda resp: decode_page(resp.content))


def page_kind(html: str) -> str:
    """Which kworb page a saved file is: listeners.html has a Listeners column, artists.html Streams."""
    soup = BeautifulSoup(html, "html.parser")
    headers = [th.get_text(strip=True).lower() for th in soup.find_all("th")]
    if "listeners" in headers:
        return "listeners.html"
    if "streams" in headers:
        return "artists.html"
    return "artists.html" if "/spotify/artist/" in html else "listeners.html"
