#!/usr/bin/env bash
# System packages the local stack (`make stack`) needs, installed only when absent (safe to run again):
# PostgreSQL server binaries, Maven (resolves the Hadoop jars), Java 17 (HDFS, Spark, metastore).
# Go (builds FerretDB once) and the Temurin JDK 25 (Trino 476) come with the machine image.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ] || missing+=(openjdk-17-jdk-headless)
if [ ${#missing[@]} -gt 0 ]; then
  echo "stack-prereqs: installing ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's postgresql package starts a system cluster on 5432; the stack runs its own on 5433 and leaves it be.
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || {
  echo "stack-prereqs: Go >= 1.22 is missing (needed once to build FerretDB); install it from the Go project" >&2; exit 1; }
ls -d /usr/lib/jvm/*25* >/dev/null 2>&1 || echo "stack-prereqs: warning: no JDK 25 under /usr/lib/jvm; Trino 476 needs Java >= 24" >&2
