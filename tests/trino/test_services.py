"""The metastore and Trino services without starting them: rendered config, JDK choice, unpacking."""

from __future__ import annotations

import io
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from spotify_pipeline.errors import PipelineError
from spotify_pipeline.stack import hive_metastore, trino
from spotify_pipeline.stack.service import StackContext

REPO = Path(__file__).resolve().parents[2]


def ctx(tmp_path: Path, offset: int = 100, lake: str = "hdfs://localhost:8120") -> StackContext:
    return StackContext(repo=REPO, cache=tmp_path / "cache", state=tmp_path / "state", logs=tmp_path / "logs",
                        venv_bin=tmp_path / "bin", port_offset=offset, env={"LAKE_URI": lake})


def site(text: str) -> dict[str, str]:
    return {p.findtext("name"): p.findtext("value") for p in ET.fromstring(text).findall("property")}


def test_hive_site_is_the_compose_file_with_local_endpoints(tmp_path) -> None:
    rendered = site(hive_metastore.hive_site(ctx(tmp_path)))
    repo = site((REPO / "hive" / "conf" / "hive-site.xml").read_text())
    assert set(repo) <= set(rendered)  # nothing of the compose stack's file is dropped
    assert rendered["javax.jdo.option.ConnectionURL"] == "jdbc:postgresql://localhost:5533/metastore"
    assert rendered["hive.metastore.uris"] == "thrift://localhost:9183"
    assert rendered["hive.metastore.warehouse.dir"] == "hdfs://localhost:8120/user/hive/warehouse"
    assert rendered["javax.jdo.option.ConnectionUserName"] == "hive"
    assert rendered["hive.metastore.schema.verification"] == "false"
    core = site(hive_metastore.core_site(ctx(tmp_path)))
    assert core == {"fs.defaultFS": "hdfs://localhost:8120", "dfs.client.use.datanode.hostname": "true"}


def test_a_file_lake_keeps_the_warehouse_local(tmp_path) -> None:
    c = ctx(tmp_path, lake="file:///tmp/lake")
    assert site(hive_metastore.hive_site(c))["hive.metastore.warehouse.dir"].startswith(f"file://{c.state}")


def test_trino_config_is_the_repo_files_with_local_ports(tmp_path) -> None:
    c = ctx(tmp_path, offset=1000, lake="hdfs://localhost:9020")
    files = {p.relative_to(trino.etc_dir(c)).as_posix(): text for p, text in trino.rendered_files(c).items()}
    props = {name: dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
             for name, text in files.items() if name.endswith(".properties")}
    for name in ("config.properties", "node.properties", "log.properties", "catalog/hive.properties"):
        source = REPO / "trino" / ("catalog" if name.startswith("catalog") else "etc") / Path(name).name
        assert set(trino.read_properties(source)) == set(props[name]), name  # same keys as compose's files
    assert props["config.properties"]["http-server.http.port"] == "9081"
    assert props["config.properties"]["discovery.uri"] == "http://localhost:9081"
    assert props["node.properties"]["node.data-dir"] == str(c.state / "trino" / "data")
    hive = props["catalog/hive.properties"]
    assert hive["connector.name"] == "hive" and hive["fs.hadoop.enabled"] == "true"
    assert hive["hive.metastore.uri"] == "thrift://localhost:10083"
    assert hive["hive.config.resources"] == str(trino.etc_dir(c) / "hadoop" / "core-site.xml")
    assert site(files["hadoop/core-site.xml"])["fs.defaultFS"] == "hdfs://localhost:9020"
    assert files["jvm.config"] == (REPO / "trino" / "etc" / "jvm.config").read_text()


def fake_jdk(root: Path, name: str, version: str) -> Path:
    jdk = root / name
    (jdk / "bin").mkdir(parents=True)
    (jdk / "bin" / "java").write_text("")
    (jdk / "release").write_text(f'JAVA_VERSION="{version}"\n')
    return jdk


def test_trino_runs_on_the_newest_jdk_and_refuses_an_old_one(tmp_path) -> None:
    fake_jdk(tmp_path, "java-17-openjdk-amd64", "17.0.15")
    with pytest.raises(PipelineError, match=r"^trino: Trino 476 needs Java >= 24 .*install a JDK 25"):
        trino.java_home(tmp_path)
    jdk25 = fake_jdk(tmp_path, "temurin-25-jdk-amd64", "25.0.1")
    fake_jdk(tmp_path, "jdk-21", "21.0.2")
    assert trino.java_home(tmp_path) == jdk25


def test_unpack_keeps_the_hive_plugin_even_where_its_jars_are_hard_links(tmp_path) -> None:
    """The real tarball stores plugin/hive's jars as hard links into other plugins that are pruned."""
    tarball = tmp_path / "trino-server-476.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(f"trino-server-476/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add("lib/trino-main.jar", b"main")
        add("plugin/delta-lake/shared.jar", b"shared bytes")
        add("plugin/hive/hdfs/hadoop.jar", b"hadoop")
        link = tarfile.TarInfo("trino-server-476/plugin/hive/shared.jar")
        link.type, link.linkname = tarfile.LNKTYPE, "trino-server-476/plugin/delta-lake/shared.jar"
        tar.addfile(link)
    dest = tmp_path / "cache" / "trino-server-476"
    dest.parent.mkdir()
    trino._unpack(tarball, dest)
    assert sorted(p.name for p in (dest / "plugin").iterdir()) == ["hive"]
    assert (dest / "plugin" / "hive" / "shared.jar").read_bytes() == b"shared bytes"
    assert (dest / "plugin" / "hive" / "hdfs" / "hadoop.jar").read_bytes() == b"hadoop"
    assert (dest / "lib" / "trino-main.jar").exists()
    assert [p.name for p in dest.parent.iterdir()] == ["trino-server-476"]  # no temporary folder left


def test_probes_say_not_ready_when_nothing_listens(tmp_path) -> None:
    c = ctx(tmp_path, offset=40000)  # ports nobody uses
    assert hive_metastore.ready(c) is False and trino.ready(c) is False


def test_metastore_probe_is_a_thrift_call_not_a_port_check(tmp_path) -> None:
    """A port that accepts connections but speaks something else (here HTTP) is not a ready metastore."""
    import contextlib
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer() -> None:
        for _ in range(2):
            conn, _ = server.accept()
            with conn, contextlib.suppress(OSError):
                conn.recv(1024)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    c = ctx(tmp_path, offset=port - 9083)
    with server:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()  # the port is open...
        assert hive_metastore.ready(c) is False  # ...but no thrift reply came back
