"""One contract suite for every landing store: SQLite, and MongoDB's wire protocol against the real
landing database of the session's Compose stack (MongoDB, or FerretDB where no registry serves it)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from crawler.landing.base import COLLECTIONS, LandingDocument
from crawler.landing.mongo import MongoLandingStore
from crawler.landing.sqlite import SQLiteLandingStore


@pytest.fixture(params=["sqlite", pytest.param("ferretdb", marks=[pytest.mark.system, pytest.mark.stack])])
def store(request, tmp_path: Path):
    db = None
    if request.param == "sqlite":
        s = SQLiteLandingStore(tmp_path / "landing.sqlite")
    else:
        stack = request.getfixturevalue("stack")
        db = f"test_{os.getpid()}_{request.node.name.split('[')[0]}"
        s = MongoLandingStore(stack.pipeline_env["MONGO_URI"], db)
    yield s
    if db:
        s._client.drop_database(db)
    s.close()


def doc(i: str, at: str, **payload) -> LandingDocument:
    return LandingDocument(i, {"id": i, **payload}, at, "run-1")


def test_upsert_is_idempotent_and_latest_wins(store) -> None:
    store.upsert("artists_raw", [doc("a", "2026-01-01T00:00:00.000000Z", v=1), doc("b", "2026-01-01T00:00:00.000000Z")])
    store.upsert("artists_raw", [doc("a", "2026-01-02T00:00:00.000000Z", v=2)])
    assert store.count("artists_raw") == 2
    raw = {d.id: d for d in store.iter_raw("artists_raw")}
    assert raw["a"].payload_json == '{"id":"a","v":2}' and raw["a"].fetched_at.startswith("2026-01-02")
    assert store.counts() == {c: (2 if c == "artists_raw" else 0) for c in COLLECTIONS}


def test_unicode_payload_preserved(store) -> None:
    store.upsert("tracks_raw", [doc("t", "2026-01-01T00:00:00.000000Z", name="Beyoncé 🌙 \"q\"")])
    assert next(store.iter_raw("tracks_raw")).payload_json == '{"id":"t","name":"Beyoncé 🌙 \\"q\\""}'


def test_iter_raw_orders_and_filters_by_watermark(store) -> None:
    docs = [doc(f"x{i:03d}", f"2026-01-0{1 + i % 3}T00:00:00.000000Z") for i in range(30)]
    store.upsert("albums_raw", docs)
    rows = list(store.iter_raw("albums_raw", batch_size=7))
    assert [(r.fetched_at, r.id) for r in rows] == sorted((d.fetched_at, d.id) for d in docs)
    after = list(store.iter_raw("albums_raw", fetched_after="2026-01-02T00:00:00.000000Z", batch_size=4))
    assert {r.id for r in after} == {d.id for d in docs if d.fetched_at > "2026-01-02T00:00:00.000000Z"}


def test_existing_ids_with_freshness(store) -> None:
    store.upsert("tracks_raw", [doc("old", "2026-01-01T00:00:00.000000Z"), doc("new", "2026-03-01T00:00:00.000000Z")])
    assert store.existing_ids("tracks_raw", ["old", "new", "none"]) == {"old", "new"}
    assert store.existing_ids("tracks_raw", ["old", "new"], fetched_after="2026-02-01T00:00:00.000000Z") == {"new"}


def test_checkpoints(store) -> None:
    store.set_checkpoint("a", "failed", "artist not found", "r1")
    store.set_checkpoint("a", "done", None, "r2")
    store.set_checkpoint("name:X", "failed", "no match", "r2")
    cps = store.checkpoints()
    assert cps["a"].status == "done" and cps["a"].reason is None and cps["a"].run_id == "r2"
    assert cps["name:X"].reason == "no match"


def test_unknown_collection_is_a_programming_error(store) -> None:
    with pytest.raises(ValueError):
        store.count("nope_raw")


def test_concurrent_upserts_lose_nothing(store) -> None:
    def worker(n: int) -> None:
        for b in range(10):
            store.upsert("tracks_raw", [doc(f"t{n}-{b}-{i}", "2026-01-01T00:00:00.000000Z") for i in range(20)])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count("tracks_raw") == 8 * 10 * 20


KILL_SCRIPT = """
import sys
from crawler.landing.base import LandingDocument
from crawler.landing.sqlite import SQLiteLandingStore
store = SQLiteLandingStore(sys.argv[1])
i = 0
while True:
    store.upsert("tracks_raw", [LandingDocument(f"t{i}-{j}", {"id": j, "pad": "x" * 500}, "2026-01-01T00:00:00.000000Z", "r")
                                for j in range(200)])
    i += 1
    if i == 3:
        print("ready", flush=True)
"""


def test_sqlite_survives_sigkill_mid_write(tmp_path: Path) -> None:
    path = tmp_path / "landing.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.kill()
    proc.wait()
    store = SQLiteLandingStore(path)
    n = store.count("tracks_raw")
    assert n >= 600 and n % 200 == 0  # whole batches only: each upsert is one transaction
    assert len(list(store.iter_raw("tracks_raw"))) == n
    store.close()


def test_mongo_uri_options_win_over_the_default_server_timeout() -> None:
    """pymongo lets a keyword override the URI: the 5 s default is passed only when MONGO_URI sets none."""
    from crawler.landing.mongo import _default_timeout

    assert _default_timeout("mongodb://u:p@db:27017/?serverSelectionTimeoutMS=500&tls=false") == {}
    assert _default_timeout("mongodb://db1:1,db2:2/?serverselectiontimeoutms=100") == {}
    assert _default_timeout("mongodb://db:27017/") == {"serverSelectionTimeoutMS": 5000}
    assert _default_timeout(None) == {"serverSelectionTimeoutMS": 5000}
