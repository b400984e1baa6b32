"""The stack's Hive Metastore: thrift metastore 2.3.10 from the pyspark wheel's jars, on PostgreSQL.

Hive 2.3 is the line Spark 4.2's built-in Hive client and Trino both speak (Hive >= 4.0.1 dropped
``get_table``). Its jars come with the project's pinned pyspark, so the only download is the
PostgreSQL JDBC driver (Maven Central, checksum-verified). ``hive/conf/hive-site.xml`` (the compose
stack's file) is rendered with this machine's ports into the state dir, beside a rendered
``core-site.xml``. The wheel has no schema SQL scripts (Hive's ``schematool`` needs them), so ``init``
creates the schema with DataNucleus' own SchemaTool from the jar's ``package.jdo``: it adds only
what is missing (idempotent) and runs once (a stamp in the state dir). Creating it up front matters:
left to the server's lazy ``autoCreateAll``, PostgreSQL deadlocks on the first ``CREATE TABLE``
(a foreign key added on one connection waits for the open insert on another). The data stays in
the stack's PostgreSQL database ``metastore`` (role ``hive``).
"""

from __future__ import annotations

import socket
import struct
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping
from pathlib import Path

from spotify_pipeline.errors import PipelineError
from spotify_pipeline.stack.downloads import maven_artifact
from spotify_pipeline.stack.hdfs import JAVA_HOME
from spotify_pipeline.stack.service import Service, StackContext

NAME = "hive-metastore"
HIVE_VERSION = "2.3.10"                    # the pyspark 4.2.0 wheel's hive-metastore jar
POSTGRES_JDBC_VERSION = "42.7.4"           # the compose image's driver (docker/hive-metastore/Dockerfile)
DATABASE, USER, PASSWORD = "metastore", "hive", "hive"   # as docker/postgres/init-metastore-db.sh
HEAP = "-Xmx512m"


def pyspark_jars() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "jars"


def java() -> str:
    """Java 17, as for the Hadoop daemons (Hive 2.3 is not tested on newer JDKs)."""
    path = JAVA_HOME / "bin" / "java"
    if not path.exists():
        raise PipelineError(f"{NAME}: Java 17 is missing at {JAVA_HOME}; install it: "
                            "apt-get install -y openjdk-17-jdk-headless")
    return str(path)


def jdbc_jar(ctx: StackContext) -> Path:
    return maven_artifact(ctx.cache, f"org.postgresql:postgresql:{POSTGRES_JDBC_VERSION}")


def conf_dir(ctx: StackContext) -> Path:
    return ctx.state / "hive-metastore" / "conf"


def uri(ctx: StackContext) -> str:
    return f"thrift://localhost:{ctx.port('hive_metastore')}"


def fs_root(ctx: StackContext) -> str:
    """The stack's default filesystem: HDFS, or the lake's local folder when LAKE_URI is a file:// one."""
    lake = ctx.env.get("LAKE_URI", "")
    if lake.startswith("file://"):
        return "file:///"
    return f"hdfs://localhost:{ctx.port('namenode_rpc')}"


def warehouse_dir(ctx: StackContext) -> str:
    if fs_root(ctx) == "file:///":
        return f"file://{ctx.state / 'hive-metastore' / 'warehouse'}"
    return f"{fs_root(ctx)}/user/hive/warehouse"


def render_site(template: str, values: Mapping[str, str], header: str) -> str:
    """A Hadoop-style ``<configuration>`` file with ``values`` set (replaced or added), others kept."""
    root = ET.fromstring(template)
    existing = {p.findtext("name"): p for p in root.findall("property")}
    for name, value in values.items():
        prop = existing.get(name)
        if prop is None:
            prop = ET.SubElement(root, "property")
            ET.SubElement(prop, "name").text = name
            ET.SubElement(prop, "value")
        prop.find("value").text = value  # type: ignore[union-attr]
    lines = ['<?xml version="1.0"?>', f"<!-- {header} -->", "<configuration>"]
    for prop in root.findall("property"):
        lines.append(f"  <property><name>{_x(prop.findtext('name'))}</name>"
                     f"<value>{_x(prop.findtext('value'))}</value></property>")
    return "\n".join(lines + ["</configuration>", ""])


def _x(text: str | None) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def core_site(ctx: StackContext) -> str:
    """``docker/hadoop/core-site.xml`` with the local NameNode (clients reach the DataNode as ``localhost``)."""
    template = (ctx.repo / "docker" / "hadoop" / "core-site.xml").read_text()
    # here every client is on the host and reaches the DataNode by its name (localhost)
    return render_site(template, {"fs.defaultFS": fs_root(ctx), "dfs.client.use.datanode.hostname": "true"},
                       "rendered by `make stack` from docker/hadoop/core-site.xml")


def hive_site(ctx: StackContext) -> str:
    template = (ctx.repo / "hive" / "conf" / "hive-site.xml").read_text()
    values = {
        "javax.jdo.option.ConnectionURL": jdbc_url(ctx),
        "javax.jdo.option.ConnectionUserName": USER,
        "javax.jdo.option.ConnectionPassword": PASSWORD,
        "hive.metastore.uris": uri(ctx),
        "hive.metastore.warehouse.dir": warehouse_dir(ctx),
        "fs.defaultFS": fs_root(ctx),
        # init creates the schema; the server only fills in a table a later Hive release adds.
        "datanucleus.schema.autoCreateAll": "true",
    }
    return render_site(template, values, "rendered by `make stack` from hive/conf/hive-site.xml; do not edit")


