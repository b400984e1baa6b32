#!/usr/bin/env bash
# Create the project venv from the lock file (uv for speed), install the project editable, and make
# sure the system packages Spark needs (a Java runtime) are present. Safe to run again.
set -euo pipefail
venv=${1:-.venv}
cd "$(dirname "$0")/.."

# Spark needs a Java runtime (the browser the tests drive is scripts/test-prereqs.sh's, run by make test).
if ! command -v java >/dev/null 2>&1; then
  bash scripts/apt-install.sh openjdk-17-jre-headless
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check "uv>=0.13,<1"
# Bytecode compiled at install: uv leaves it to the first import, which never writes it where
# PYTHONDONTWRITEBYTECODE is set (as on this project's CI machine), so every process compiled Airflow,
# Spark's Python side and the crawler's libraries again (an Airflow import 6.8 s -> 4.2 s compiled).
# requirements-excludes.txt: what the lock leaves out, left out here too (uv would resolve it back in).
"$venv/bin/uv" pip install -q --compile-bytecode --python "$venv/bin/python" -r requirements.lock \
  --excludes requirements-excludes.txt
"$venv/bin/uv" pip install -q --python "$venv/bin/python" --no-deps -e .
# Objects no install can reach any more (superseded builds, every clone's own editable build) are
# dropped: left alone, uv's cache grew to 52 GB over a few hundred installs here and filled the disk.
"$venv/bin/uv" cache prune -q
echo "bootstrap: $("$venv/bin/python" --version), pyspark $("$venv/bin/python" -c 'import pyspark; print(pyspark.__version__)'), airflow $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("apache-airflow"))')"
