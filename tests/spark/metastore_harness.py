"""A standalone Hive Metastore (thrift) from the pyspark wheel's Hive 2.3 jars, for tests and local use.

It speaks the same protocol as the stack's metastore, so registering tables through it checks
the real catalog path (``HIVE_METASTORE_URI=thrift://...``), not only Spark's embedded Derby.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pyspark

from spotify_core.errors import PipelineError

SITE = """<?xml version="1.0"?>
<configuration>
  <property><name>javax.jdo.option.ConnectionURL</name><value>jdbc:derby:;databaseName={db};create=true</value></property>
  <property><name>datanucleus.schema.autoCreateAll</name><value>true</value></property>
  <property><name>hive.metastore.schema.verification</name><value>false</value></property>
  <property><name>hive.metastore.warehouse.dir</name><value>{warehouse}</value></property>
</configuration>
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StandaloneMetastore:
    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log = workdir / "metastore.log"

    @property
    def uri(self) -> str:
        return f"thrift://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> StandaloneMetastore:
        conf = self.workdir / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "hive-site.xml").write_text(SITE.format(db=self.workdir / "metastore_db",
                                                        warehouse=self.workdir / "warehouse"))
        jars = Path(pyspark.__file__).parent / "jars"
        cmd = ["java", "-Xmx512m",
               "-Dlog4j2.contextSelector=org.apache.logging.log4j.core.selector.ClassLoaderContextSelector",
               f"-Dderby.system.home={self.workdir}", "-cp", f"{conf}:{jars}/*",
               "org.apache.hadoop.hive.metastore.HiveMetaStore", "-p", str(self.port)]
        with open(self.log, "w") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PipelineError(f"metastore exited ({self.proc.returncode}): {self._tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise PipelineError(f"metastore not listening on {self.port} after {timeout:.0f}s: {self._tail()}")

    def _tail(self) -> str:
        return " | ".join(self.log.read_text(errors="replace").splitlines()[-3:]) if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> StandaloneMetastore:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
