"""Client-credentials token shared by all threads, refreshed before expiry and after a 401.

The token is a ``requests`` auth object: each request gets the current ``Authorization: Bearer``
header when it is sent, and a 401 drops exactly the token that request carried
(:class:`crawler.http.get.RetryingGet` then sends the call again). spotipy's ``SpotifyClientCredentials`` does the token exchange (with an in-memory cache handler:
its default file cache would put a token on disk and keep a stale one across servers). A lock
makes sure a burst of 401s from many threads triggers one refresh, not one per thread.
"""

from __future__ import annotations

import threading

import requests
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials, SpotifyOauthError

from crawler.http.get import RefreshingAuth
from spotify_core.errors import PipelineError


class ClientCredentialsAuth(RefreshingAuth):
    def __init__(self, client_id: str, client_secret: str, token_url: str, timeout: float) -> None:
        self._cache = MemoryCacheHandler()
        self._auth = SpotifyClientCredentials(
            client_id=client_id, client_secret=client_secret, cache_handler=self._cache,
            requests_timeout=timeout,
        )
        self._auth.OAUTH_TOKEN_URL = token_url
        self._token_url = token_url
        self._lock = threading.Lock()
        self.refreshes = 0

    def token(self) -> str:
        with self._lock:
            try:
                had = self._cache.get_cached_token()
                token = self._auth.get_access_token(as_dict=False, check_cache=True)
            except SpotifyOauthError as exc:
                raise PipelineError(f"token request refused by {self._token_url}: {exc.error}") from None
            except requests.RequestException as exc:
                raise PipelineError(f"token endpoint unreachable ({self._token_url}): {type(exc).__name__}") from None
            if had is None or had.get("access_token") != token:
                self.refreshes += 1
            return token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def expired(self, request: requests.PreparedRequest) -> None:
        """A 401 answered ``request``: its token is no longer valid."""
        self.invalidate(str(request.headers.get("Authorization", "")).removeprefix("Bearer "))

    def invalidate(self, token: str) -> None:
        """Drop ``token`` if it is still the current one (a 401 said it is no longer valid)."""
        with self._lock:
            current = self._cache.get_cached_token()
            if current is not None and current.get("access_token") == token:
                self._cache.save_token_to_cache(None)
