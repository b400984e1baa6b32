"""The crawler's one retrying GET, shared by the Spotify, MusicBrainz and ReccoBeats clients.

tenacity runs the attempts; what makes an attempt is the crawler's (why not urllib3's ``Retry`` on
the adapter: its retries happen below the limiter and the call counters, and it sleeps out any
``Retry-After`` in the calling thread, uncapped). Each attempt:

1. takes a slot from the service's limiter (every attempt is a call the service counts);
2. sends the request with the client's auth object and headers;
3. classifies the answer (:func:`crawler.http.retry.classify`):

* OK: parsed by the caller's ``parse`` (a ``ValueError``, e.g. invalid JSON, is retriable);
* rate-limited (429, and whatever ``slow_down`` names): every thread pauses for the capped
  ``Retry-After``. By default a 429 is the limiter's business, not a failed attempt (``max_429s``
  bounds a service that never lets us through); statuses in ``slow_down`` count as failed attempts
  and are retried once the pause is over, without a backoff of their own;
* unauthorized (401) with a :class:`RefreshingAuth`: the token is dropped and the call retried
  (twice at most; not a failed attempt);
* retriable (5xx, transport errors, no answer): backoff with jitter, up to ``policy.max_retries``;
* fatal (other 4xx): the client's error, at once.

``UNREACHABLE_AFTER`` calls in a row that gave up without any HTTP answer make the service
unreachable: ``on_unreachable`` decides what every later call does (the clients stop the run).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from requests.auth import AuthBase
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from crawler.http.pool import SharedPool
from crawler.http.retry import TRANSPORT_ERRORS, Outcome, RetryPolicy, classify

log = logging.getLogger(__name__)
UNREACHABLE_AFTER = 3
REFRESHES_PER_CALL = 2


class RefreshingAuth(AuthBase):
    """An auth object whose credential can expire: a 401 drops it and the call is made again."""

    def expired(self, request: requests.PreparedRequest) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class Limiter(Protocol):
    def acquire(self) -> None: ...

    def done(self) -> None: ...  # after each call acquire() let start: its answer is in (or it failed)

    def pause_for(self, seconds: float) -> None: ...


ErrorFactory = Callable[[int | None, str, str], Exception]  # (status, endpoint key, message) -> error


def error_message(resp: requests.Response) -> str:
    """The one-line message of an error answer: the JSON ``error`` (or its ``message``), else the text."""
    try:
        err = resp.json().get("error")
    except (ValueError, AttributeError):
        return " ".join(resp.text.split())[:160]
    if isinstance(err, dict):
        err = err.get("message")
    return " ".join(str(err or "").split())[:160]


def json_body(resp: requests.Response) -> Any:
    return resp.json()


class _Again(Exception):
    """This attempt got no answer worth having; ``failed``: it counts against the retries."""

    def __init__(self, reason: str, failed: bool = True, backoff: bool = True,
                 resp: requests.Response | None = None) -> None:
        super().__init__(reason)
        self.reason, self.failed, self.backoff, self.resp = reason, failed, backoff, resp


@dataclass
class _Call:
    """One GET's own tally, across its attempts."""

    key: str
    failures: int = 0
    refreshes: int = 0


