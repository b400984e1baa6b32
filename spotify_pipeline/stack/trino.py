"""The stack's Trino 476 (catalog ``hive``) on Java 25, configured from the compose stack's files.

Trino 476 is the newest release on Maven Central. Its HDFS support (``plugin/hive/hdfs``) is
published there only inside the full ``io.trino:trino-server`` tarball (the separate ``trino-hdfs``
476 zip is absent), so that tarball is the one download: checksum-verified into the cache, unpacked
once with only the ``hive`` plugin kept. ``trino/etc/*`` and ``trino/catalog/hive.properties`` are
rendered into the state dir with this machine's ports, data dir, metastore and core-site.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import trino.dbapi
import trino.exceptions

from spotify_pipeline.errors import PipelineError
from spotify_pipeline.stack import hive_metastore
from spotify_pipeline.stack.downloads import maven_artifact
from spotify_pipeline.stack.service import Service, StackContext

NAME = "trino"
TRINO_VERSION = "476"
MIN_JAVA = 24
JVM_DIR = Path("/usr/lib/jvm")
PLUGINS = ("hive",)   # plugin/hive carries plugin/hive/hdfs


def home(ctx: StackContext) -> Path:
    return ctx.cache / f"trino-server-{TRINO_VERSION}"


def etc_dir(ctx: StackContext) -> Path:
    return ctx.state / "trino" / "etc"


def data_dir(ctx: StackContext) -> Path:
    return ctx.state / "trino" / "data"


def url(ctx: StackContext) -> str:
    return f"http://localhost:{ctx.port('trino')}"


def _java_version(jdk: Path) -> int:
    release = jdk / "release"
    if not release.exists() or not (jdk / "bin" / "java").exists():
        return 0
    for line in release.read_text(errors="replace").splitlines():
        if line.startswith("JAVA_VERSION="):
            return int(line.split("=", 1)[1].strip('"').split(".")[0].split("-")[0] or 0)
    return 0


def java_home(jvm_dir: Path = JVM_DIR) -> Path:
    """The newest JDK >= 24 on the machine (Trino 476 refuses older ones)."""
    found = sorted(((_java_version(j), j) for j in jvm_dir.glob("*") if j.is_dir() and not j.is_symlink()),
                   reverse=True)
    if not found or found[0][0] < MIN_JAVA:
        raise PipelineError(f"{NAME}: Trino {TRINO_VERSION} needs Java >= {MIN_JAVA} and {jvm_dir} has none; "
                            "install a JDK 25 (e.g. apt-get install temurin-25-jdk)")
    return found[0][1]


def _unpack(tarball: Path, dest: Path) -> None:
    """Unpack the server with only ``PLUGINS``; jars are hard links across plugins, so unpack whole, then prune."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="tar")
        root = tmp / f"trino-server-{TRINO_VERSION}"
        for plugin in (root / "plugin").iterdir():
            if plugin.name not in PLUGINS:
                shutil.rmtree(plugin)
        try:
            root.rename(dest)
        except OSError:
            if not (dest / "lib").is_dir():  # not a concurrent run that won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def install(ctx: StackContext) -> None:
    java_home()
    if (home(ctx) / "lib").is_dir() and (home(ctx) / "plugin" / "hive" / "hdfs").is_dir():
        return
    tarball = maven_artifact(ctx.cache, f"io.trino:trino-server:{TRINO_VERSION}", ext="tar.gz")
    _unpack(tarball, home(ctx))


def read_properties(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def write_properties(values: Mapping[str, str], source: str) -> str:
    lines = [f"# rendered by `make stack` from {source}; do not edit"]
    return "\n".join(lines + [f"{k}={v}" for k, v in values.items()]) + "\n"


def rendered_files(ctx: StackContext) -> dict[Path, str]:
    """Every config file Trino reads, from the repo's ``trino/`` with local values; pure (tests read it)."""
    repo = ctx.repo / "trino"
    etc = etc_dir(ctx)
    port = ctx.port("trino")
    config = {**read_properties(repo / "etc" / "config.properties"),
              "http-server.http.port": str(port), "discovery.uri": f"http://localhost:{port}"}
    node = {**read_properties(repo / "etc" / "node.properties"), "node.data-dir": str(data_dir(ctx))}
    hive = {**read_properties(repo / "catalog" / "hive.properties"),
            "hive.metastore.uri": hive_metastore.uri(ctx),
            "hive.config.resources": str(etc / "hadoop" / "core-site.xml")}
    return {
        etc / "config.properties": write_properties(config, "trino/etc/config.properties"),
        etc / "node.properties": write_properties(node, "trino/etc/node.properties"),
        etc / "jvm.config": (repo / "etc" / "jvm.config").read_text(),
        etc / "log.properties": (repo / "etc" / "log.properties").read_text(),
        etc / "catalog" / "hive.properties": write_properties(hive, "trino/catalog/hive.properties"),
        etc / "hadoop" / "core-site.xml": hive_metastore.core_site(ctx),
    }


def init(ctx: StackContext) -> None:
    for path, text in rendered_files(ctx).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    data_dir(ctx).mkdir(parents=True, exist_ok=True)


def command(ctx: StackContext) -> list[str]:
    return [str(home(ctx) / "bin" / "launcher"), "run", f"--etc-dir={etc_dir(ctx)}", f"--data-dir={data_dir(ctx)}"]


def env(ctx: StackContext) -> Mapping[str, str]:
    java = java_home()
    return {"JAVA_HOME": str(java), "PATH": f"{java / 'bin'}:/usr/local/bin:/usr/bin:/bin"}


def info(port: int, host: str = "127.0.0.1", timeout: float = 3.0) -> dict:
    with urllib.request.urlopen(f"http://{host}:{port}/v1/info", timeout=timeout) as resp:
        return json.loads(resp.read())


def ready(ctx: StackContext) -> bool:
    """``/v1/info`` says ``"starting": false`` and a query finds an active node.

    ``starting: false`` alone comes before the coordinator has announced itself as a worker, so
    the first queries after a restart fail with "No nodes available to run query".
    """
    port = ctx.port("trino")
    try:
        if info(port).get("starting") is not False:
            return False
    except (urllib.error.URLError, OSError, ValueError):
        return False
    try:
        conn = trino.dbapi.connect(host="127.0.0.1", port=port, user="stack-probe", max_attempts=1,
                                   request_timeout=10.0)
        try:
            cur = conn.cursor()
            # SELECT 1 runs on the coordinator alone; a table scan also needs the node scheduler to
            # list an active node, which comes a few seconds later (the coordinator announcing itself)
            cur.execute("SELECT count(*) FROM system.runtime.nodes WHERE state = 'active'")
            return cur.fetchall()[0][0] >= 1
        finally:
            conn.close()
    except (trino.exceptions.Error, trino.exceptions.HttpError, OSError, ValueError):
        return False


def version(ctx: StackContext) -> str:
    """The running server's version (falls back to the pinned one when it is not up)."""
    try:
        return str(info(ctx.port("trino"))["nodeVersion"]["version"])
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return TRINO_VERSION


SERVICE = Service(
    name=NAME,
    version=TRINO_VERSION,
    command=command,
    ready=ready,
    url=url,
    depends_on=(hive_metastore.NAME,),
    install=install,
    init=init,
    env=env,
    ports=("trino",),
    start_timeout_s=300.0,
)
