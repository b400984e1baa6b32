"""Spotify paging objects, followed in one place.

A paging object carries ``items`` and ``next`` (an absolute URL, or null on the last page).
The paginator reads state from each response and stops on a null ``next``: the first page may be
requested (``all``) or already embedded in another object (an album's ``tracks``: ``rest``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Get = Callable[..., Any]  # get(path_or_url, params=None) -> parsed JSON


class Paginator:
    def __init__(self, get: Get) -> None:
        self._get = get

    def all(self, path: str, params: dict[str, Any]) -> list[dict]:
        """Every item of the paging object at ``path``."""
        return self.rest(self._get(path, params))

    def rest(self, page: dict) -> list[dict]:
        """The items of ``page`` and of every page after it."""
        items = list(page.get("items") or [])
        next_url = page.get("next")
        while next_url:
            page = self._get(next_url)
            items.extend(page.get("items") or [])
            next_url = page.get("next")
        return items
