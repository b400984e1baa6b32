"""The one declarative table of the local stack: the compose file's services, in its names.

Each entry is a :class:`~spotify_pipeline.stack.service.Service` defined in its own module; the
supervisor reads this table and nothing else. Order here is only for display; start order follows
``depends_on``.
"""

from __future__ import annotations

from spotify_pipeline.stack import (
    airflow,
    dashboard,
    ferretdb,
    hdfs,
    hive_metastore,
    jupyter,
    postgres,
    spark,
    trino,
)
from spotify_pipeline.stack.service import Service

SERVICES: tuple[Service, ...] = (
    postgres.SERVICE,
    ferretdb.SERVICE,
    hdfs.NAMENODE_SERVICE,
    hdfs.DATANODE_SERVICE,
    hdfs.HDFS_INIT_SERVICE,
    spark.MASTER_SERVICE,
    spark.WORKER_SERVICE,
    hive_metastore.SERVICE,
    trino.SERVICE,
    *airflow.SERVICES,   # the full profile's and the light profile's variants (same names)
    jupyter.SERVICE,
    dashboard.SERVICE,
)


def for_profile(profile: str) -> list[Service]:
    return [s for s in SERVICES if profile in s.profiles]
