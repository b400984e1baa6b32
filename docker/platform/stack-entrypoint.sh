#!/bin/bash
# Entrypoint of the platform image's services. WebHDFS redirects name the DataNode as the host sees it
# (localhost:PORT, so the NameNode UI's links work from a browser on the host); inside the stack that
# address is forwarded to the DataNode (WEBHDFS_DATANODE_FORWARD="PORT:datanode:PORT"), so the
# pipeline's WebHDFS writes work the same in a container as on the host.
set -euo pipefail
# The cluster profile has one DataNode per port: a comma-separated list of such forwards.
IFS=, read -r -a forwards <<< "${WEBHDFS_DATANODE_FORWARD:-}"
for forward in "${forwards[@]}"; do
  IFS=: read -r port host target <<< "$forward"
  socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "TCP:$host:$target" &
done
exec "$@"
