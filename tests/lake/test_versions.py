"""Version folder rules (lake/versions.py) and their Python edge (lake/tables.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lake import versions
from lake.fs import LocalFS
from lake.tables import current_path, list_versions
from lake.versions import Version, current, is_version, new_version, to_prune

T0 = datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=UTC)


def v(seconds: int, token: str = "0000abcd") -> str:
    return new_version(T0 + timedelta(seconds=seconds), token)


def test_names_are_fixed_width_utc_and_sort_by_time() -> None:
    assert new_version(T0, "1a2b3c4d") == "v20261126T010203456789Z-1a2b3c4d"
    later_in_another_zone = (T0 + timedelta(microseconds=1)).astimezone(
        datetime.now().astimezone().tzinfo)
    names = [new_version(T0 + timedelta(days=400)), new_version(later_in_another_zone), new_version(T0)]
    assert sorted(names) == names[::-1]
    assert all(is_version(n) for n in names) and len({len(n) for n in names}) == 1
    assert new_version(T0) != new_version(T0)  # the random id tells same-microsecond writers apart


def test_only_well_formed_names_are_versions() -> None:
    for name in ("_SUCCESS", "part-00000.parquet", "vlatest", "v20261126T010203Z-1a2b3c4d", "v=20261126T010203456789Z-1a2b3c4d", "_temporary",
                 "x" + v(0)):
        assert not is_version(name), name


def test_current_is_the_newest_complete_version() -> None:
    assert current([]) is None
    assert current([Version(v(0), False)]) is None
    assert current([Version(v(0), True), Version(v(10), True), Version(v(20), False)]) == v(10)
    assert current([Version(v(10), True), Version(v(0), True)]) == v(10)  # listing order does not matter
    assert current([Version("part-0.parquet", True)]) is None


def test_pruning_keeps_the_current_and_the_previous_version() -> None:
    found = [Version(v(0), True), Version(v(10), True), Version(v(20), True)]
    assert to_prune(found) == [v(0)]
    assert to_prune(found[1:]) == []
    assert to_prune(found[2:]) == []


def test_pruning_deletes_failed_attempts_older_than_the_current_one_only() -> None:
    found = [Version(v(0), True), Version(v(5), False), Version(v(10), True), Version(v(20), False)]
    # v(5) failed before the current v(10) was written; v(20) may be another writer busy right now
    assert to_prune(found) == [v(5)]
    assert to_prune([Version(v(0), False)]) == []  # nothing complete: nothing is safe to judge


def test_files_of_the_old_unversioned_layout_go_once_two_versions_exist() -> None:
    legacy = ["_SUCCESS", "part-00000.parquet"]
    assert to_prune([Version(v(0), True)], legacy) == []  # still what a reader at the old location sees
    assert to_prune([Version(v(0), True), Version(v(10), True)], legacy) == sorted(legacy)


def test_the_python_edge_resolves_the_current_folder(tmp_path) -> None:
    fs = LocalFS(tmp_path)
    table = "warehouse_layer/t"
    assert current_path(fs, table) is None
    fs.write_file(f"{table}/{v(0)}/part-0.parquet", b"x")
    fs.write_file(f"{table}/{v(0)}/{versions.SUCCESS}", b"")
    fs.write_file(f"{table}/{v(10)}/part-0.parquet", b"half")  # a write in flight: no _SUCCESS yet
    fs.write_file(f"{table}/part-legacy.parquet", b"old")
    assert current_path(fs, table) == f"{table}/{v(0)}"
    found, others = list_versions(fs, table)
    assert sorted(found, key=lambda x: x.name) == [Version(v(0), True), Version(v(10), False)]
    assert others == ["part-legacy.parquet"]
