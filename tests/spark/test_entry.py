"""The single spark-submit entry and the step registry: one way in, layer modules that only transform."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from spark_jobs import submit
from spark_jobs.runner import run_spark_step
from spark_jobs.schemas import HISTORY_QUARANTINE, QUARANTINE, TABLES
from spark_jobs.steps import STEPS, layer_order
from spotify_core.errors import PipelineError

ROOT = Path(__file__).resolve().parents[2]


def test_entry_accepts_every_layer_and_refuses_others(capsys) -> None:
    for layer in ("silver", "gold", "warehouse", "quality", "catalog"):
        assert submit.parse_args(["--layer", layer]).layer == layer
    with pytest.raises(SystemExit) as exc:
        submit.parse_args(["--layer", "bronze"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_layer_modules_import_neither_the_runner_nor_the_entry() -> None:
    """No import cycle: layer modules are pure transforms, the runner and the entry import them."""
    for module in ("silver", "gold", "warehouse"):
        tree = ast.parse((ROOT / "spark_jobs" / f"{module}.py").read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not imported & {"spark_jobs.runner", "spark_jobs.submit", "spark_jobs.steps",
                               "spotify_core.settings"}, module
        assert "def main(" not in (ROOT / "spark_jobs" / f"{module}.py").read_text()


def test_every_step_writes_known_tables_and_reads_only_earlier_ones() -> None:
    order = layer_order()
    assert order[:3] == ("silver", "gold", "warehouse")
    written: set[str] = set()
    for step in STEPS:
        for name in step.inputs:
            assert TABLES[name].layer == "bronze" or name in written, f"{step.layer} reads {name} before it is built"
        for name in step.outputs:
            assert name in (QUARANTINE.name, HISTORY_QUARANTINE.name) or name in TABLES, name
        written |= set(step.outputs)
    built = {name for name, spec in TABLES.items() if spec.layer != "bronze"}
    assert built <= written, built - written  # every lake table has a step


def test_shared_session_is_one_per_process_and_refuses_another_data_dir(spark, make_settings, tmp_path,
                                                                           monkeypatch) -> None:
    from spark_jobs import session

    monkeypatch.setattr(session, "_shared", {})
    settings = make_settings()
    first = session.shared_session(settings)
    assert session.shared_session(settings) is first
    with pytest.raises(PipelineError, match="serves DATA_DIR"):
        session.shared_session(settings.replace(data_dir=tmp_path / "elsewhere"))


def test_a_step_in_a_given_session_reports_a_layer_never_built(spark, make_settings) -> None:
    """What the Airflow task turns into a failure without retries (tests/dags/test_dags.py)."""
    with pytest.raises(PipelineError, match="tracks_data has never been written"):
        run_spark_step(spark, make_settings(), "gold")
