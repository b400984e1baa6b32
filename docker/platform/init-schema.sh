#!/usr/bin/env bash
# One-shot (hive-metastore-init): create the Hive 2.3.10 metastore schema in PostgreSQL with DataNucleus'
# SchemaTool over the metastore jar's own package.jdo. It only adds tables and keys that are missing, so
# it is idempotent: a restart of the stack runs it again harmlessly.
set -euo pipefail
work=$(mktemp -d)
jars="$SPARK_HOME/jars"
python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("package.jdo"))' \
  "$jars/hive-metastore-2.3.10.jar" "$work/package.jdo"
cat > "$work/datanucleus.properties" <<PROPS
datanucleus.ConnectionDriverName=org.postgresql.Driver
datanucleus.ConnectionURL=${METASTORE_JDBC_URL}
datanucleus.ConnectionUserName=hive
datanucleus.ConnectionPassword=${HIVE_DB_PASSWORD}
datanucleus.identifierFactory=datanucleus1
datanucleus.rdbms.useLegacyNativeValueStrategy=true
PROPS
java -Xmx512m -cp "/opt/metastore/lib/*:$jars/*" org.datanucleus.store.schema.SchemaTool \
  -create -api JDO -props "$work/datanucleus.properties" "$work/package.jdo" | tee "$work/schematool.log"
grep -q "completed successfully" "$work/schematool.log"
