"""Healthcheck of the Hive metastore: one real thrift call, ``get_all_databases()`` (what Spark and Trino
ask first; the client is the installed package's ``spotify_pipeline.stack.metastore``). Exit 0 when it
answers."""

import struct
import sys

from spotify_pipeline.stack.metastore import get_all_databases

if __name__ == "__main__":
    try:
        get_all_databases(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1", 9083)
    except (OSError, struct.error):
        sys.exit(1)
    sys.exit(0)
