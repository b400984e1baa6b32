"""The one retrying GET the crawler's clients share, and the pieces around it (auth object, paginator).

The crawl tests exercise it end to end against the sample API; these pin each rule on its own with a
scripted session, so a broken rule names itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from crawler.http.get import RefreshingAuth, RetryingGet
from crawler.http.retry import RetryPolicy
from crawler.spotify.client import ApiError
from crawler.spotify.paging import Paginator, items
from crawler.spotify.token import ClientCredentialsAuth


def answer(status: int, body: object = None, headers: dict[str, str] | None = None,
           auth: str = "") -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps(body if body is not None else {}).encode()
    resp.headers.update(headers or {})
    resp.request = requests.Request("GET", "http://api.test/x", headers={"Authorization": auth}).prepare()
    return resp


class Script:
    """A pool whose one session answers from a script (responses or exceptions), recording each request."""

    def __init__(self, *steps: requests.Response | Exception) -> None:
        self.steps: Iterator = iter(steps)
        self.sent: list[dict] = []

    def session(self) -> Script:
        return self

    def get(self, url: str, **kwargs) -> requests.Response:
        self.sent.append(kwargs)
        step = next(self.steps)
        if isinstance(step, Exception):
            raise step
        return step


class Limiter:
    def __init__(self) -> None:
        self.acquired = self.released = 0
        self.pauses: list[float] = []

    def acquire(self) -> None:
        self.acquired += 1

    def done(self) -> None:
        self.released += 1

    def pause_for(self, seconds: float) -> None:
        self.pauses.append(seconds)


def http(script: Script, retries: int = 3, **kwargs) -> tuple[RetryingGet, Limiter]:
    limiter = Limiter()
    policy = RetryPolicy(max_retries=retries, base_delay_s=0.001, max_delay_s=0.002)
    return RetryingGet(limiter, policy, 1.0, ApiError, pool=script, **kwargs), limiter


def test_transport_errors_and_5xx_are_retried_and_every_attempt_takes_a_limiter_slot() -> None:
    script = Script(requests.ConnectionError(), answer(502), answer(200, {"ok": 1}))
    get, limiter = http(script)
    assert get.get("http://api.test/x", "x") == {"ok": 1}
    assert limiter.acquired == 3 and get.calls["x"] == 3 and get.events["retry"] == 2
    assert limiter.released == 3  # the failed attempts too: a spaced limiter would otherwise stay held


def test_retries_give_up_with_the_last_reason() -> None:
    get, _ = http(Script(answer(500), answer(500)), retries=1)
    with pytest.raises(ApiError, match="gave up after 2 attempts \\(HTTP 500\\)") as err:
        get.get("http://api.test/x", "x")
    assert err.value.status is None and get.events["gave_up"] == 1


def test_a_429_pauses_everyone_for_the_capped_retry_after_and_is_not_a_failed_attempt() -> None:
    script = Script(*(answer(429, headers={"Retry-After": "7"}) for _ in range(3)), answer(200, {"ok": 1}))
    get, limiter = http(script, retries=1)
    assert get.get("http://api.test/x", "x") == {"ok": 1}
    assert limiter.pauses == [7.0] * 3 and get.events["429"] == 3 and get.events["retry"] == 0


def test_a_429_hook_may_stop_the_call() -> None:
    def spent(resp: requests.Response) -> None:
        raise RuntimeError("quota spent")

    get, limiter = http(Script(answer(429, headers={"Retry-After": "3600"})), on_429=spent)
    with pytest.raises(RuntimeError, match="quota spent"):
        get.get("http://api.test/x", "x")
    assert limiter.pauses == []


def test_slow_down_statuses_pause_everyone_and_count_as_failed_attempts() -> None:
    get, limiter = http(Script(answer(503, headers={"Retry-After": "2"}), answer(503)), retries=1,
                        slow_down=frozenset({429, 503}), give_up_status=True)
    with pytest.raises(ApiError, match="gave up after 2 attempts") as err:
        get.get("http://api.test/x", "x")
    assert err.value.status == 503 and limiter.pauses[0] == 2.0 and get.events["503"] == 2


def test_other_4xx_fail_at_once_with_the_services_message() -> None:
    script = Script(answer(404, {"error": {"status": 404, "message": "non existing id"}}))
    get, _ = http(script)
    with pytest.raises(ApiError, match="non existing id") as err:
        get.get("http://api.test/x", "x")
    assert err.value.status == 404 and len(script.sent) == 1


def test_a_404_is_none_when_missing_is_ok() -> None:
    get, _ = http(Script(answer(404)))
    assert get.get("http://api.test/x", "x", missing_ok=True) is None


def test_invalid_json_on_a_200_is_retried() -> None:
    broken = answer(200)
    broken._content = b'{"trunc'
    get, _ = http(Script(broken, answer(200, {"ok": 1})))
    assert get.get("http://api.test/x", "x") == {"ok": 1}


class Token(RefreshingAuth):
    def __init__(self) -> None:
        self.expired_with: list[str] = []

    def __call__(self, request):
        return request

    def expired(self, request: requests.PreparedRequest) -> None:
        self.expired_with.append(request.headers["Authorization"])


def test_a_401_drops_the_token_the_request_carried_and_retries_twice_at_most() -> None:
    token = Token()
    script = Script(answer(401, auth="Bearer old"), answer(200, {"ok": 1}))
    get, _ = http(script, auth=token)
    assert get.get("http://api.test/x", "x") == {"ok": 1}
    assert token.expired_with == ["Bearer old"] and get.events["token_refresh"] == 1
    assert script.sent[0]["auth"] is token
    get, _ = http(Script(*(answer(401) for _ in range(3))), auth=Token())
    with pytest.raises(ApiError) as err:
        get.get("http://api.test/x", "x")
    assert err.value.status == 401


def test_calls_in_a_row_without_any_answer_make_the_service_unreachable() -> None:
    seen: list[int] = []
    get, _ = http(Script(*(requests.ConnectTimeout() for _ in range(6))), retries=1,
                  on_unreachable=lambda reason, in_a_row: seen.append(in_a_row))
    for _ in range(3):
        with pytest.raises(ApiError, match="ConnectTimeout"):
            get.get("http://api.test/x", "x")
    assert seen == [3]


def test_the_client_credentials_token_is_a_requests_auth_object(monkeypatch) -> None:
    auth = ClientCredentialsAuth("id", "secret", "http://token.test/api/token", 1.0)
    monkeypatch.setattr(auth, "token", lambda: "abc")
    dropped: list[str] = []
    monkeypatch.setattr(auth, "invalidate", dropped.append)
    request = requests.Request("GET", "http://api.test/v1/artists", auth=auth).prepare()
    assert request.headers["Authorization"] == "Bearer abc"
    auth.expired(request)
    assert dropped == ["abc"]


def test_the_paginator_yields_pages_and_fetches_the_next_only_when_asked() -> None:
    pages = {"p2": {"items": [3], "next": "p3"}, "p3": {"items": [4], "next": None}}
    fetched: list[str] = []

    def get(url: str, params=None) -> dict:
        fetched.append(url)
        return pages[url]

    rest = Paginator(get).rest({"items": [1, 2], "next": "p2"})
    assert next(rest) == {"items": [1, 2], "next": "p2"} and fetched == []
    assert items(rest) == [3, 4] and fetched == ["p2", "p3"]
