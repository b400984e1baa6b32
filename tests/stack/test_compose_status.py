"""`stack status|env` from what `docker compose ps --format json` answers (no Docker needed here)."""

from __future__ import annotations

import json

from spotify_pipeline.stack import compose


def _container(service: str, state: str = "running", health: str = "healthy", exit_code: int = 0,
               ports: tuple[tuple[int, int], ...] = ()) -> dict:
    return {"Service": service, "State": state, "Health": health, "ExitCode": exit_code,
            "Image": f"spotify-platform/x:{service}",
            "Publishers": [{"URL": "127.0.0.1", "TargetPort": t, "PublishedPort": p, "Protocol": "tcp"}
                           for t, p in ports]}


# As Compose 2.40 prints it: one JSON object per line.
PS = [
    _container("namenode", ports=((9870, 10870), (8020, 9020))),
    _container("datanode", health="starting"),
    _container("hdfs-init", state="exited", health="", exit_code=0),
    _container("hive-metastore-init", state="exited", health="", exit_code=1),
    _container("trino", ports=((8080, 9081),)),
    _container("airflow-apiserver", ports=((8080, 9080),)),
    _container("mongo", ports=((27017, 28017),)),
    _container("spark-master", state="exited", health="", exit_code=137, ports=()),
]


def test_status_names_health_and_host_urls_from_the_published_ports() -> None:
    services = compose.status(PS)
    assert set(services) == {c["Service"] for c in PS}
    assert services["namenode"] == {"url": "http://localhost:10870/explorer.html", "healthy": True,
                                    "version": "Hadoop 3.5.0", "state": "running", "oneshot": False}
    assert services["trino"]["url"] == "http://localhost:9081" and services["trino"]["version"] == "Trino 476"
    assert services["datanode"]["healthy"] is False                    # running, healthcheck not passed yet
    assert services["hdfs-init"]["healthy"] is True                    # a one-shot that exited 0 is done
    assert services["hive-metastore-init"]["healthy"] is False         # ... one that failed is not
    assert services["spark-master"]["healthy"] is False                # a killed service
    assert services["airflow-apiserver"]["url"] == "http://localhost:9080"
    assert json.loads(json.dumps({"services": services}))             # the --json document is plain JSON


def test_pipeline_env_points_a_host_script_at_the_published_ports() -> None:
    env = compose.pipeline_env(PS)
    assert env == {"MONGO_URI": "mongodb://localhost:28017", "LAKE_URI": "hdfs://localhost:9020",
                   "WEBHDFS_URL": "http://localhost:10870", "TRINO_HOST": "localhost", "TRINO_PORT": "9081"}


def test_the_table_prints_every_ui_with_its_login() -> None:
    table = compose.render_table(compose.status(PS))
    rows = {line.split()[0]: line.split()[1] for line in table.splitlines()[1:len(PS) + 1]}
    assert rows["hdfs-init"] == "done" and rows["hive-metastore-init"] == "exited"
    assert rows["namenode"] == "healthy" and rows["datanode"] == "running"
    assert "airflow-apiserver  http://localhost:9080" in table and "admin / admin" in table


def test_ports_env_moves_every_published_port() -> None:
    env = compose.ports_env(1000)
    assert env["STACK_TRINO_PORT"] == "9081" and env["STACK_DATANODE_HTTP_PORT"] == "10864"
    assert len(env) == len(compose.HOST_PORTS) == 15
