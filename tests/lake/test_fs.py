"""One contract for both lake filesystems: LocalFS, and WebHdfsFS against the stack's real NameNode + DataNode."""

from __future__ import annotations

from pathlib import Path

import pytest

from lake.fs import LocalFS, WebHdfsFS, open_lake
from spotify_core.errors import PipelineError
from spotify_core.settings import load_settings


@pytest.fixture(params=["local", pytest.param("hdfs", marks=[pytest.mark.system, pytest.mark.stack])])
def fs(request, tmp_path: Path):
    if request.param == "local":
        yield LocalFS(tmp_path / "lake")
    else:
        stack = request.getfixturevalue("stack")
        lake = WebHdfsFS(stack.pipeline_env["WEBHDFS_URL"], f"/tests/{request.node.name.split('[')[0]}")
        lake.delete("")
        yield lake
        lake.delete("")


def test_write_read_list(fs) -> None:
    assert fs.listdir("bronze_layer") == [] and not fs.exists("bronze_layer/x")
    fs.write_file("bronze_layer/t/b.parquet", b"\x00\x01" * 70_000)
    fs.write_file("bronze_layer/t/a.parquet", b"abc")
    fs.write_file("bronze_layer/t/a.parquet", b"abcd")  # overwrite
    assert fs.listdir("bronze_layer/t") == ["a.parquet", "b.parquet"]
    assert fs.read_bytes("bronze_layer/t/a.parquet") == b"abcd"
    assert fs.read_bytes("bronze_layer/t/b.parquet") == b"\x00\x01" * 70_000


def test_rename_is_a_move_that_never_overwrites(fs) -> None:
    fs.write_file("_staging/run/part-0.parquet", b"new")
    fs.write_file("bronze_layer/t/part-0.parquet", b"old")
    with pytest.raises(FileExistsError):
        fs.rename("_staging/run/part-0.parquet", "bronze_layer/t/part-0.parquet")
    fs.rename("_staging/run/part-0.parquet", "bronze_layer/u/part-0.parquet")  # creates the parent
    assert fs.read_bytes("bronze_layer/u/part-0.parquet") == b"new"
    assert fs.read_bytes("bronze_layer/t/part-0.parquet") == b"old"
    assert fs.listdir("_staging/run") == []


def test_delete_trees_and_missing_paths(fs) -> None:
    fs.makedirs("a/b")
    fs.write_file("a/b/c.bin", b"1")
    fs.delete("a")
    fs.delete("a")  # absent: no error
    assert not fs.exists("a") and fs.listdir("a") == []


def test_open_lake_picks_the_filesystem(tmp_path: Path) -> None:
    assert isinstance(open_lake(load_settings({"DATA_DIR": str(tmp_path)})), LocalFS)
    with pytest.raises(PipelineError, match="needs WEBHDFS_URL"):
        open_lake(load_settings({"LAKE_URI": "hdfs://namenode:8020/lake"}))
    with pytest.raises(PipelineError, match="not supported"):
        open_lake(load_settings({"LAKE_URI": "s3://bucket/lake"}))
