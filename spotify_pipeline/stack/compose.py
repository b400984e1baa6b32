"""The Compose stack from the command line: `docker compose` runs it, this module reads it back.

`docker-compose.yml` is the one definition of the platform. ``up`` adds ``docker-compose.ferretdb.yml``
where the ``mongo`` image cannot be had (no registry), and says so in one line, and
``docker-compose.cluster.yml`` under ``STACK_PROFILE=cluster`` (several nodes per engine, docs/scaling.md). ``status`` reads the
running containers (``docker compose ps``): each service's health, its published ports, and the URL
a user on the host opens, in the contract ``{"services": {NAME: {"url", "healthy", "version"}}}``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from spotify_core.errors import PipelineError
from spotify_core.settings import inherited_environment

REPO = Path(__file__).resolve().parents[2]
PROJECT = "spotify-platform"
MONGO_IMAGE = "mongo:7.0.15"
FERRETDB_FILE = "docker-compose.ferretdb.yml"
CLUSTER_FILE = "docker-compose.cluster.yml"
PROFILES = ("single", "cluster")
# The compose file's host-port variables and their defaults (a second stack moves them all at once).
HOST_PORTS: Mapping[str, int] = {
    "STACK_AIRFLOW_PORT": 8080, "STACK_TRINO_PORT": 8081, "STACK_SPARK_UI_PORT": 8082,
    "STACK_SPARK_MASTER_PORT": 7077, "STACK_SPARK_WORKER_UI_PORT": 8084, "STACK_NAMENODE_HTTP_PORT": 9870,
    "STACK_NAMENODE_RPC_PORT": 8020, "STACK_DATANODE_HTTP_PORT": 9864, "STACK_DATANODE_DATA_PORT": 9866,
    "STACK_DATANODE_IPC_PORT": 9867, "STACK_METASTORE_PORT": 9083, "STACK_MONGO_PORT": 27017,
    "STACK_POSTGRES_PORT": 5433, "STACK_JUPYTER_PORT": 8888, "STACK_DASHBOARD_PORT": 8501,
}
# The cluster profile's own (docker-compose.cluster.yml): the second and third DataNodes, the second Spark worker.
CLUSTER_HOST_PORTS: Mapping[str, int] = {
    "STACK_DATANODE2_HTTP_PORT": 9874, "STACK_DATANODE2_DATA_PORT": 9876, "STACK_DATANODE2_IPC_PORT": 9877,
    "STACK_DATANODE3_HTTP_PORT": 9884, "STACK_DATANODE3_DATA_PORT": 9886, "STACK_DATANODE3_IPC_PORT": 9887,
    "STACK_SPARK_WORKER2_UI_PORT": 8085,
}
TRINO_PORT = HOST_PORTS["STACK_TRINO_PORT"]
ONESHOTS = frozenset({"hdfs-init", "hive-metastore-init", "airflow-init"})


@dataclass(frozen=True)
class Door:
    """How a service is opened from the host: the container port published for it, a URL pattern."""

    port_of: str       # the service whose published port the URL uses
    target: int        # that service's container port
    url: str           # "{host}" and "{port}" are filled in


# Container ports are the compose file's; the host ports are whatever it published (STACK_*_PORT).
DOORS: Mapping[str, Door] = {
    "postgres": Door("postgres", 5432, "postgresql://{host}:{port}"),
    "mongo": Door("mongo", 27017, "mongodb://{host}:{port}"),
    "namenode": Door("namenode", 9870, "http://{host}:{port}/explorer.html"),
    "datanode": Door("namenode", 9870, "http://{host}:{port}/dfshealth.html#tab-datanode"),
    "hdfs-init": Door("namenode", 9870, "http://{host}:{port}/explorer.html#/user/hive/warehouse"),
    "hive-metastore-init": Door("postgres", 5432, "postgresql://{host}:{port}/metastore"),
    "hive-metastore": Door("hive-metastore", 9083, "thrift://{host}:{port}"),
    "trino": Door("trino", 8080, "http://{host}:{port}"),
    "spark-master": Door("spark-master", 8082, "http://{host}:{port}"),
    "spark-worker": Door("spark-worker", 8084, "http://{host}:{port}"),
    "airflow-init": Door("airflow-apiserver", 8080, "http://{host}:{port}"),
    "airflow-apiserver": Door("airflow-apiserver", 8080, "http://{host}:{port}"),
    "airflow-scheduler": Door("airflow-apiserver", 8080, "http://{host}:{port}/api/v2/monitor/health"),
    "airflow-dag-processor": Door("airflow-apiserver", 8080, "http://{host}:{port}/api/v2/monitor/health"),
    "airflow-triggerer": Door("airflow-apiserver", 8080, "http://{host}:{port}/api/v2/monitor/health"),
    "jupyter": Door("jupyter", 8888, "http://{host}:{port}/lab"),
    "dashboard": Door("dashboard", 8501, "http://{host}:{port}"),
    # the cluster profile's extra nodes
    "datanode-2": Door("namenode", 9870, "http://{host}:{port}/dfshealth.html#tab-datanode"),
    "datanode-3": Door("namenode", 9870, "http://{host}:{port}/dfshealth.html#tab-datanode"),
    "spark-worker-2": Door("spark-worker-2", 8085, "http://{host}:{port}"),
    "trino-worker-1": Door("trino", 8080, "http://{host}:{port}/ui/#/workers"),
    "trino-worker-2": Door("trino", 8080, "http://{host}:{port}/ui/#/workers"),
    "airflow-worker": Door("airflow-apiserver", 8080, "http://{host}:{port}/api/v2/monitor/health"),
    "airflow-worker-2": Door("airflow-apiserver", 8080, "http://{host}:{port}/api/v2/monitor/health"),
}
# What each image runs (the platform image serves several services; its tag is the project's).
VERSIONS: Mapping[str, str] = {
    "postgres": "PostgreSQL 15", "namenode": "Hadoop 3.5.0", "datanode": "Hadoop 3.5.0",
    "hdfs-init": "Hadoop 3.5.0", "hive-metastore-init": "Hive 2.3.10", "hive-metastore": "Hive 2.3.10",
    "trino": "Trino 476", "spark-master": "Spark 4.2.0", "spark-worker": "Spark 4.2.0",
    "airflow-init": "Airflow 3.3.2", "airflow-apiserver": "Airflow 3.3.2", "airflow-scheduler": "Airflow 3.3.2",
    "airflow-dag-processor": "Airflow 3.3.2", "airflow-triggerer": "Airflow 3.3.2",
    "jupyter": "JupyterLab 4.6.6", "dashboard": "Streamlit 1.67.0",
    "datanode-2": "Hadoop 3.5.0", "datanode-3": "Hadoop 3.5.0", "spark-worker-2": "Spark 4.2.0",
    "trino-worker-1": "Trino 476", "trino-worker-2": "Trino 476", "airflow-worker": "Airflow 3.3.2",
    "airflow-worker-2": "Airflow 3.3.2", "redis": "Redis 7.0",
}
LOGINS: Mapping[str, str] = {
    "airflow-apiserver": "login AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD (default admin / admin)",
    "jupyter": "token JUPYTER_TOKEN (default 'spotify')",
    "trino": "any user name, no password (JDBC: `spotify-pipeline stack jdbc`)",
    "namenode": "no login (WebHDFS user from the URL, e.g. ?user.name=airflow)",
    "spark-master": "no login",
    "dashboard": "no login",
}


def ports_env(offset: int, cluster: bool = False) -> dict[str, str]:
    """Every host-port variable moved by ``offset`` (``cluster``: the cluster profile's too)."""
    ports = {**HOST_PORTS, **(CLUSTER_HOST_PORTS if cluster else {})}
    return {var: str(port + offset) for var, port in ports.items()}


def docker() -> str:
    path = shutil.which("docker")
    if path is None:
        raise PipelineError("docker is not installed; run `make stack` (it installs the engine) or see docs/stack.md")
    return path


def compose_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of `docker compose`: no Bake (no buildx here), BuildKit through Compose itself."""
    return {**inherited_environment(), "COMPOSE_BAKE": "false", **(extra or {})}


def mongo_available(timeout_s: float = 60.0) -> bool:
    """The real ``mongo`` image is present, or can be pulled now."""
    inspect = subprocess.run([docker(), "image", "inspect", MONGO_IMAGE], capture_output=True, check=False)
    if inspect.returncode == 0:
        return True
    try:
        pull = subprocess.run([docker(), "pull", "-q", MONGO_IMAGE], capture_output=True, check=False,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return False
    return pull.returncode == 0


def compose_files(repo: Path = REPO, mongo: str | None = None, profile: str | None = None) -> list[Path]:
    """The compose files of this machine: the stack, plus FerretDB where ``mongo`` cannot be had, plus
    the cluster file for the cluster profile.

    ``mongo``: "mongo" or "ferretdb" to decide (STACK_MONGO), else it is probed. ``profile``: "single"
    (the default) or "cluster" (else STACK_PROFILE).
    """
    env = inherited_environment()
    profile = profile or env.get("STACK_PROFILE") or "single"
    if profile not in PROFILES:
        raise PipelineError(f"STACK_PROFILE={profile!r} is not one of {', '.join(PROFILES)}")
    choice = mongo or env.get("STACK_MONGO") or ("mongo" if mongo_available() else "ferretdb")
    files = [repo / "docker-compose.yml"]
    if choice == "ferretdb":
        files.append(repo / FERRETDB_FILE)
    if profile == "cluster":
        files.append(repo / CLUSTER_FILE)
    return files


def compose_cmd(files: Sequence[Path], project: str | None = None) -> list[str]:
    cmd = [docker(), "compose", "-p", project or project_name()]
    for path in files:
        cmd += ["-f", str(path)]
    return cmd


def project_name() -> str:
    """``COMPOSE_PROJECT_NAME`` when set (a second stack beside the first), else the compose file's name."""
    return inherited_environment().get("COMPOSE_PROJECT_NAME") or PROJECT


def ps(project: str | None = None) -> list[dict]:
    """Every container of the project (running or exited), as `docker compose ps --format json` gives it."""
    proc = subprocess.run([docker(), "compose", "-p", project or project_name(), "ps", "--all", "--format", "json"],
                          capture_output=True, text=True, check=False, env=compose_env(), cwd=REPO)
    if proc.returncode != 0:
        raise PipelineError(f"docker compose ps failed: {proc.stderr.strip()[:300]}")
    text = proc.stdout.strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _host(address: str) -> str:
    return "localhost" if address in ("", "0.0.0.0", "127.0.0.1", "::", "::1") else address


def published(containers: Sequence[dict]) -> dict[tuple[str, int], tuple[str, int]]:
    """(service, container port) -> (host, host port) of every published TCP port."""
    out: dict[tuple[str, int], tuple[str, int]] = {}
    for c in containers:
        for pub in c.get("Publishers") or []:
            if pub.get("PublishedPort"):
                out.setdefault((c["Service"], int(pub["TargetPort"])), (_host(pub.get("URL", "")),
                                                                         int(pub["PublishedPort"])))
    return out


def healthy(container: dict) -> bool:
    """A one-shot is done when it exited 0; a service when it runs and its healthcheck passes."""
    if container["Service"] in ONESHOTS:
        return container.get("State") == "exited" and int(container.get("ExitCode", 1)) == 0
    return container.get("State") == "running" and container.get("Health", "") in ("healthy", "")


def status(containers: Sequence[dict]) -> dict[str, dict]:
    """``{NAME: {"url", "healthy", "version", "state"}}`` for every service that has a container."""
    ports = published(containers)
    services: dict[str, dict] = {}
    for c in sorted(containers, key=lambda c: c["Service"]):
        name = c["Service"]
        door = DOORS.get(name)
        url = ""
        if door and (door.port_of, door.target) in ports:
            host, port = ports[(door.port_of, door.target)]
            url = door.url.format(host=host, port=port)
        services[name] = {"url": url, "healthy": healthy(c),
                          "version": VERSIONS.get(name, c.get("Image", "").rsplit(":", 1)[-1]),
                          "state": c.get("State", ""), "oneshot": name in ONESHOTS}
    return services


def pipeline_env(containers: Sequence[dict]) -> dict[str, str]:
    """The pipeline's environment on the host for this stack (what ``stack env`` prints)."""
    ports = published(containers)

    def addr(service: str, target: int) -> str:
        host, port = ports.get((service, target), ("localhost", 0))
        return f"{host}:{port}"

    env = {}
    if ("mongo", 27017) in ports:
        env["MONGO_URI"] = f"mongodb://{addr('mongo', 27017)}"
    if ("namenode", 8020) in ports:
        env["LAKE_URI"] = f"hdfs://{addr('namenode', 8020)}"
        env["WEBHDFS_URL"] = f"http://{addr('namenode', 9870)}"
    if ("hive-metastore", 9083) in ports:
        env["HIVE_METASTORE_URI"] = f"thrift://{addr('hive-metastore', 9083)}"
    if ("trino", 8080) in ports:
        host, port = ports[("trino", 8080)]
        env["TRINO_HOST"], env["TRINO_PORT"] = host, str(port)
    if ("spark-master", 7077) in ports:
        env["SPARK_MASTER"] = f"spark://{addr('spark-master', 7077)}"
    return env


def render_table(services: Mapping[str, dict]) -> str:
    """One line per service (state and URL), then every UI with its login."""
    rows = [("service", "state", "url")]
    for name, s in services.items():
        if s["oneshot"]:
            state = "done" if s["healthy"] else s["state"] or "pending"
        else:
            state = "healthy" if s["healthy"] else (s["state"] or "stopped")
        rows.append((name, state, s["url"]))
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [f"{a:<{width[0]}}  {b:<{width[1]}}  {c}" for a, b, c in rows]
    uis = [(name, services[name]["url"], login) for name, login in LOGINS.items() if services.get(name, {}).get("url")]
    if uis:
        lines.append("")
        lines += [f"{name:<18} {url:<40} {login}" for name, url, login in uis]
    lines.append('Pipeline env for scripts on this machine: eval "$(spotify-pipeline stack env)"')
    return "\n".join(lines)
