"""One connection pool shared by every crawler thread.

``requests.Session`` is not thread-safe (spotipy issue #90), so each thread gets its own session;
all of them mount the same ``HTTPAdapter``, whose urllib3 pool manager is thread-safe. So the
number of open connections follows the number of threads actually calling, not threads x pools.
"""

from __future__ import annotations

import threading

import requests
from requests.adapters import HTTPAdapter


class SharedPool:
    def __init__(self, max_connections: int = 32) -> None:
        self.adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max_connections, max_retries=0)
        self._local = threading.local()

    def session(self) -> requests.Session:
        """This thread's session, on the shared pool."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.mount("http://", self.adapter)
            session.mount("https://", self.adapter)
            self._local.session = session
        return session

    def close(self) -> None:
        self.adapter.close()
