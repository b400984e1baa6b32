#!/bin/bash
# hdfs-daemon namenode|datanode|init: renders core-site.xml and hdfs-site.xml from the environment
# (CORE_CONF_* / HDFS_CONF_*, the names of hadoop.env.example: `_` -> `.`, `__` -> `_`, `___` -> `-`)
# and runs the daemon in the foreground. The NameNode is formatted once, on an empty volume.
set -euo pipefail
conf=$HADOOP_CONF_DIR
render() {  # render PREFIX FILE
  {
    echo '<?xml version="1.0"?>'
    echo "<!-- rendered at start by hdfs-daemon from the $1* environment -->"
    echo '<configuration>'
    env | grep "^$1" | sort | while IFS='=' read -r key value; do
      name=$(echo "${key#"$1"}" | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
      value=${value//&/&amp;}; value=${value//</&lt;}
      echo "  <property><name>$name</name><value>$value</value></property>"
    done
    echo '</configuration>'
  } > "$conf/$2"
}
render CORE_CONF_ core-site.xml
render HDFS_CONF_ hdfs-site.xml
cat > "$conf/log4j.properties" <<'LOG'
log4j.rootLogger=INFO,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
LOG
java() {
  exec "$JAVA_HOME/bin/java" ${HDFS_HEAP:--Xmx256m} -XX:+UseSerialGC -Djava.net.preferIPv4Stack=true \
    -Dhadoop.log.dir=/tmp -Dhadoop.home.dir=/opt/hadoop \
    -cp "$conf:/opt/hadoop/web:/opt/hadoop/jars/*" "$@"
}
case "${1:-}" in
  namenode)
    if [ ! -f /hadoop/dfs/name/current/VERSION ]; then
      echo "hdfs-daemon: formatting the NameNode (empty volume)"
      "$JAVA_HOME/bin/java" -Xmx256m -cp "$conf:/opt/hadoop/jars/*" org.apache.hadoop.hdfs.server.namenode.NameNode \
        -format -nonInteractive -clusterId spotify
    fi
    java org.apache.hadoop.hdfs.server.namenode.NameNode ;;
  datanode)
    java org.apache.hadoop.hdfs.server.datanode.DataNode ;;
  *) echo "usage: hdfs-daemon namenode|datanode" >&2; exit 2 ;;
esac
