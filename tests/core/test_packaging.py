"""What ships: the wheel and the Spark code zip carry the product with spotify_core, never the harness."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from spotify_pipeline.tasks import code_zip

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = {"spotify_core", "spotify_pipeline", "crawler", "lake", "spark_jobs", "analytics"}
HARNESS = {"sample_api", "bench", "tests"}


def top_level_packages(names: list[str]) -> set[str]:
    return {name.split("/")[0] for name in names if name.endswith(".py")}


def test_the_wheel_holds_the_product_and_not_the_harness(tmp_path) -> None:
    """Built from a copy of the checkout (the build leaves build/ and *.egg-info behind), harness included."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    for package in PRODUCT | HARNESS:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    # uv (the venv's installer, scripts/bootstrap.sh) builds in ~1 s, pip ~4 s: same backend, same wheel
    proc = subprocess.run([str(Path(sys.executable).parent / "uv"), "build", "--wheel", "-q", "--out-dir",
                           str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [wheel] = (tmp_path / "dist").glob("spotify_data_platform-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert top_level_packages(names) == PRODUCT
    assert "spotify_core/settings.py" in names and "spotify_pipeline/harness.py" in names
    assert not [n for n in names if "sample_api" in n.split("/")]


def test_the_spark_code_zip_holds_the_product_and_not_the_harness(tmp_path) -> None:
    names = zipfile.ZipFile(code_zip(ROOT, tmp_path)).namelist()
    assert top_level_packages(names) == PRODUCT
    assert "spotify_core/settings.py" in names
