#!/usr/bin/env bash
# The thrift metastore: Hive 2.3.10 from the pyspark wheel's jars, hive-site.xml + core-site.xml mounted
# into /opt/metastore/conf (the password comes from HIVE_DB_PASSWORD, never from the file).
set -euo pipefail
exec java -Xmx512m \
  -Dlog4j2.contextSelector=org.apache.logging.log4j.core.selector.ClassLoaderContextSelector \
  -Djavax.jdo.option.ConnectionPassword="${HIVE_DB_PASSWORD}" \
  -cp "/opt/metastore/conf:/opt/metastore/lib/*:$SPARK_HOME/jars/*" \
  org.apache.hadoop.hive.metastore.HiveMetaStore -p 9083
