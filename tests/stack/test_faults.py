"""Faults on the running Compose stack, each automated: a service killed while a user works, nothing lost.

Each test kills one service's container with ``docker kill`` (SIGKILL, as the OOM killer or a crashed
host would; Docker counts it as a manual stop, so it stays down), checks what the user sees, then brings
it back with ``docker compose up -d --wait SERVICE`` (healthy when it returns) and checks the same work
now succeeds. They reuse the session's one stack and one pipeline run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests

from tests.stack.bi import BiClient, JdbcError
from tests.stack.conftest import REPO, cli
from tests.stack.tables import metastore_db

# Session setup (stack up + one pipeline run) is charged to the first test: minutes on 2 cores.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

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
    port = stack.port("STACK_TRINO_PORT")
    client = bi.start_query(sql)
    try:
        deadline = time.monotonic() + 120
        while not _running_queries(port, marker):
            assert client.poll() is None, f"query ended before the kill: {client.communicate()}"
            assert time.monotonic() < deadline, "query never showed up as running"
            time.sleep(0.2)
        stack.kill("trino")
        killed = time.monotonic()
        # Restarted at once, as an operator would: the client, still retrying, meets the new coordinator.
        stack.restart("trino")
        restart_s = time.monotonic() - killed
        with pytest.raises(JdbcError) as err:
            BiClient.finish(client, timeout=400)
        error_after_s = time.monotonic() - killed
    finally:
        if client.poll() is None:
            client.kill()
    message = str(err.value)
    assert "\n" not in message.strip() and message  # one line a BI tool can show
    print(f"client saw after {error_after_s:.0f} s: {message}")
    # Healthy means a query gets a node (docker/trino/trino-ready.py): the first query after it answers.
    answer = bi.query(sql)
    assert int(answer["rows"][0][0]) == rows ** 3
    print(f"Trino back in {restart_s:.0f} s; the same query answered {rows}^3")


def _metastore_tables(stack) -> list[tuple[str, str, int]]:
    """(database, table, create_time) of every table the metastore holds, read from its PostgreSQL."""
    con = metastore_db(stack)
    try:
        with con.cursor() as cur:
            cur.execute('SELECT d."NAME", t."TBL_NAME", t."CREATE_TIME" FROM "TBLS" t JOIN "DBS" d USING ("DB_ID")')
            return cur.fetchall()
    finally:
        con.close()


def test_metastore_killed_during_registration_then_retried_registers_each_table_once(stack, stack_lake) -> None:
    import threading

    expected = sorted((db, t) for db, t, _ in _metastore_tables(stack))
    assert len(expected) >= 16
    register = stack.pipeline_popen("register")      # inside the stack, as the Airflow task runs it
    # Registration publishes table by table (one log line each): the kill lands after the first one.
    err_lines: list[str] = []
    first_table = threading.Event()

    def read_stderr() -> None:
        for line in register.stderr:
            err_lines.append(line.rstrip("\n"))
            if "spark_jobs.catalog: " in line:
                first_table.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        assert first_table.wait(300), f"registration never started: {err_lines[-20:]}"
        stack.kill("hive-metastore")                   # mid-way: some tables published, others not yet
        killed_at = time.monotonic()
        stack.restart("hive-metastore")
        back_s = time.monotonic() - killed_at
        register.wait(timeout=600)
        reader.join(60)
    finally:
        if register.poll() is None:
            register.kill()
    first = register.returncode
    print(f"first attempt: exit {first} ({(err_lines or [''])[-1][:300]}); metastore back in {back_s:.0f} s")
    if first != 0:
        # One line, no Java stack trace or Python traceback; the retry is the Airflow task's (retries=2 in
        # DEFAULT_ARGS), done here by hand.
        assert err_lines[-1].startswith("spotify-pipeline register: error: Hive metastore "), err_lines[-5:]
        assert "rerun `spotify-pipeline register`" in err_lines[-1]
        traces = [line for line in err_lines if line.startswith(("\tat ", "Caused by:", "Traceback"))]
        assert traces == [], "\n".join(traces[:10])
        retry = stack.pipeline("register")            # what the Airflow task's retry does
        assert retry.returncode == 0, retry.stderr[-2000:]
    after = sorted((db, t) for db, t, _ in _metastore_tables(stack))
    assert after == expected                            # every table there, each exactly once


def _landing_counts(env: dict[str, str]) -> dict[str, int]:
    proc = cli(env, "landing-stats")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_landing_db_killed_during_a_crawl_then_a_rerun_lands_what_an_uninterrupted_crawl_lands(stack, tmp_path) -> None:
    """A crawl on the host into the stack's landing database (its published port), the database killed mid-way."""
    from sample_api.server import start_sample_api
    from tests.stack.conftest import STACK_ARTISTS, api_env
    # Slow answers (30 % take 0.3 s) keep the crawl running long enough to be interrupted.
    with start_sample_api(n_artists=STACK_ARTISTS, seed=11, slow_rate=0.3, slow_seconds=0.3) as api:
        base = {**os.environ, **api_env(api)}
        artists = tmp_path / "artists.txt"
        reference_env = {**base, "DATA_DIR": str(tmp_path / "ref")}           # embedded SQLite landing
        # kworb without its numbers: the comparison is of what the crawl lands (kworb_raw is not the crawl's)
        kworb = ("kworb", "--out", str(artists), "--limit", str(STACK_ARTISTS), "--no-numbers")
        for step in (kworb, ("crawl", "--artists", str(artists))):
            proc = cli(reference_env, *step)
            assert proc.returncode == 0, proc.stderr[-2000:]
        expected = _landing_counts(reference_env)

        env = {**base, "DATA_DIR": str(tmp_path / "stack"), "MONGO_URI": stack.pipeline_env["MONGO_URI"],
               "MONGO_DB": f"faults_{int(time.time())}"}
        crawl = subprocess.Popen([sys.executable, "-m", "spotify_pipeline.cli", "crawl", "--artists", str(artists)],
                                 env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 300
            while _landing_counts(env).get("tracks_raw", 0) == 0:
                assert crawl.poll() is None, f"crawl ended before any track landed: {crawl.communicate()}"
                assert time.monotonic() < deadline, "no track landed"
                time.sleep(0.2)
            assert crawl.poll() is None, "crawl finished before the kill"
            stack.kill("mongo")
            out, err = crawl.communicate(timeout=600)
        finally:
            if crawl.poll() is None:
                crawl.kill()
        last = (err.strip().splitlines() or [""])[-1]
        print(f"crawl with the landing database killed: exit {crawl.returncode}: {last[:300]}")
        assert crawl.returncode == 1 and "Traceback" not in err, err[-2000:]     # one line, no traceback
        stack.restart("mongo")
        rerun = cli(env, "crawl", "--artists", str(artists))
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert _landing_counts(env) == expected                                  # nothing missing, no duplicate


def _rest(stack):
    from tests.stack.airflow_rest import AirflowRest

    return AirflowRest(stack.url("STACK_AIRFLOW_PORT"), "admin", "admin").login()


def test_whole_stack_down_and_up_keeps_landing_lake_catalog_and_airflow_history(
        stack, stack_api, ui_pipeline_run) -> None:
    """``make stack-down`` then ``make stack``: new containers on the same volumes, nothing lost."""
    from tests.stack.airflow_ui import CRAWL_DAG, SPOTIFY_DAG
    from tests.stack.conftest import pipeline_env
    from tests.stack.tables import table_fingerprints

    env = pipeline_env(stack, stack_api)
    landing = _landing_counts(env)
    runs = {d: [r["dag_run_id"] for r in _rest(stack).runs(d)] for d in (CRAWL_DAG, SPOTIFY_DAG)}
    started = time.monotonic()
    stack.down(volumes=False)
    assert stack.containers() == []                                   # no container left behind
    down_s = time.monotonic() - started
    stack.up(build=False)                                             # the same volumes, healthy again
    up_s = time.monotonic() - started - down_s
    print(f"whole stack: down in {down_s:.0f} s, up again in {up_s:.0f} s")
    assert _landing_counts(env) == landing                                                  # landing
    assert table_fingerprints(stack.port("STACK_TRINO_PORT")) == ui_pipeline_run["tables"]  # lake (HDFS) + catalog
    assert {d: [r["dag_run_id"] for r in _rest(stack).runs(d)] for d in runs} == runs        # Airflow's DB
