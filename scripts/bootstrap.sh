#!/usr/bin/env bash
# Create the project venv from the lock file (uv for speed), install the project editable, and make
# sure the system packages Spark needs (a Java runtime) are present. Safe to run again.
set -euo pipefail
venv=${1:-.venv}
cd "$(dirname "$0")/.."

if ! command -v java >/dev/null 2>&1; then
  echo "bootstrap: installing a Java runtime for Spark"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq openjdk-17-jre-headless >/dev/null
fi

if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap: installing Debian's chromium for the dashboard's browser test"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check "uv>=0.5,<1"
"$venv/bin/uv" pip install -q --python "$venv/bin/python" -r requirements.lock
"$venv/bin/uv" pip install -q --python "$venv/bin/python" --no-deps -e .
echo "bootstrap: $("$venv/bin/python" --version), pyspark $("$venv/bin/python" -c 'import pyspark; print(pyspark.__version__)'), airflow $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("apache-airflow"))')"
