#!/bin/bash
# Entrypoint of the platform image's services. WebHDFS redirects name the DataNode as the host sees it
# (localhost:PORT, so the NameNode UI's links work from a browser on the host); inside the stack that
# address is forwarded to the DataNode (WEBHDFS_DATANODE_FORWARD="PORT:datanode:PORT"), so the
# pipeline's WebHDFS writes work the same in a container as on the host.
set -euo pipefail
if [ -n "${WEBHDFS_DATANODE_FORWARD:-}" ]; then
  IFS=: read -r port host target <<< "$WEBHDFS_DATANODE_FORWARD"
  socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "TCP:$host:$target" &
fi
exec "$@"
