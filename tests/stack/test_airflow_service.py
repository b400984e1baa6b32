"""The Airflow services of the Compose stack: their login, their shared settings, their healthchecks."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
AIRFLOW = sorted(n for n in SERVICES if n.startswith("airflow-"))
LOGIN_SCRIPT = ROOT / "docker" / "platform" / "with-admin-login.sh"


def _write_login(tmp_path: Path, **env: str) -> Path:
    path = tmp_path / "passwords.json"
    subprocess.run(["bash", str(LOGIN_SCRIPT), "true"], check=True, timeout=60,
                   env={"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
                        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(path), **env})
    return path


def test_the_login_is_written_from_the_settings_private_and_follows_them(tmp_path) -> None:
    path = _write_login(tmp_path, AIRFLOW_ADMIN_USER="ops", AIRFLOW_ADMIN_PASSWORD="s3cret")
    assert json.loads(path.read_text()) == {"ops": "s3cret"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    _write_login(tmp_path, AIRFLOW_ADMIN_USER="ops", AIRFLOW_ADMIN_PASSWORD="rotated")
    assert json.loads(path.read_text()) == {"ops": "rotated"}
    assert json.loads(_write_login(tmp_path).read_text()) == {"admin": "admin"}   # documented defaults


def test_every_airflow_service_shares_one_database_executor_secret_and_dags_folder() -> None:
    assert AIRFLOW == ["airflow-apiserver", "airflow-dag-processor", "airflow-init", "airflow-scheduler",
                       "airflow-triggerer"]
    envs = [SERVICES[n]["environment"] for n in AIRFLOW]
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CORE__EXECUTOR", "AIRFLOW__API_AUTH__JWT_SECRET",
                "AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL"):
        assert len({env[key] for env in envs}) == 1, key
    env = envs[0]
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    for name in AIRFLOW:
        assert f"./dags:{env['AIRFLOW__CORE__DAGS_FOLDER']}:ro" in SERVICES[name]["volumes"], name


@pytest.mark.slow
@pytest.mark.parametrize("component", ["scheduler", "dag_processor", "triggerer"])
def test_each_components_healthcheck_reads_its_own_heartbeat(stack, component: str) -> None:
    """The healthcheck the compose file runs, run by hand: 0 for a live component, 1 for one with no heartbeat."""
    def check(name: str) -> int:
        return stack.compose("exec", "-T", "airflow-apiserver", "airflow-component-healthy", name,
                             check=False, timeout=120).returncode

    assert check(component) == 0
    assert check(f"{component}_that_never_ran") == 1
