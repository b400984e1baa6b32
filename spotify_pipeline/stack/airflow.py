"""Airflow 3 of the local stack: the compose file's five Airflow services, as local processes.

``airflow-init`` (one-shot ``airflow db migrate``), then ``airflow-apiserver``, ``airflow-scheduler``,
``airflow-dag-processor`` and ``airflow-triggerer`` with the LocalExecutor. The full profile keeps
Airflow's metadata in the stack's PostgreSQL (database and role ``airflow``, as in compose); the light
profile keeps it in SQLite under ``AIRFLOW_HOME`` and needs no other service. All of them read the same
``dags/`` folder as ``make demo`` and get the pipeline's environment from the stack context (MONGO_URI,
LAKE_URI, WEBHDFS_URL, HIVE_METASTORE_URI, TRINO_*, ``AIRFLOW_CONN_SPARK_DEFAULT``): only the
environment differs from a local run, never the DAG files.

Login: ``AIRFLOW_ADMIN_USER`` / ``AIRFLOW_ADMIN_PASSWORD`` (default admin/admin). The simple auth
manager reads its users from config and their passwords from a file we write on every start, so there
is no generated password to go and find. Readiness is the api-server's ``/api/v2/monitor/health``: the
api-server is ready when it answers with a healthy metadata database, each other component when its own
heartbeat there is healthy.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from importlib.metadata import version as dist_version
from pathlib import Path

from spotify_pipeline import spark_class_archive
from spotify_pipeline.settings import load_settings
from spotify_pipeline.stack.service import Service, StackContext

VERSION = dist_version("apache-airflow")
AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
HEALTH_PATH = "/api/v2/monitor/health"
# Task slots and api-server workers sized for a 2-core machine shared with the rest of the stack.
PARALLELISM = 4
API_WORKERS = 1
EXECUTION_API_TIMEOUT_S = 30
# The compose file's POSTGRES_PASSWORD default; the local cluster listens on 127.0.0.1 only.
POSTGRES_ROLE = POSTGRES_PASSWORD = POSTGRES_DB = "airflow"


def home(ctx: StackContext) -> Path:
    """AIRFLOW_HOME of the stack: config, logs, the light profile's SQLite DB, the passwords file."""
    return ctx.state / "airflow"


def api_url(ctx: StackContext) -> str:
    return f"http://localhost:{ctx.port('airflow')}"


def admin_login(ctx: StackContext) -> tuple[str, str]:
    """The UI login: AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD from settings (in the stack env)."""
    return ctx.env.get("AIRFLOW_ADMIN_USER", "admin"), ctx.env.get("AIRFLOW_ADMIN_PASSWORD", "admin")


def sql_alchemy_conn(ctx: StackContext, light: bool) -> str:
    if light:
        return f"sqlite:///{home(ctx) / 'airflow.db'}"
    return (f"postgresql+psycopg2://{POSTGRES_ROLE}:{POSTGRES_PASSWORD}@127.0.0.1:"
            f"{ctx.port('postgres')}/{POSTGRES_DB}")


def _write_private(path: Path, text: str) -> None:
    """Write a secret file readable by its owner only (temp file + atomic rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def stack_secrets(ctx: StackContext) -> dict[str, str]:
    """The JWT secret and api secret key every Airflow process must share, made once per state dir."""
    path = home(ctx) / "stack-secrets.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        values = {"jwt_secret": secrets.token_urlsafe(32), "secret_key": secrets.token_urlsafe(32)}
        _write_private(path, json.dumps(values))
        return values


def write_passwords_file(ctx: StackContext) -> Path:
    """The simple auth manager's passwords file, from settings (rewritten each start: settings win)."""
    user, password = admin_login(ctx)
    path = home(ctx) / "simple_auth_manager_passwords.json"
    _write_private(path, json.dumps({user: password}) + "\n")
    return path