@dataclass
class RetryingGet:
    """GET under one retry policy, one limiter and one pool; counts calls and events for the report."""

    limiter: Limiter
    policy: RetryPolicy
    timeout: float
    error: ErrorFactory
    pool: SharedPool = field(default_factory=SharedPool)
    auth: AuthBase | None = None
    slow_down: frozenset[int] = frozenset()  # pause everyone and count as a failed attempt
    max_429s: int = 10_000
    guard: Callable[[], None] = lambda: None  # raises when the run must stop before calling
    on_429: Callable[[requests.Response], None] = lambda resp: None  # may raise (a spent quota)
    on_fatal: Callable[[requests.Response, Exception], Exception] = lambda resp, exc: exc
    on_unreachable: Callable[[str, int], None] | None = None  # (reason, calls in a row) -> may raise
    give_up_status: bool = False  # a give-up error carries the last HTTP status (else None)
    calls: Counter[str] = field(default_factory=Counter)  # requests sent, by endpoint (retries included)
    answers: Counter[str] = field(default_factory=Counter)  # calls answered, by endpoint
    events: Counter[str] = field(default_factory=Counter)  # 429s, retries, refreshes, give-ups

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._silent_give_ups = 0
        self._retrying = Retrying(retry=retry_if_exception_type(_Again), stop=self._stop, wait=self._wait,
                                  before_sleep=self._log_retry, reraise=True)

    def count(self, counter: Counter[str], key: str) -> None:
        with self._lock:
            counter[key] += 1

    def total_calls(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def get(self, url: str, key: str, params: Any = None, headers: dict[str, str] | None = None,
            parse: Callable[[requests.Response], Any] = json_body, missing_ok: bool = False) -> Any:
        """The parsed answer of ``url`` (None for a 404 when ``missing_ok``); ``key`` names it in the counters."""
        call = _Call(key)
        try:
            return self._retrying(self._attempt, call, url, params, headers, parse, missing_ok)
        except _Again as again:
            raise self._gave_up(call, again) from None

    # -- one attempt -------------------------------------------------------------------------
    def _attempt(self, call: _Call, url: str, params: Any, headers: dict[str, str] | None,
                 parse: Callable[[requests.Response], Any], missing_ok: bool) -> Any:
        self.guard()
        self.limiter.acquire()
        try:
            self.guard()  # another thread may have stopped the run while this one waited
            self.count(self.calls, call.key)
            resp = self.pool.session().get(url, params=params, headers=headers, auth=self.auth,
                                           timeout=self.timeout)
        except TRANSPORT_ERRORS as exc:
            raise self._failed(call, _Again(type(exc).__name__)) from None
        finally:
            self.limiter.done()
        with self._lock:
            self._silent_give_ups = 0
        status = resp.status_code
        outcome = classify(status)
        if outcome is Outcome.OK:
            try:
                body = parse(resp)
            except ValueError:
                raise self._failed(call, _Again("invalid JSON", resp=resp)) from None
            self.count(self.answers, call.key)
            return body
        if status == 404 and missing_ok:
            self.count(self.answers, call.key)
            return None
        if status in self.slow_down:
            self.count(self.events, str(status))
            self.limiter.pause_for(self.policy.rate_limit_wait(resp, default=self.policy.backoff(call.failures + 1)))
            raise self._failed(call, _Again(f"HTTP {status}", backoff=False, resp=resp))
        if outcome is Outcome.RATE_LIMITED:
            self.count(self.events, "429")
            self.on_429(resp)
            self.limiter.pause_for(self.policy.rate_limit_wait(resp))
            if self.events["429"] > self.max_429s:
                raise self.error(429, call.key, "rate limited without end")
            raise _Again("HTTP 429", failed=False, backoff=False, resp=resp)
        if (outcome is Outcome.UNAUTHORIZED and isinstance(self.auth, RefreshingAuth)
                and call.refreshes < REFRESHES_PER_CALL):
            call.refreshes += 1
            self.count(self.events, "token_refresh")
            self.auth.expired(resp.request)
            raise _Again("HTTP 401", failed=False, backoff=False, resp=resp)
        if outcome is Outcome.RETRIABLE:
            raise self._failed(call, _Again(f"HTTP {status}", resp=resp))
        raise self.on_fatal(resp, self.error(status, call.key, error_message(resp)))

    def _failed(self, call: _Call, again: _Again) -> _Again:
        call.failures += 1
        self.count(self.events, "retry")
        return again

    # -- tenacity's questions ----------------------------------------------------------------
    def _again(self, state: RetryCallState) -> _Again | None:
        exc = state.outcome.exception() if state.outcome is not None else None
        return exc if isinstance(exc, _Again) else None

    def _stop(self, state: RetryCallState) -> bool:
        again = self._again(state)
        return again is not None and again.failed and self.policy.gives_up(state.args[0].failures)

    def _wait(self, state: RetryCallState) -> float:
        again = self._again(state)
        return self.policy.backoff(state.args[0].failures) if again is not None and again.backoff else 0.0

    def _log_retry(self, state: RetryCallState) -> None:
        again = self._again(state)
        if again is not None and again.failed:
            log.debug("%s: %s, retry %d in %.2fs", state.args[0].key, again.reason, state.args[0].failures,
                      state.upcoming_sleep)

    def _gave_up(self, call: _Call, again: _Again) -> Exception:
        self.count(self.events, "gave_up")
        if again.resp is None and self.on_unreachable is not None:
            with self._lock:
                self._silent_give_ups += 1
                in_a_row = self._silent_give_ups
            if in_a_row >= UNREACHABLE_AFTER:
                self.on_unreachable(again.reason, in_a_row)
        status = again.resp.status_code if self.give_up_status and again.resp is not None else None
        return self.error(status, call.key, f"gave up after {call.failures} attempts ({again.reason})")
