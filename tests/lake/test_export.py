from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from crawler.landing.base import LandingDocument
from crawler.landing.sqlite import SQLiteLandingStore
from lake.export import STAGING, export_landing, read_watermarks
from lake.fs import LakeFS, LocalFS, open_lake


def doc(i: str, at: str, **payload) -> LandingDocument:
    return LandingDocument(i, {"id": i, **payload}, at, "run")


def local_copy(fs: LakeFS, folder: str, target: Path) -> Path:
    """Bronze files of one collection folder, copied out of the lake for DuckDB/pyarrow to read."""
    target.mkdir(parents=True, exist_ok=True)
    for name in fs.listdir(folder):
        (target / name).write_bytes(fs.read_bytes(f"{folder}/{name}"))
    return target


@pytest.fixture(params=["local", pytest.param("hdfs", marks=[pytest.mark.system, pytest.mark.stack])])
def env(request, tmp_path: Path):
    """The landing store, the lake filesystem, and ``bronze(collection)`` -> a local folder of its files.

    ``hdfs`` is the stack's real NameNode + DataNode over WebHDFS, one lake root per test.
    """
    store = SQLiteLandingStore(tmp_path / "landing.sqlite")
    if request.param == "local":
        yield store, LocalFS(tmp_path / "lake"), lambda c: tmp_path / "lake" / "bronze_layer" / c
    else:
        stack = request.getfixturevalue("stack")
        root = f"/tests/{request.node.name.split('[')[0]}"
        lake = open_lake(stack.pipeline_settings(lake_uri=stack.pipeline_env["LAKE_URI"] + root))
        lake.delete("")
        copies = iter(range(1000))
        yield store, lake, lambda c: local_copy(lake, f"bronze_layer/{c}", tmp_path / f"copy{next(copies)}" / c)
        lake.delete("")
    store.close()


def bronze_rows(folder: Path) -> list[tuple]:
    return duckdb.sql(f"SELECT _id, fetched_at, payload FROM read_parquet('{folder}/**/*.parquet') "
                      "ORDER BY _id, fetched_at").fetchall()


def test_round_trip_preserves_payload_bytes(env) -> None:
    store, fs, bronze = env
    store.upsert("artists_raw", [doc("a", "2026-01-01T00:00:00.000000Z", name="Beyoncé 🌙", big="x" * 1_000_000)])
    result = export_landing(store, fs)
    assert result.rows["artists_raw"] == 1 and result.rows["tracks_raw"] == 0
    table = pq.read_table(next(bronze("artists_raw").glob("part-*.parquet")))
    assert table.column_names == ["_id", "fetched_at", "run_id", "payload"]
    payload = table.column("payload")[0].as_py()
    assert json.loads(payload)["name"] == "Beyoncé 🌙" and len(payload) > 1_000_000
    assert bronze_rows(bronze("artists_raw"))[0][0] == "a"


def test_incremental_and_idempotent(env) -> None:
    store, fs, bronze = env
    store.upsert("tracks_raw", [doc(f"t{i}", "2026-01-01T00:00:00.000000Z") for i in range(10)])
    assert export_landing(store, fs).rows["tracks_raw"] == 10
    assert export_landing(store, fs).total_rows == 0  # nothing new: nothing written
    store.upsert("tracks_raw", [doc("t3", "2026-01-02T00:00:00.000000Z", v=2), doc("t99", "2026-01-02T00:00:00.000000Z")])
    assert export_landing(store, fs).rows["tracks_raw"] == 2
    assert len(list(bronze("tracks_raw").glob("part-*.parquet"))) == 2
    rows = bronze_rows(bronze("tracks_raw"))
    assert len(rows) == 12 and [r for r in rows if r[0] == "t3"][-1][2] == '{"id":"t3","v":2}'
    assert read_watermarks(fs)["tracks_raw"] == "2026-01-02T00:00:00.000000Z"


