"""Test harness (never imported by production code): a BI tool's JDBC session against the stack's Trino.

Tableau, Metabase and Superset's JDBC path all run the Trino JDBC driver inside a JVM. So does this
harness: ``BiClient.java`` is compiled at test time with the JDK's ``javac`` and run with the driver
jar from the stack cache on its class path, calling ``DatabaseMetaData`` and ``executeQuery`` as a
BI tool does. (Not JPype/jaydebeapi: one JVM per pytest process that can never be restarted, beside
Spark's, and jaydebeapi's own type conversions would sit between the test and what the driver returns.)
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCE = Path(__file__).with_name("bi") / "BiClient.java"


class JdbcError(Exception):
    """The driver raised SQLException: its message, as a BI tool would show it."""


@dataclass(frozen=True)
class BiClient:
    driver_jar: Path
    classes: Path
    url: str
    user: str = "tableau"

    @classmethod
    def build(cls, driver_jar: Path, workdir: Path, url: str) -> BiClient:
        javac = shutil.which("javac")   # a fresh machine has only the JRE Spark needs: make test installs a JDK
        assert javac, "javac missing: run `make test-prereqs` (make test does)"
        workdir.mkdir(parents=True, exist_ok=True)
        subprocess.run([javac, "-d", str(workdir), str(SOURCE)], check=True, capture_output=True, timeout=120)
        return cls(driver_jar, workdir, url)

    def command(self, *args: str) -> list[str]:
        return ["java", "-Xmx256m", "-cp", f"{self.driver_jar}:{self.classes}", "BiClient", self.url, self.user, *args]

    def start_query(self, sql: str) -> subprocess.Popen:
        """A query left running in the background (fault drills): ``finish`` reads its answer."""
        return subprocess.Popen(self.command("query", sql), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    @staticmethod
    def finish(proc: subprocess.Popen, timeout: float = 300) -> dict:
        out, err = proc.communicate(timeout=timeout)
        return BiClient._answer(proc.returncode, out, err)

    @staticmethod
    def _answer(code: int, out: str, err: str) -> dict:
        if code == 3:
            raise JdbcError(json.loads(out)["error"])
        assert code == 0, err[-2000:]
        return json.loads(out)

    def _run(self, *args: str, timeout: float = 300) -> dict:
        proc = subprocess.run(self.command(*args), capture_output=True, text=True, timeout=timeout, check=False)
        return self._answer(proc.returncode, proc.stdout, proc.stderr)

    def metadata(self, catalog: str, schema: str, table: str) -> dict:
        return self._run("metadata", catalog, schema, table)

    def query(self, sql: str, timeout: float = 300) -> dict:
        return self._run("query", sql, timeout=timeout)
