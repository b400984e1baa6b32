"""Architecture rules checked on the source: production never imports harness, env is read in one place."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("spotify_pipeline", "crawler", "spark_jobs", "lake", "analytics", "dags")
HARNESS = ("crawler.sample_api", "tests", "bench")
# The sample API is harness; the `demo` command exists to run the pipeline against it.
MAY_IMPORT_HARNESS = {"spotify_pipeline/demo.py"}


def production_files() -> list[Path]:
    files = [p for pkg in PRODUCTION for p in (ROOT / pkg).rglob("*.py")]
    return [p for p in files if "sample_api" not in p.relative_to(ROOT).parts]


def imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return names


def test_production_code_never_imports_harness() -> None:
    files = production_files()
    assert len(files) > 30
    offenders = []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if rel in MAY_IMPORT_HARNESS:
            continue
        for name in imported_modules(ast.parse(path.read_text(), rel)):
            if any(name == h or name.startswith(h + ".") for h in HARNESS):
                offenders.append(f"{rel}: {name}")
    assert offenders == []


def test_only_settings_reads_the_environment() -> None:
    offenders = []
    for path in production_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel == "spotify_pipeline/settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), rel)):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv", "unsetenv") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os":
                offenders.append(f"{rel}:{node.lineno} os.{node.attr}")
    assert offenders == []


DOMAIN = ("crawler", "spark_jobs", "lake", "analytics")
ENTRY_POINTS = {"spark_jobs/submit.py"}  # spark-submit's own command line; its handler is in spotify_pipeline/commands


def test_command_line_code_only_in_the_command_layer() -> None:
    """Domain packages return results; parsing arguments and printing belong to spotify_pipeline/commands."""
    offenders = []
    for path in production_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel.split("/")[0] not in DOMAIN or rel in ENTRY_POINTS:
            continue
        tree = ast.parse(path.read_text(), rel)
        offenders += [f"{rel}: imports argparse" for name in imported_modules(tree) if name == "argparse"]
        offenders += [f"{rel}:{node.lineno} print()" for node in ast.walk(tree) if isinstance(node, ast.Call)
                      and isinstance(node.func, ast.Name) and node.func.id == "print"]
    assert offenders == []