def test_full_rebuilds_one_copy(env) -> None:
    store, fs, bronze = env
    store.upsert("tracks_raw", [doc("t1", "2026-01-01T00:00:00.000000Z")])
    export_landing(store, fs)
    store.upsert("tracks_raw", [doc("t1", "2026-01-02T00:00:00.000000Z")])
    export_landing(store, fs)
    assert len(bronze_rows(bronze("tracks_raw"))) == 2
    export_landing(store, fs, full=True)
    assert bronze_rows(bronze("tracks_raw")) == [("t1", "2026-01-02T00:00:00.000000Z", '{"id":"t1"}')]


def test_crash_between_staging_and_rename_loses_nothing(env, monkeypatch) -> None:
    store, fs, bronze = env
    for c in ("artists_raw", "albums_raw", "tracks_raw"):
        store.upsert(c, [doc(f"{c}-{i}", "2026-01-01T00:00:00.000000Z") for i in range(5)])
    real_rename = type(fs).rename
    calls = {"n": 0}

    def flaky(self, src, dst):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk gone")
        return real_rename(self, src, dst)

    monkeypatch.setattr(type(fs), "rename", flaky)
    with pytest.raises(OSError):
        export_landing(store, fs)
    monkeypatch.setattr(type(fs), "rename", real_rename)
    assert read_watermarks(fs) == {}  # the watermark never moved past unexported data
    export_landing(store, fs)
    assert not fs.exists(STAGING)
    for c in ("artists_raw", "albums_raw", "tracks_raw"):
        ids = {r[0] for r in bronze_rows(bronze(c))}
        assert ids == {f"{c}-{i}" for i in range(5)}


def test_large_payloads_split_into_bounded_row_groups_and_files(env, monkeypatch) -> None:
    """Row groups and files are cut by payload size too, so that export memory stays bounded."""
    import lake.export

    monkeypatch.setattr(lake.export, "ROW_GROUP_BYTES", 30_000)
    monkeypatch.setattr(lake.export, "FILE_BYTES", 100_000)
    store, fs, bronze = env
    store.upsert("albums_raw", [doc(f"al{i:03d}", "2026-01-01T00:00:00.000000Z", tracks="t" * 10_000)
                                for i in range(25)])
    result = export_landing(store, fs)
    files = sorted(bronze("albums_raw").glob("part-*.parquet"))
    assert result.rows["albums_raw"] == 25 and result.files["albums_raw"] == len(files) == 3
    metas = [pq.ParquetFile(f).metadata for f in files]
    assert [m.num_rows for m in metas] == [12, 12, 1]  # ~10 kB payloads: 3 per row group, 4 groups per file
    assert [m.row_group(g).num_rows for m in metas for g in range(m.num_row_groups)] == [3] * 8 + [1]
    assert [r[0] for r in bronze_rows(bronze("albums_raw"))] == [f"al{i:03d}" for i in range(25)]


def test_landing_counts_are_written_beside_the_watermark(tmp_path: Path) -> None:
    """The data-quality job reconciles bronze against these counts without touching the landing store."""
    from lake.layout import LANDING_COUNTS

    store, fs = SQLiteLandingStore(tmp_path / "landing.sqlite"), LocalFS(tmp_path / "lake")
    store.upsert("tracks_raw", [doc(f"t{i}", "2026-01-01T00:00:00.000000Z") for i in range(3)])
    export_landing(store, fs)
    assert json.loads(fs.read_bytes(LANDING_COUNTS))["tracks_raw"] == 3
    store.upsert("tracks_raw", [doc("t0", "2026-01-02T00:00:00.000000Z", v=2), doc("t9", "2026-01-02T00:00:00.000000Z")])
    export_landing(store, fs)
    counts = json.loads(fs.read_bytes(LANDING_COUNTS))
    assert counts == store.counts() and counts["tracks_raw"] == 4  # re-fetched t0 counts once
    assert [n for n in fs.listdir("bronze_layer/_state") if not n.endswith(".json")] == []  # no temp files left
