"""`spotify-pipeline stack jdbc`: what a person types into Tableau, from the stack's own port table."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_stack_jdbc_prints_the_verified_driver_and_the_url(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "STACK_TRINO_PORT": "8381",
           "COMPOSE_PROJECT_NAME": "spotify-platform-jdbc-test"}  # no such stack runs: the port comes from the variable
    proc = subprocess.run([sys.executable, "-m", "spotify_pipeline.cli", "stack", "jdbc"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(":", 1) for line in proc.stdout.splitlines())
    assert lines["JDBC URL"].strip() == "jdbc:trino://localhost:8381/hive/warehouse"
    assert lines["driver class"].strip() == "io.trino.jdbc.TrinoDriver"
    jar = Path(lines["driver jar"].strip())
    assert jar.name == "trino-jdbc-476.jar" and jar.with_name(jar.name + ".verified").exists()
    with zipfile.ZipFile(jar) as zf:   # the driver a JVM loads through java.sql.Driver's service file
        assert zf.read("META-INF/services/java.sql.Driver").decode().strip() == "io.trino.jdbc.TrinoDriver"
