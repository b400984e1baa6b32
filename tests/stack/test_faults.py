"""Faults on the running stack, each automated: a service killed while a user works, nothing lost.

Each test kills one service of the session stack with SIGKILL through the supervisor (as the OOM killer
or a crashed host would), checks what the user sees, then brings it back with ``stack up`` and checks
the same work now succeeds. They reuse the session's one stack and one pipeline run.
"""

from __future__ import annotations

import time

import pytest
import requests

from tests.stack.bi import BiClient, JdbcError

pytestmark = pytest.mark.slow

TABLE = '"hive"."warehouse"."warehouse_track_dashboard"'


def _running_queries(port: int, marker: str) -> list[dict]:
    resp = requests.get(f"http://localhost:{port}/v1/query", headers={"X-Trino-User": "faults"}, timeout=10)
    resp.raise_for_status()
    return [q for q in resp.json() if marker in q.get("query", "") and q["state"] in ("PLANNING", "STARTING",
                                                                                        "RUNNING")]


def test_trino_killed_during_a_query_is_one_error_then_the_same_query_answers(stack, bi: BiClient) -> None:
    rows = int(bi.query(f"SELECT count(*) FROM {TABLE}")["rows"][0][0])
    marker = f"fault_probe_{int(time.time())}"
    # Heavy enough to still be running when Trino dies (rows^3 pairs), exact enough to check after.
    sql = (f'SELECT count(*) AS "{marker}" FROM {TABLE} a CROSS JOIN {TABLE} b CROSS JOIN {TABLE} c')
    port = stack.ctx.port("trino")
    client = bi.start_query(sql)
    try:
        deadline = time.monotonic() + 120
        while not _running_queries(port, marker):
            assert client.poll() is None, f"query ended before the kill: {client.communicate()}"
            assert time.monotonic() < deadline, "query never showed up as running"
            time.sleep(0.2)
        stack.supervisor.kill("trino")
        killed = time.monotonic()
        with pytest.raises(JdbcError) as err:
            BiClient.finish(client, timeout=400)
        error_after_s = time.monotonic() - killed
    finally:
        if client.poll() is None:
            client.kill()
    message = str(err.value)
    assert "\n" not in message.strip() and message  # one line a BI tool can show
    print(f"client saw after {error_after_s:.0f} s: {message}")
    started = time.monotonic()
    stack.supervisor.up(["trino"])
    restart_s = time.monotonic() - started
    answer = bi.query(sql)
    assert int(answer["rows"][0][0]) == rows ** 3
    print(f"Trino back in {restart_s:.0f} s; the same query answered {rows}^3")
