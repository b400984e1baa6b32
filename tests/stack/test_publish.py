"""A BI reader during a warehouse rebuild on the real stack: it sees the old table or the new one, never a gap.

While ``transform --layer warehouse`` writes new version folders into HDFS and ``register`` switches the
metastore's location, a Trino client polls ``count(*)`` on ``warehouse.warehouse_track_dashboard``
without pause. Before versioned publishing (lake/versions.py) the rebuild deleted the table's folder
first and registration dropped and re-created the table: such a reader saw 0 rows or "table not found".
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.stack.tables import metastore_db

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

TABLE = "warehouse_track_dashboard"


def _location(stack, database: str, table: str) -> str:
    """The table's location as the metastore holds it, read from its PostgreSQL."""
    con = metastore_db(stack)
    try:
        with con.cursor() as cur:
            cur.execute('SELECT s."LOCATION" FROM "TBLS" t JOIN "DBS" d USING ("DB_ID") JOIN "SDS" s USING ("SD_ID") '
                        'WHERE d."NAME" = %s AND t."TBL_NAME" = %s', (database, table))
            rows = cur.fetchall()
    finally:
        con.close()
    assert len(rows) == 1, rows
    return rows[0][0]


def _current_version(stack, relative: str) -> str:
    from lake.fs import WebHdfsFS
    from lake.tables import current_path

    found = current_path(WebHdfsFS(stack.pipeline_env["WEBHDFS_URL"], "/"), relative)
    assert found is not None, f"no complete version under /{relative}"
    return found


def test_a_trino_reader_during_a_warehouse_rebuild_sees_the_old_or_the_new_table(stack, stack_lake) -> None:
    import trino

    con = trino.dbapi.connect(host="localhost", port=stack.port("STACK_TRINO_PORT"), user="publish-reader",
                              catalog="hive", schema="warehouse", http_scheme="http")
    cur = con.cursor()

    def count() -> int:
        cur.execute(f"SELECT count(*) FROM {TABLE}")
        return int(cur.fetchall()[0][0])

    old_rows, old_location = count(), _location(stack, "warehouse", TABLE)
    assert old_rows > 0
    steps: list = []

    def rebuild() -> None:
        for step in (("transform", "--layer", "warehouse"), ("register",)):
            steps.append(stack.pipeline(*step))   # inside the stack, as Airflow's tasks run them
            if steps[-1].returncode != 0:
                return

    writer = threading.Thread(target=rebuild)
    seen: list[int | str] = []
    started = time.monotonic()
    writer.start()
    while writer.is_alive():
        try:
            seen.append(count())
        except Exception as exc:  # noqa: BLE001 - every error a BI user would see is recorded, then asserted on
            seen.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    writer.join()
    rebuild_s = time.monotonic() - started
    for proc in steps:
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert "catalog: " in steps[-1].stdout and "switched" in steps[-1].stdout, steps[-1].stdout
    new_rows, new_location = count(), _location(stack, "warehouse", TABLE)

    errors = [s for s in seen if isinstance(s, str)]
    assert errors == [], errors[:5]
    assert set(seen) <= {old_rows, new_rows}, sorted(set(seen))  # never 0, never a partial count
    assert len(seen) >= 10, f"only {len(seen)} reads during a {rebuild_s:.0f} s rebuild"
    # The switch happened while the reader was reading, and points at the newest complete version.
    current = _current_version(stack, f"warehouse_layer/{TABLE}")
    assert new_location != old_location
    assert new_location.rstrip("/").endswith(current), (new_location, current)
    print(f"{len(seen)} Trino reads during the {rebuild_s:.0f} s rebuild, all {old_rows}/{new_rows} rows; "
          f"location switched {old_location} -> {new_location}")
