#!/bin/bash
# First start of postgres only: a database and user for the Hive metastore beside Airflow's.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE USER hive WITH PASSWORD '${HIVE_DB_PASSWORD:-hive}';
CREATE DATABASE metastore OWNER hive;
SQL
