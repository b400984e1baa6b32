"""Catalog and SQL on the Compose stack: Spark registers the session's lake (on HDFS) in the stack's metastore, Trino 476
reads every table with the row counts of the Parquet files and the column types of the generated DDL, and
``spotify-pipeline query`` answers through it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import trino
from lake.fs import open_lake
from spark_jobs.ddl import trino_type
from spark_jobs.schemas import LAYERS, TABLES, TableSpec
from spotify_core.settings import environment_for
from spotify_pipeline.cli import main
from spotify_pipeline.stack.metastore import get_all_databases

REPO = Path(__file__).resolve().parents[2]
# The session's stack and its one pipeline run come with the first test that needs them.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]
# Where the pipeline inside the stack finds the metastore (docker-compose.yml's HIVE_METASTORE_URI).
STACK_METASTORE_URI = "thrift://hive-metastore:9083"


def pipeline(stack, *args: str) -> str:
    """One ``spotify-pipeline`` command inside the stack (its own Spark driver), as Airflow's task runs it."""
    proc = stack.pipeline(*args)
    assert proc.returncode == 0, f"{args}: {proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def catalog(stack, stack_lake):
    """The session's lake (built on hdfs:// by the UI-triggered run), registered again from the command line;
    the settings of a script on the host that reads it (WebHDFS, Trino and the metastore's published ports)."""
    settings = stack.pipeline_settings(("LAKE_URI", "WEBHDFS_URL", "HIVE_METASTORE_URI", "TRINO_HOST", "TRINO_PORT"))
    return settings, registered(pipeline(stack, "register"), settings), stack


def registered(out: str, settings) -> dict[str, TableSpec]:
    """The tables ``register`` reports: every table whose folder exists in the lake, and no other."""
    line = next(x for x in out.splitlines() if x.startswith("registered "))
    assert line.startswith("registered ") and f" in {STACK_METASTORE_URI}: " in line
    names = {n.split(".", 1)[1] for n in line.split(": ", 1)[1].split(", ")}
    lake = open_lake(settings)
    assert names == {name for name, spec in TABLES.items() if lake.exists(spec.path)}
    assert {s.name for s in TABLES.values() if s.layer in ("silver", "gold", "warehouse")} <= names
    return {name: TABLES[name] for name in names}


def trino_rows(settings, sql: str) -> list[list]:
    con = trino.dbapi.connect(host="127.0.0.1", port=settings.trino_port, user="tests", catalog="hive")
    try:
        cur = con.cursor()
        cur.execute(sql)
        return cur.fetchall()
    finally:
        con.close()


def parquet_rows(settings, spec) -> int:
    """Rows of a lake table's current version counted from its Parquet footers, read over WebHDFS (not
    through Trino or Spark)."""
    from lake.tables import current_path

    lake = open_lake(settings)
    path = current_path(lake, spec.path) if spec.versioned else spec.path
    assert path, f"no complete version under {spec.path}"
    parts = [n for n in lake.listdir(path) if n.endswith(".parquet")]
    assert parts, f"no parquet files under {path}"
    return sum(pq.ParquetFile(io.BytesIO(lake.read_bytes(f"{path}/{n}"))).metadata.num_rows for n in parts)


def test_registration_is_idempotent_and_lands_in_the_stack_metastore(catalog) -> None:
    settings, tables, stack = catalog
    out = pipeline(stack, "register")
    again = registered(out, settings)
    assert f"catalog: unchanged {len(tables)}\n" in out  # an unchanged lake: no metastore writes
    assert again.keys() == tables.keys()
    port = int(settings.hive_metastore_uri.rsplit(":", 1)[1])   # published on the host
    assert set(LAYERS) <= set(get_all_databases("127.0.0.1", port))  # the healthcheck's thrift call
    for layer in LAYERS:
        seen = {r[0] for r in trino_rows(settings, f"SHOW TABLES FROM hive.{layer}")}
        assert seen == {name for name, spec in tables.items() if spec.layer == layer}, layer


def test_trino_reads_every_table_with_the_parquet_row_counts(catalog) -> None:
    settings, tables, _ = catalog
    counts = {}
    for name, spec in tables.items():
        [[n]] = trino_rows(settings, f"SELECT count(*) FROM hive.{spec.database}.{name}")
        counts[name] = n
        assert n == parquet_rows(settings, spec), name
    assert counts["tracks_data"] == counts["warehouse_track_dashboard"] > 0


def test_trino_column_types_are_the_generated_ddl(catalog) -> None:
    settings, tables, _ = catalog
    for name, spec in tables.items():
        rows = trino_rows(settings, "SELECT column_name, data_type FROM information_schema.columns WHERE "
                                   f"table_schema = '{spec.database}' AND table_name = '{name}' "
                                   "ORDER BY ordinal_position")
        assert [tuple(r) for r in rows] == [(f.name, trino_type(f.dataType)) for f in spec.schema.fields], name


def test_query_command_answers_through_real_trino(catalog, monkeypatch, capsys) -> None:
    from spotify_core.settings import get_settings

    settings, _, _ = catalog
    env = environment_for(settings.replace(trino_user="bi"))
    for key in ("TRINO_HOST", "TRINO_PORT", "TRINO_USER", "TRINO_CATALOG", "DATA_DIR", "LAKE_URI"):
        monkeypatch.setenv(key, env[key])
    sql = ("SELECT track_id, genres, release_year FROM warehouse.warehouse_track_dashboard "
           "WHERE cardinality(genres) > 0 ORDER BY track_id LIMIT 3")
    get_settings.cache_clear()
    try:
        assert main(["query", sql, "--format", "json"]) == 0
        out = capsys.readouterr().out
        assert main(["query", "SELECT nope FROM warehouse.warehouse_track_dashboard"]) == 1
        err = capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    rows = [json.loads(line) for line in out.splitlines()]
    expected = trino_rows(settings, sql)
    assert len(rows) == 3 and [[r["track_id"], r["genres"], r["release_year"]] for r in rows] == expected
    assert all(isinstance(r["genres"], list) and r["genres"] for r in rows)  # arrays come back as arrays
    assert err.startswith("spotify-pipeline query: error: Trino: ") and "nope" in err
    assert err.strip().count("\n") == 0  # one line, no traceback
    users = trino_rows(settings, "SELECT DISTINCT \"user\" FROM system.runtime.queries "
                                "WHERE query LIKE '%cardinality(genres) > 0%'")
    assert ["bi"] in users  # TRINO_USER reached the server
