#!/usr/bin/env bash
# Writes the simple auth manager's passwords file from AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD (.env;
# documented defaults admin/admin), so the UI login is the configured one, then runs the image's entrypoint.
set -euo pipefail
python - <<'PY'
import json
import os

path = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
login = {os.environ.get("AIRFLOW_ADMIN_USER", "admin"): os.environ.get("AIRFLOW_ADMIN_PASSWORD", "admin")}
fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as fh:
    json.dump(login, fh)
os.replace(path + ".tmp", path)
PY
exec "$@"
