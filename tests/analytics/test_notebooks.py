"""Every notebook under notebooks/ runs top to bottom on the demo lake (nbclient); any error fails."""

from __future__ import annotations

from pathlib import Path

import duckdb
import nbformat
import pytest
from nbclient import NotebookClient

from tests.lake_tables import parquet

pytestmark = pytest.mark.spark
NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def text_outputs(nb) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")))
    return "\n".join(out)


def test_there_are_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"catalog_eda.ipynb", "recommender.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_the_demo_lake(path: Path, demo_lake, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DATA_DIR", str(demo_lake.data_dir))  # the kernel inherits it: settings as everywhere
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = text_outputs(nb)
    root = demo_lake.lake_uri.removeprefix("file://")
    n = duckdb.sql(f"SELECT count(*) FROM {parquet(root, 'warehouse_layer/warehouse_track_dashboard')}"
                   ).fetchone()[0]
    if path.stem == "catalog_eda":
        assert f"{n:,} tracks" in outputs and "DuckDB over file://" in outputs
    else:
        assert "recall@10 of the precomputed neighbours for this seed:" in outputs
        assert "tracks have a feature vector" in outputs
