"""PostgreSQL of the local stack: Debian's server binaries, a cluster of our own under the state dir.

Same databases and roles as the compose stack (``docker/postgres/init-metastore-db.sh``): ``airflow``
(owner ``airflow``) for Airflow's metadata and ``metastore`` (owner ``hive``) for the Hive metastore.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from spotify_pipeline.errors import PipelineError
from spotify_pipeline.stack.service import Service, StackContext

VERSION = "15"
BIN = Path(f"/usr/lib/postgresql/{VERSION}/bin")
# (role, password, database): the compose file's POSTGRES_PASSWORD / HIVE_DB_PASSWORD defaults.
OS_USER = "postgres"
ROLES = (("airflow", "airflow", "airflow"), ("hive", "hive", "metastore"))


def data_dir(ctx: StackContext) -> Path:
    return ctx.state / "postgres"


def dsn(ctx: StackContext, role: str = "airflow") -> str:
    """A libpq URI for one of the stack's roles (its own database)."""
    password, db = {r: (p, d) for r, p, d in ROLES}[role]
    return f"postgresql://{role}:{password}@127.0.0.1:{ctx.port('postgres')}/{db}"


def _bin(name: str) -> str:
    path = BIN / name
    if not path.exists():
        raise PipelineError(f"postgres: {path} is missing; install it: apt-get install -y postgresql-{VERSION}")
    return str(path)


def install(ctx: StackContext) -> None:
    _bin("postgres")


def _owner() -> str | None:
    """PostgreSQL refuses to run as root: as root, the cluster belongs to Debian's ``postgres`` user."""
    return OS_USER if os.geteuid() == 0 else None


def init(ctx: StackContext) -> None:
    """initdb once (trust on localhost only: the cluster listens on 127.0.0.1)."""
    pgdata = data_dir(ctx)
    sockets = ctx.state / "postgres-run"
    sockets.mkdir(parents=True, exist_ok=True)
    if _owner():
        shutil.chown(sockets, _owner())
    if (pgdata / "PG_VERSION").exists():
        return
    tmp = pgdata.with_name("postgres.initdb")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if _owner():
        shutil.chown(tmp, _owner())
    proc = subprocess.run([_bin("initdb"), "-D", str(tmp), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                           "--locale=C.UTF-8"], capture_output=True, text=True, check=False, user=_owner(),
                          cwd="/")
    if proc.returncode != 0:
        raise PipelineError(f"postgres: initdb failed: {proc.stderr.strip().splitlines()[-1:]}")
    tmp.rename(pgdata)


def command(ctx: StackContext) -> list[str]:
    sockets = ctx.state / "postgres-run"
    return [_bin("postgres"), "-D", str(data_dir(ctx)), "-p", str(ctx.port("postgres")),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={sockets}",
            "-c", "shared_buffers=32MB", "-c", "max_connections=100", "-c", "logging_collector=off"]


def psql(ctx: StackContext, sql: str, db: str = "postgres") -> str:
    proc = subprocess.run([_bin("psql"), "-h", "127.0.0.1", "-p", str(ctx.port("postgres")), "-U", "postgres",
                           "-d", db, "-tAq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, check=False, timeout=30)
    if proc.returncode != 0:
        raise PipelineError(f"postgres: {proc.stderr.strip()}")
    return proc.stdout.strip()


def ensure_databases(ctx: StackContext) -> None:
    """Roles and databases of Airflow and the metastore, created when absent (idempotent)."""
    for role, password, db in ROLES:
        if not psql(ctx, f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'"):
            psql(ctx, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        if not psql(ctx, f"SELECT 1 FROM pg_database WHERE datname = '{db}'"):
            psql(ctx, f"CREATE DATABASE {db} OWNER {role}")


def ready(ctx: StackContext) -> bool:
    """The server accepts connections (``pg_isready``)."""
    proc = subprocess.run([_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(ctx.port("postgres")), "-q"],
                          check=False)
    return proc.returncode == 0


SERVICE = Service(
    name="postgres", version=VERSION, command=command, ready=ready, install=install, init=init,
    post_start=ensure_databases, ports=("postgres",), user=OS_USER, stop_signal=signal.SIGINT,  # fast shutdown
    url=lambda ctx: f"postgresql://127.0.0.1:{ctx.port('postgres')}", start_timeout_s=60,
)
