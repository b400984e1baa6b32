"""The layering, checked on the source: `lint-imports` holds on the repository, and breaks on a wrong import.

The contracts live in pyproject.toml (``[tool.importlinter]``): `layers` (spotify_core at the bottom,
crawler, lake, spark_jobs, analytics above it in that order, the application on top), `harness` (the
product never imports the sample API, bench or tests, but for spotify_pipeline/harness.py) and
`harness-layers`. Imports inside functions count as imports.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spotify_pipeline import harness
from spotify_pipeline.cli import main

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("spotify_core", "crawler", "lake", "spark_jobs", "analytics", "spotify_pipeline")
CHECKED = (*PRODUCT, "sample_api", "bench", "tests")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}  # the tree under test, not the installed one
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_repository_keeps_every_import_contract() -> None:
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 3 kept, 0 broken." in proc.stdout, proc.stdout


def _sources_only(_folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or ("." in n and not n.endswith(".py"))]


def plant(root: Path, rel: str, code: str) -> None:
    path = root / rel
    path.write_text(path.read_text() + "\n\n" + code + "\n")


def test_a_lower_layer_importing_a_higher_one_breaks_the_contracts(tmp_path) -> None:
    """A copy of the packages with two wrong imports, both inside functions (lazy imports count)."""
    for package in CHECKED:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=_sources_only)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    assert lint_imports(tmp_path).returncode == 0  # the copy alone is clean
    plant(tmp_path, "spotify_core/errors.py", "def _planted():\n    from spotify_pipeline import cli\n    return cli")
    plant(tmp_path, "lake/fs.py", "def _planted():\n    import sample_api.server\n    return sample_api.server")

    proc = lint_imports(tmp_path)
    out = proc.stdout
    assert proc.returncode != 0, out
    assert "layers: the application above the pipeline packages above spotify_core BROKEN" in out, out
    assert "spotify_core.errors -> spotify_pipeline.cli" in out, out
    assert "harness: the product never imports the development harness BROKEN" in out, out
    assert "lake.fs -> sample_api.server" in out, out
    assert "Contracts: 0 kept, 3 broken." in out, out  # the sample API now reaches the application too


def test_without_the_harness_sample_api_and_demo_exit_1_in_one_line(monkeypatch, tmp_path, capsys) -> None:
    """A wheel install has the commands but not the harness: one line, exit 1, no traceback."""
    monkeypatch.setattr(harness, "CHECKOUT", tmp_path)  # an installation without sample_api/ beside it
    for argv in (["sample-api", "--port", "0"], ["demo", "--no-airflow"]):
        assert main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"spotify-pipeline {argv[0]}: error: the sample API is part of the development harness, "
                       "which this installation does not have: run it from a source checkout (make install)"]


def product_files() -> list[Path]:
    return [p for pkg in (*PRODUCT, "dags") for p in (ROOT / pkg).rglob("*.py")]


def test_only_settings_reads_the_environment() -> None:
    files = product_files()
    assert len(files) > 30
    offenders = []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if rel == "spotify_core/settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), rel)):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv", "unsetenv") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os":
                offenders.append(f"{rel}:{node.lineno} os.{node.attr}")
    assert offenders == []


def test_the_table_registry_and_the_query_layer_need_no_spark() -> None:
    """spotify_core/tables.py names every lake table for readers that must not start (or install) Spark."""
    code = ("import sys, analytics.query, spotify_core.tables as t; "
            "assert 'pyspark' not in sys.modules, 'pyspark imported'; "
            "print(len(t.TABLES), sorted(analytics.query.LAKE_TABLES) == sorted(t.LAYERS))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["26", "True"]


def test_dag_files_import_only_the_application() -> None:
    """dags/ is no package, so lint-imports cannot see it: its files wire spotify_pipeline (and Airflow) only."""
    project = (*CHECKED, "dags")
    found = {}
    for path in sorted((ROOT / "dags").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            for name in names:
                if name.split(".")[0] in project:
                    found.setdefault(name.split(".")[0], []).append(f"{path.name}: {name}")
    assert set(found) == {"spotify_pipeline"}, found


DOMAIN = ("crawler", "spark_jobs", "lake", "analytics")
# Programs of their own, below the application: spark-submit's entry, and the class archive `make install` runs.
ENTRY_POINTS = {"spark_jobs/submit.py", "spark_jobs/class_archive.py"}


def test_command_line_code_only_in_the_command_layer() -> None:
    """Domain packages return results; parsing arguments and printing belong to spotify_pipeline/commands."""
    offenders = []
    for path in product_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel.split("/")[0] not in DOMAIN or rel in ENTRY_POINTS:
            continue
        tree = ast.parse(path.read_text(), rel)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                offenders += [f"{rel}:{node.lineno} imports argparse" for n in names if n == "argparse"]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                offenders.append(f"{rel}:{node.lineno} print()")
    assert offenders == []
