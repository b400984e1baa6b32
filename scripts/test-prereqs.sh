#!/usr/bin/env bash
# The system packages the suite uses, installed by `make test` / `make test-fast` (tests install nothing):
# Debian's chromium for the UI tests (Playwright's own browser download does not work here), a JDK's javac
# for the BI JDBC client, redis-server for the shared crawl budget's tests. Idempotent: only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0
bash scripts/apt-install.sh "${missing[@]}"