def install(ctx: StackContext) -> None:
    jars = pyspark_jars()
    if not any(jars.glob(f"hive-metastore-{HIVE_VERSION}.jar")):
        raise PipelineError(f"{NAME}: hive-metastore-{HIVE_VERSION}.jar missing from {jars}; run `make install`")
    java()
    jdbc_jar(ctx)


def jdbc_url(ctx: StackContext) -> str:
    return f"jdbc:postgresql://localhost:{ctx.port('postgres')}/{DATABASE}"


def schema_command(ctx: StackContext) -> list[str]:
    """DataNucleus SchemaTool over the metastore's JDO mapping: creates every missing table and key."""
    work = ctx.state / "hive-metastore" / "schema"
    return [java(), HEAP, "-cp", f"{jdbc_jar(ctx)}:{pyspark_jars()}/*", "org.datanucleus.store.schema.SchemaTool",
            "-create", "-api", "JDO", "-props", str(work / "datanucleus.properties"), str(work / "package.jdo")]


def create_schema(ctx: StackContext) -> None:
    work = ctx.state / "hive-metastore" / "schema"
    stamp = work / "created"
    if stamp.exists() and stamp.read_text() == jdbc_url(ctx):
        return
    work.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(pyspark_jars() / f"hive-metastore-{HIVE_VERSION}.jar") as jar:
        (work / "package.jdo").write_bytes(jar.read("package.jdo"))
    (work / "datanucleus.properties").write_text("\n".join([
        "datanucleus.ConnectionDriverName=org.postgresql.Driver", f"datanucleus.ConnectionURL={jdbc_url(ctx)}",
        f"datanucleus.ConnectionUserName={USER}", f"datanucleus.ConnectionPassword={PASSWORD}",
        # HiveConf's defaults for these two, so the tables are the ones the server expects
        "datanucleus.identifierFactory=datanucleus1", "datanucleus.rdbms.useLegacyNativeValueStrategy=true", ""]))
    proc = subprocess.run(schema_command(ctx), capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0 or "completed successfully" not in proc.stdout + proc.stderr:
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-2:])
        raise PipelineError(f"{NAME}: creating the metastore schema in {jdbc_url(ctx)} failed: {tail}")
    stamp.write_text(jdbc_url(ctx))


def init(ctx: StackContext) -> None:
    """Render the config and create the schema (needs the stack's PostgreSQL up: it runs after it)."""
    conf = conf_dir(ctx)
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "hive-site.xml").write_text(hive_site(ctx))
    (conf / "core-site.xml").write_text(core_site(ctx))
    (ctx.state / "hive-metastore" / "work").mkdir(parents=True, exist_ok=True)
    create_schema(ctx)


def command(ctx: StackContext) -> list[str]:
    return [java(), HEAP,
            "-Dlog4j2.contextSelector=org.apache.logging.log4j.core.selector.ClassLoaderContextSelector",
            "-cp", f"{conf_dir(ctx)}:{jdbc_jar(ctx)}:{pyspark_jars()}/*",
            "org.apache.hadoop.hive.metastore.HiveMetaStore", "-p", str(ctx.port("hive_metastore"))]


# --- readiness: one real thrift call (TBinaryProtocol over a plain socket, as Hive 2.3 serves it) ---

def _tstring(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">i", len(data)) + data


def _recv(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("metastore closed the connection")
        buf += chunk
    return buf


def _read_string(sock: socket.socket) -> str:
    (n,) = struct.unpack(">i", _recv(sock, 4))
    return _recv(sock, n).decode()


def get_all_databases(host: str, port: int, timeout: float = 5.0) -> list[str]:
    """``ThriftHiveMetastore.get_all_databases()``: what Spark and Trino ask first, so a fair probe."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">I", 0x80010001) + _tstring("get_all_databases") + struct.pack(">i", 1) + b"\x00")
        (head,) = struct.unpack(">I", _recv(sock, 4))
        _read_string(sock)
        _recv(sock, 4)  # seqid
        if head & 0xFF != 2:  # not a REPLY (3 = application exception)
            raise ConnectionError("metastore answered with an exception")
        names: list[str] = []
        while True:
            (ftype,) = _recv(sock, 1)
            if ftype == 0:
                return names
            (fid,) = struct.unpack(">h", _recv(sock, 2))
            if fid != 0 or ftype != 15:  # o1: MetaException
                raise ConnectionError("metastore answered get_all_databases with an error")
            _elem, size = struct.unpack(">bi", _recv(sock, 5))
            names = [_read_string(sock) for _ in range(size)]


def ready(ctx: StackContext) -> bool:
    try:
        get_all_databases("127.0.0.1", ctx.port("hive_metastore"))
    except (OSError, ConnectionError, struct.error):
        return False
    return True


SERVICE = Service(
    name=NAME,
    version=HIVE_VERSION,
    command=command,
    ready=ready,
    url=uri,
    depends_on=("postgres", "hdfs-init"),
    install=install,
    init=init,
    cwd=lambda ctx: ctx.state / "hive-metastore" / "work",
    ports=("hive_metastore",),
    start_timeout_s=180.0,
)
