"""The shape of one stack service: what `docker-compose.yml` says of a service, as data.

`make stack` runs the platform's real services as local processes. Each service is one
:class:`Service` in the table of ``spotify_pipeline/stack/services.py``; one small supervisor
(``supervisor.py``) installs, initialises, starts (in dependency order, each gated on its readiness
probe), reports and stops them. Service names are the compose file's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Ports of the local stack (before STACK_PORT_OFFSET is added). Compose publishes the same ones.
BASE_PORTS: Mapping[str, int] = {
    "postgres": 5433,          # not 5432: leave a system PostgreSQL alone
    "mongo": 27017,            # FerretDB speaking the MongoDB wire protocol
    "namenode_rpc": 8020,
    "namenode_http": 9870,     # WebHDFS + NameNode UI (/explorer.html)
    "datanode_http": 9864,
    "datanode_data": 9866,
    "datanode_ipc": 9867,
    "hive_metastore": 9083,
    "trino": 8081,             # Airflow owns 8080
    "spark_master": 7077,
    "spark_master_ui": 8082,
    "spark_worker_ui": 8084,   # not 8083: +1000 (the tests' offset) would land on the metastore's 9083
    "airflow": 8080,
    "jupyter": 8888,
    "dashboard": 8501,
}


@dataclass(frozen=True)
class StackContext:
    """Everything a service needs to know about this machine's stack; built once by the supervisor."""

    repo: Path              # the project checkout (config files are rendered from here)
    cache: Path             # downloads and builds, outside the repo (STACK_CACHE_DIR)
    state: Path             # data that survives restarts: HDFS, postgres, FerretDB (STACK_STATE_DIR)
    logs: Path              # one log file per service
    venv_bin: Path          # the project's venv bin (python, spark-submit, airflow)
    port_offset: int = 0
    env: Mapping[str, str] = field(default_factory=dict)

    def port(self, name: str) -> int:
        return BASE_PORTS[name] + self.port_offset


@dataclass(frozen=True)
class Service:
    """One long-running process (or a one-shot when ``oneshot``), as in the compose file.

    A one-shot runs ``init`` and then ``command`` to completion (an empty command: ``init`` is the whole
    job); its ``ready`` says whether its work is done. ``ports`` names the ``BASE_PORTS`` keys the service
    binds, so a port already taken is reported before start, naming the service. ``post_start`` runs once
    after the first successful probe (e.g. databases created in a fresh server).
    """

    name: str                                          # the compose service name
    version: str
    command: Callable[[StackContext], list[str]]
    ready: Callable[[StackContext], bool]              # one real protocol probe, no sleeping
    url: Callable[[StackContext], str]
    depends_on: tuple[str, ...] = ()
    install: Callable[[StackContext], None] | None = None   # idempotent; downloads into ctx.cache
    init: Callable[[StackContext], None] | None = None      # idempotent one-time setup before start
    env: Callable[[StackContext], Mapping[str, str]] | None = None
    cwd: Callable[[StackContext], Path] | None = None
    start_timeout_s: float = 120.0
    oneshot: bool = False
    profiles: tuple[str, ...] = ("full",)              # "light": Airflow + embedded defaults only
    ports: tuple[str, ...] = ()                         # BASE_PORTS keys this service binds
    post_start: Callable[[StackContext], None] | None = None
    stop_signal: int = 15                               # SIGTERM, as compose's stop_signal
    user: str | None = None                             # run as this user when the stack runs as root
