"""Tableau's (and Metabase's, Superset's) way into the stack's Trino: the Trino JDBC driver and URL.

BI tools connect through ``io.trino:trino-jdbc`` of the server's version. The driver jar is fetched
from Maven Central into the stack cache, checksum-verified, so ``spotify-pipeline stack jdbc`` can
print the file a user drops into Tableau's driver folder and the URL to type
(``jdbc:trino://HOST:PORT/hive/warehouse``; any user name, no password on http).
"""

from __future__ import annotations

from pathlib import Path

from spotify_pipeline.stack.downloads import maven_artifact

TRINO_VERSION = "476"   # the server's (docker/trino/Dockerfile); the driver must match it
DRIVER_CLASS = "io.trino.jdbc.TrinoDriver"
CATALOG = "hive"
BI_SCHEMA = "warehouse"


def driver_jar(cache: Path) -> Path:
    """``trino-jdbc-<server version>.jar`` in ``cache`` (downloaded and verified once)."""
    return maven_artifact(cache, f"io.trino:trino-jdbc:{TRINO_VERSION}")


def url_at(host: str, port: int, schema: str = BI_SCHEMA) -> str:
    return f"jdbc:trino://{host}:{port}/{CATALOG}/{schema}"


def describe_at(cache: Path, host: str, port: int) -> str:
    """The lines a person needs to connect a BI tool to a Trino at ``host:port`` (printed by ``stack jdbc``)."""
    return "\n".join([
        f"driver jar:   {driver_jar(cache)}",
        f"driver class: {DRIVER_CLASS}",
        f"JDBC URL:     {url_at(host, port)}",
        f"catalog:      {CATALOG}    schemas: bronze, silver, gold, {BI_SCHEMA}",
        "user:         any name (e.g. tableau); no password, no SSL (plain http)",
    ])
