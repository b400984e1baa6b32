"""The Airflow services' definitions (no process started: the end-to-end test runs them for real)."""

from __future__ import annotations

import json
import stat
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

from spotify_pipeline.stack import airflow
from spotify_pipeline.stack.service import StackContext

ROOT = Path(__file__).resolve().parents[2]


def make_ctx(tmp_path: Path, port_offset: int = 0, **env: str) -> StackContext:
    return StackContext(repo=ROOT, cache=tmp_path / "cache", state=tmp_path / "state", logs=tmp_path / "logs",
                        venv_bin=tmp_path / "bin", port_offset=port_offset, env=env)


def by_profile(profile: str) -> dict:
    return {s.name: s for s in airflow.SERVICES if profile in s.profiles}


def test_the_compose_files_airflow_services_in_both_profiles() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    expected = {n for n in compose if n.startswith("airflow-")}
    assert set(by_profile("full")) == set(by_profile("light")) == expected
    full, light = by_profile("full"), by_profile("light")
    assert full["airflow-init"].oneshot and "postgres" in full["airflow-init"].depends_on
    assert light["airflow-init"].depends_on == ()
    for name in expected - {"airflow-init"}:
        assert "airflow-init" in full[name].depends_on or "airflow-apiserver" in full[name].depends_on
        assert not any(d in light[name].depends_on for d in ("postgres", "mongo", "hive-metastore", "spark-master"))


def test_login_comes_from_settings_and_follows_them(tmp_path) -> None:
    ctx = make_ctx(tmp_path, AIRFLOW_ADMIN_USER="ops", AIRFLOW_ADMIN_PASSWORD="s3cret")
    path = airflow.write_passwords_file(ctx)
    assert json.loads(path.read_text()) == {"ops": "s3cret"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    env = airflow.airflow_env(ctx, light=False)
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "ops:admin"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(path)
    changed = make_ctx(tmp_path, AIRFLOW_ADMIN_USER="ops", AIRFLOW_ADMIN_PASSWORD="rotated")
    airflow.write_passwords_file(changed)
    assert json.loads(path.read_text()) == {"ops": "rotated"}
    assert airflow.admin_login(make_ctx(tmp_path)) == ("admin", "admin")   # documented defaults


def test_every_process_shares_one_jwt_secret_made_once(tmp_path) -> None:
    ctx = make_ctx(tmp_path)
    first = airflow.airflow_env(ctx, light=False)["AIRFLOW__API_AUTH__JWT_SECRET"]
    again = airflow.airflow_env(ctx, light=True)["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert first == again and len(first) >= 32
    secrets_file = airflow.home(ctx) / "stack-secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert airflow.airflow_env(make_ctx(tmp_path / "other"), light=False)["AIRFLOW__API_AUTH__JWT_SECRET"] != first


def test_full_profile_on_postgres_light_on_sqlite_same_dags_and_ports(tmp_path) -> None:
    ctx = make_ctx(tmp_path, port_offset=200, AIRFLOW_CONN_SPARK_DEFAULT='{"conn_type": "spark"}')
    full, light = airflow.airflow_env(ctx, light=False), airflow.airflow_env(ctx, light=True)
    assert full["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg2://airflow:airflow@127.0.0.1:5633/airflow"
    assert light["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{airflow.home(ctx) / 'airflow.db'}"
    for env in (full, light):
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(ROOT / "dags")
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__API__PORT"] == "8280"
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://localhost:8280/execution/"
        assert "AIRFLOW_CONN_SPARK_DEFAULT" not in env   # the stack's own value (ctx.env) is used
    bare = airflow.airflow_env(make_ctx(tmp_path, SPARK_MASTER="local[*]"), light=True)
    assert json.loads(bare["AIRFLOW_CONN_SPARK_DEFAULT"]) == {"conn_type": "spark", "host": "local[*]"}


class _Health(BaseHTTPRequestHandler):
    document: dict = {}

    def do_GET(self):  # noqa: N802 - http.server's name
        body = json.dumps(self.document).encode()
        self.send_response(200 if self.path == airflow.HEALTH_PATH else 404)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def health_server():
    server = HTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_each_component_is_ready_on_its_own_heartbeat(tmp_path, health_server) -> None:
    from spotify_pipeline.stack.service import BASE_PORTS

    ctx = make_ctx(tmp_path, port_offset=health_server.server_address[1] - BASE_PORTS["airflow"])
    services = by_profile("full")
    _Health.document = {"metadatabase": {"status": "healthy"}, "scheduler": {"status": "healthy"},
                        "triggerer": {"status": "unhealthy"}, "dag_processor": {"status": None}}
    assert services["airflow-apiserver"].ready(ctx)
    assert services["airflow-scheduler"].ready(ctx)
    assert not services["airflow-triggerer"].ready(ctx)
    assert not services["airflow-dag-processor"].ready(ctx)
    _Health.document = {"metadatabase": {"status": "unhealthy"}, "scheduler": {"status": "healthy"}}
    assert not services["airflow-apiserver"].ready(ctx) and not services["airflow-scheduler"].ready(ctx)
    health_server.shutdown()
    health_server.server_close()
    assert not services["airflow-apiserver"].ready(ctx)   # nothing answers
