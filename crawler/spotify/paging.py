"""Spotify paging objects, followed in one place.

A paging object carries ``items`` and ``next`` (an absolute URL, or null on the last page).
The paginator yields pages as they arrive, reading state from each response and stopping on a null
``next``: the first page may be requested (``pages``) or already embedded in another object (an
album's ``tracks``: ``rest``). Nothing is fetched until the pages are asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

Get = Callable[..., Any]  # get(path_or_url, params=None) -> parsed JSON


def items(pages: Iterable[dict]) -> list[dict]:
    """Every item of ``pages``, in order."""
    return [item for page in pages for item in page.get("items") or []]


class Paginator:
    def __init__(self, get: Get) -> None:
        self._get = get

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict]:
        """The paging object at ``path``, page by page."""
        return self.rest(self._get(path, params))

    def rest(self, page: dict) -> Iterator[dict]:
        """``page`` and every page after it."""
        yield page
        next_url = page.get("next")
        while next_url:
            page = self._get(next_url)
            yield page
            next_url = page.get("next")
