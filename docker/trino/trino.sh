#!/bin/bash
# Trino's config comes from the repository (trino/etc, trino/catalog, mounted read-only under
# /etc/trino); the node's advertised address is fixed here: a node that detects its own address
# picks whatever interface it sees first, and queries fail with REMOTE_TASK_ERROR when that one goes.
set -euo pipefail
etc=/tmp/trino-etc
rm -rf "$etc" && mkdir -p "$etc" && cp -r /etc/trino/. "$etc/"
{ echo; echo "node.internal-address=${TRINO_INTERNAL_ADDRESS:-trino}"; } >> "$etc/node.properties"
exec /opt/trino/bin/launcher run --etc-dir="$etc" --data-dir=/data/trino
