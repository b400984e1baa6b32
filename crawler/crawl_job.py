"""One crawl of a list of artists into the configured landing store: what the `crawl` command runs."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

from crawler.artists_file import ArtistEntry
from crawler.crawl import CrawlReport
from crawler.factory import build_crawler, crawl_options
from crawler.landing import open_store
from spotify_core.errors import PipelineError
from spotify_core.settings import Settings


def new_run_id() -> str:
    return f"crawl-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def crawl_artists(settings: Settings, entries: Sequence[ArtistEntry], run_id: str | None = None,
                  workers: int | None = None, mode: str = "continue", include_appears_on: bool = False,
                  progress: Callable[[str], None] | None = None) -> tuple[CrawlReport, dict[str, int]]:
    """Crawl ``entries``; (the report, the landing store's counts afterwards). The token is fetched first,
    so wrong credentials or a wrong token endpoint fail at once, in one line."""
    options = crawl_options(settings, run_id or new_run_id(), workers=workers, mode=mode,
                            include_appears_on=include_appears_on)
    with open_store(settings) as store, _landing_lost():
        crawler = build_crawler(settings, store, options, progress=progress)
        crawler.client.tokens.token()
        report = crawler.run(entries)
        counts = store.counts()
    return report, counts


@contextlib.contextmanager
def _landing_lost() -> Iterator[None]:
    """The landing server dying mid-crawl is one line, not a traceback; a rerun resumes (upserts, checkpoints)."""
    from pymongo.errors import ConnectionFailure

    try:
        yield
    except ConnectionFailure as exc:
        raise PipelineError(f"landing store lost mid-crawl ({type(exc).__name__}: {str(exc).split(' (')[0]}); "
                            "start MongoDB again and rerun the crawl: it resumes where it stopped") from None
