"""HDFS of the local stack: a Hadoop 3.5.0 NameNode + DataNode from Maven Central's jars, on Java 17.

Configuration is rendered, not copied: ``core-site.xml`` from ``docker/hadoop/core-site.xml`` and
``hdfs-site.xml`` from the ``HDFS_CONF_*`` entries of ``hadoop.env.example`` (the compose stack's),
with ``localhost`` names, local ports and folders under the state dir. The DataNode registers as
``localhost``, so WebHDFS redirects and HDFS clients reach it with no ``/etc/hosts`` edit.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from spotify_pipeline.errors import PipelineError
from spotify_pipeline.stack.downloads import maven_artifact, maven_classpath
from spotify_pipeline.stack.probes import http_json
from spotify_pipeline.stack.service import Service, StackContext

VERSION = "3.5.0"
ARTIFACTS = (f"org.apache.hadoop:hadoop-hdfs:{VERSION}", f"org.apache.hadoop:hadoop-common:{VERSION}",
             f"org.apache.hadoop:hadoop-hdfs-client:{VERSION}")  # "provided" in hadoop-hdfs's pom
JAVA_HOME = Path("/usr/lib/jvm/java-17-openjdk-amd64")
HEAP = "-Xmx256m"
NAMENODE = "org.apache.hadoop.hdfs.server.namenode.NameNode"
DATANODE = "org.apache.hadoop.hdfs.server.datanode.DataNode"
WAREHOUSE = "/user/hive/warehouse"


def java(name: str = "java") -> str:
    path = JAVA_HOME / "bin" / name
    if not path.exists():
        raise PipelineError(f"namenode: Java 17 is missing at {JAVA_HOME}; install it: apt-get install -y openjdk-17-jdk-headless")
    return str(path)


def jars(ctx: StackContext) -> Path:
    return maven_classpath(ctx.cache, f"hadoop-hdfs-{VERSION}", ARTIFACTS)


def webapps(ctx: StackContext) -> Path:
    """The NameNode/DataNode web UIs: Maven's ``hadoop-hdfs`` jar lacks ``webapps/``; its ``tests`` jar
    carries them (Hadoop's own MiniDFSCluster serves them from there). Only ``webapps/`` is unpacked, so
    no test resource (a test ``hdfs-site.xml``) reaches the class path."""
    home = ctx.cache / f"hadoop-webapps-{VERSION}"
    if (home / "webapps" / "hdfs" / "explorer.html").exists():
        return home
    jar = maven_artifact(ctx.cache, f"org.apache.hadoop:hadoop-hdfs:{VERSION}", classifier="tests")
    tmp = Path(tempfile.mkdtemp(prefix=".webapps.", dir=ctx.cache))
    with zipfile.ZipFile(jar) as zf:
        zf.extractall(tmp, [n for n in zf.namelist() if n.startswith("webapps/")])
    shutil.rmtree(home, ignore_errors=True)
    os.replace(tmp, home)
    return home


def conf_dir(ctx: StackContext) -> Path:
    return ctx.state / "hadoop-conf"


def webhdfs_url(ctx: StackContext) -> str:
    return f"http://localhost:{ctx.port('namenode_http')}"


def fs_uri(ctx: StackContext) -> str:
    return f"hdfs://localhost:{ctx.port('namenode_rpc')}"


def _xml(props: dict[str, str]) -> str:
    rows = "\n".join(f"  <property><name>{escape(k)}</name><value>{escape(v)}</value></property>"
                     for k, v in props.items())
    return f'<?xml version="1.0"?>\n<!-- Rendered by spotify_pipeline.stack.hdfs; do not edit. -->\n<configuration>\n{rows}\n</configuration>\n'


def _read_xml_props(path: Path) -> dict[str, str]:
    text = path.read_text()
    return dict(re.findall(r"<name>([^<]+)</name>\s*<value>([^<]*)</value>", text))


def _env_example_props(path: Path, prefix: str) -> dict[str, str]:
    """``HDFS_CONF_dfs_replication=1`` -> ``dfs.replication``: the big-data-europe naming rule."""
    props = {}
    for line in path.read_text().splitlines():
        if line.startswith(prefix) and "=" in line:
            key, value = line[len(prefix):].split("=", 1)
            props[key.replace("___", "-").replace("__", "@").replace("_", ".").replace("@", "_")] = value
    return props


def core_site(ctx: StackContext) -> dict[str, str]:
    props = _read_xml_props(ctx.repo / "docker" / "hadoop" / "core-site.xml")
    props.update(_env_example_props(ctx.repo / "hadoop.env.example", "CORE_CONF_"))
    props["fs.defaultFS"] = fs_uri(ctx)
    props["hadoop.tmp.dir"] = str(ctx.state / "hdfs" / "tmp")
    return props


def hdfs_site(ctx: StackContext) -> dict[str, str]:
    props = _env_example_props(ctx.repo / "hadoop.env.example", "HDFS_CONF_")
    hdfs = ctx.state / "hdfs"
    props.update({
        "dfs.namenode.name.dir": f"file://{hdfs}/name",
        "dfs.datanode.data.dir": f"file://{hdfs}/data",
        "dfs.namenode.rpc-address": f"localhost:{ctx.port('namenode_rpc')}",
        "dfs.namenode.http-address": f"localhost:{ctx.port('namenode_http')}",
        "dfs.namenode.secondary.http-address": "localhost:0",
        "dfs.datanode.address": f"127.0.0.1:{ctx.port('datanode_data')}",
        "dfs.datanode.http.address": f"127.0.0.1:{ctx.port('datanode_http')}",
        "dfs.datanode.ipc.address": f"127.0.0.1:{ctx.port('datanode_ipc')}",
        "dfs.datanode.hostname": "localhost",
        "dfs.client.use.datanode.hostname": "true",
        # One DataNode on one disk: leave safe mode 2 s after its block report, not 30 s.
        "dfs.namenode.safemode.extension": "2000",
        "dfs.datanode.du.reserved": "0",
    })
    return props


_LOG4J = """# Rendered by spotify_pipeline.stack.hdfs: daemons log to stdout, the supervisor files it per service.
log4j.rootLogger=INFO,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
"""


def render(ctx: StackContext) -> None:
    conf = conf_dir(ctx)
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "core-site.xml").write_text(_xml(core_site(ctx)))
    (conf / "hdfs-site.xml").write_text(_xml(hdfs_site(ctx)))
    (conf / "log4j.properties").write_text(_LOG4J)


def _java_cmd(ctx: StackContext, main: str, *args: str) -> list[str]:
    classpath = f"{conf_dir(ctx)}:{webapps(ctx)}:{jars(ctx)}/*"
    return [java(), HEAP, "-XX:+UseSerialGC", "-Djava.net.preferIPv4Stack=true",
            f"-Dhadoop.log.dir={ctx.logs}", "-Dhadoop.home.dir=" + str(ctx.state / "hdfs"),
            "-cp", classpath, main, *args]


def install(ctx: StackContext) -> None:
    java()
    jars(ctx)
    webapps(ctx)


def init_namenode(ctx: StackContext) -> None:
    """Render the config; format once. A fresh format also wipes the DataNode (its cluster id would clash)."""
    render(ctx)
    name = ctx.state / "hdfs" / "name"
    if (name / "current" / "VERSION").exists():
        return
    shutil.rmtree(name, ignore_errors=True)
    shutil.rmtree(ctx.state / "hdfs" / "data", ignore_errors=True)
    with open(ctx.logs / "namenode-format.log", "w") as log:
        proc = subprocess.run(_java_cmd(ctx, NAMENODE, "-format", "-nonInteractive", "-clusterId", "spotify"),
                              stdout=log, stderr=subprocess.STDOUT, check=False, timeout=300)
    if proc.returncode != 0:
        raise PipelineError(f"namenode: format failed; see {ctx.logs / 'namenode-format.log'}")


def _namenode_info(ctx: StackContext) -> dict | None:
    body = http_json(f"{webhdfs_url(ctx)}/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo")
    beans = (body or {}).get("beans") or []
    return beans[0] if beans else None


def namenode_ready(ctx: StackContext) -> bool:
    """WebHDFS answers ``GETFILESTATUS /``."""
    body = http_json(f"{webhdfs_url(ctx)}/webhdfs/v1/?op=GETFILESTATUS")
    return bool(body and "FileStatus" in body)


def datanode_ready(ctx: StackContext) -> bool:
    """The NameNode counts a live DataNode and has left safe mode (writes would fail before)."""
    info = _namenode_info(ctx)
    if not info or info.get("Safemode"):
        return False
    live = info.get("LiveNodes") or "{}"
    return live not in ("{}", "")


def _webhdfs_put(ctx: StackContext, path: str, op: str, **params: str) -> None:
    query = "&".join([f"op={op}", "user.name=root", *(f"{k}={v}" for k, v in params.items())])
    req = urllib.request.Request(f"{webhdfs_url(ctx)}/webhdfs/v1{path}?{query}", method="PUT")
    try:
        urllib.request.urlopen(req, timeout=10).close()  # noqa: S310 - localhost
    except (urllib.error.URLError, OSError) as exc:
        raise PipelineError(f"hdfs-init: {op} {path} failed: {exc}") from None


def lake_root(ctx: StackContext) -> str:
    from urllib.parse import urlsplit
    return urlsplit(ctx.env.get("LAKE_URI", "")).path or "/"


def hdfs_init(ctx: StackContext) -> None:
    """One-shot (the compose file's ``hdfs-init``): lake root and the Hive warehouse, writable by all."""
    for path in dict.fromkeys((lake_root(ctx), "/user", "/user/hive", WAREHOUSE, "/tmp")):
        _webhdfs_put(ctx, path, "MKDIRS")
        _webhdfs_put(ctx, path, "SETPERMISSION", permission="1777" if path == "/tmp" else "777")


def hdfs_init_done(ctx: StackContext) -> bool:
    body = http_json(f"{webhdfs_url(ctx)}/webhdfs/v1{WAREHOUSE}?op=GETFILESTATUS&user.name=root")
    return bool(body and body.get("FileStatus", {}).get("permission") == "777")


NAMENODE_SERVICE = Service(
    name="namenode", version=VERSION, install=install, init=init_namenode,
    command=lambda ctx: _java_cmd(ctx, NAMENODE), ready=namenode_ready, ports=("namenode_rpc", "namenode_http"),
    url=lambda ctx: f"{webhdfs_url(ctx)}/explorer.html", start_timeout_s=120,
)
DATANODE_SERVICE = Service(
    name="datanode", version=VERSION, depends_on=("namenode",), install=install, init=lambda ctx: render(ctx),
    command=lambda ctx: _java_cmd(ctx, DATANODE), ready=datanode_ready, ports=("datanode_http", "datanode_data", "datanode_ipc"),
    url=lambda ctx: f"http://127.0.0.1:{ctx.port('datanode_http')}", start_timeout_s=120,
)
HDFS_INIT_SERVICE = Service(
    name="hdfs-init", version=VERSION, depends_on=("namenode", "datanode"), oneshot=True,
    command=lambda ctx: [], init=hdfs_init, ready=hdfs_init_done,
    url=lambda ctx: f"{webhdfs_url(ctx)}/explorer.html#{WAREHOUSE}",
)