def airflow_env(ctx: StackContext, light: bool) -> dict[str, str]:
    """Airflow's own configuration; the pipeline variables come from ``ctx.env`` (the supervisor adds them)."""
    base = home(ctx)
    keys = stack_secrets(ctx)
    user, _ = admin_login(ctx)
    env = {
        "AIRFLOW_HOME": str(base),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ctx.repo / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__CORE__AUTH_MANAGER": AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{user}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(base / "simple_auth_manager_passwords.json"),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url(ctx)}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_alchemy_conn(ctx, light),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(ctx.port("airflow")),
        "AIRFLOW__API__BASE_URL": api_url(ctx),
        "AIRFLOW__API__SECRET_KEY": keys["secret_key"],
        "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(base / "logs"),
        # Task processes call the api-server's execution API; on a busy 2-core machine 5 s (the default)
        # is not enough and a task dies before it starts.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": str(EXECUTION_API_TIMEOUT_S),
        # Task processes run the venv's spark-submit and python, and import the project from the checkout.
        "PYSPARK_PYTHON": str(ctx.venv_bin / "python"),
        "PYTHONPATH": str(ctx.repo),
    }
    # spark-submit's driver JVMs (client mode: they run here) map the class archive `make install` built.
    if opts := spark_class_archive.submit_opts(load_settings(ctx.env), ctx.env):
        env["SPARK_SUBMIT_OPTS"] = opts
    if "AIRFLOW_CONN_SPARK_DEFAULT" not in ctx.env:
        master = ctx.env.get("SPARK_MASTER", "local[*]")
        env["AIRFLOW_CONN_SPARK_DEFAULT"] = json.dumps({"conn_type": "spark", "host": master})
    return env


def health(ctx: StackContext) -> dict | None:
    """The api-server's health document, or None while it does not answer."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{api_url(ctx)}{HEALTH_PATH}", timeout=3) as resp:  # noqa: S310
            return json.loads(resp.read().decode())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def component_healthy(component: str):
    """Probe: the api-server answers and ``component``'s status in its health document is healthy."""

    def probe(ctx: StackContext) -> bool:
        doc = health(ctx) or {}
        return (doc.get("metadatabase", {}).get("status") == "healthy"
                and doc.get(component, {}).get("status") == "healthy")

    return probe


def _airflow(ctx: StackContext, *args: str) -> list[str]:
    return [str(ctx.venv_bin / "airflow"), *args]


def _migrated_marker(ctx: StackContext) -> Path:
    return home(ctx) / "migrated-version"


def _prepare_home(ctx: StackContext) -> None:
    for sub in ("", "logs"):
        (home(ctx) / sub).mkdir(parents=True, exist_ok=True)
    stack_secrets(ctx)
    write_passwords_file(ctx)


def _mark_migrated(ctx: StackContext) -> None:
    _migrated_marker(ctx).write_text(VERSION)


def _migrated(ctx: StackContext) -> bool:
    try:
        return _migrated_marker(ctx).read_text().strip() == VERSION
    except OSError:
        return False


def _services(light: bool) -> list[Service]:
    profile = "light" if light else "full"
    env = (lambda ctx: airflow_env(ctx, light))  # noqa: E731 - one line per service below
    cwd = home
    backing: tuple[str, ...] = () if light else ("postgres",)
    init = Service(
        name="airflow-init", version=VERSION, oneshot=True, profiles=(profile,), depends_on=backing,
        init=_prepare_home, command=lambda ctx: _airflow(ctx, "db", "migrate"), post_start=_mark_migrated,
        ready=_migrated, url=api_url, env=env, cwd=cwd,
        start_timeout_s=300,
    )
    # The pipeline's own services must be up before any task can run against them (compose: depends_on).
    pipeline: tuple[str, ...] = () if light else ("mongo", "spark-master", "hive-metastore")
    after_init = ("airflow-init", *pipeline)
    api = Service(
        name="airflow-apiserver", version=VERSION, profiles=(profile,), depends_on=after_init,
        init=write_passwords_file, env=env, cwd=cwd, ports=("airflow",),
        command=lambda ctx: _airflow(ctx, "api-server", "--workers", str(API_WORKERS)),
        ready=component_healthy("metadatabase"), url=api_url, start_timeout_s=180,
    )
    after_api = ("airflow-apiserver", *pipeline)

    def component(name: str, cmd: tuple[str, ...], key: str) -> Service:
        return Service(name=name, version=VERSION, profiles=(profile,), depends_on=after_api, env=env,
                       cwd=cwd, command=lambda ctx: _airflow(ctx, *cmd), ready=component_healthy(key),
                       url=lambda ctx: f"{api_url(ctx)}{HEALTH_PATH}", start_timeout_s=180)

    # Every process shares one log folder, so the api-server reads task logs from disk: no log servers
    # (and no more ports) are needed.
    return [
        init,
        api,
        component("airflow-scheduler", ("scheduler", "--skip-serve-logs"), "scheduler"),
        component("airflow-dag-processor", ("dag-processor",), "dag_processor"),
        component("airflow-triggerer", ("triggerer", "--skip-serve-logs"), "triggerer"),
    ]


SERVICES: list[Service] = [*_services(light=False), *_services(light=True)]


def env_for(ctx: StackContext, light: bool = False) -> Mapping[str, str]:
    """The full environment an Airflow process of the stack gets (for `airflow` commands by hand)."""
    return {**ctx.env, **airflow_env(ctx, light)}
