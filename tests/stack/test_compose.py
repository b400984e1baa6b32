"""Static checks of the Docker Compose stack (no Docker engine runs here; these are what we can check)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ONE_SHOT = {"airflow-init", "hdfs-init", "hive-metastore-init"}


def test_every_long_running_service_has_a_real_healthcheck() -> None:
    for name, svc in SERVICES.items():
        if name in ONE_SHOT:
            continue
        test = svc.get("healthcheck", {}).get("test")
        assert test, f"{name} has no healthcheck"
        command = " ".join(test) if isinstance(test, list) else test
        assert re.search(r"curl|pg_isready|mongosh|/dev/tcp|airflow jobs check", command), name
    assert '"starting":false' in " ".join(SERVICES["trino"]["healthcheck"]["test"])


def test_depends_on_always_names_a_condition() -> None:
    for name, svc in SERVICES.items():
        deps = svc.get("depends_on", {})
        assert isinstance(deps, dict), f"{name}: depends_on must be a mapping with conditions"
        for dep, spec in deps.items():
            assert dep in SERVICES, f"{name} depends on unknown {dep}"
            expected = "service_completed_successfully" if dep in ONE_SHOT else "service_healthy"
            assert spec["condition"] == expected, f"{name} -> {dep}"


def test_start_order_follows_health() -> None:
    assert "postgres" in SERVICES["hive-metastore-init"]["depends_on"]
    assert "hive-metastore-init" in SERVICES["hive-metastore"]["depends_on"]
    assert "hdfs-init" in SERVICES["hive-metastore"]["depends_on"]
    assert "hive-metastore" in SERVICES["trino"]["depends_on"]
    assert "namenode" in SERVICES["hdfs-init"]["depends_on"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert SERVICES[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_images_are_pinned() -> None:
    for name, svc in SERVICES.items():
        image = svc.get("image", "")
        assert re.match(r"^[\w./-]+:[\w.-]+$", image) and not image.endswith(":latest"), f"{name}: {image!r}"


def test_airflow_services_share_the_anchor_and_the_contract_environment() -> None:
    airflow = [n for n in SERVICES if n.startswith("airflow-")]
    assert SERVICES["jupyter"]["environment"]["TRINO_HOST"] == "trino"
    assert len(airflow) == 5
    env = SERVICES["airflow-apiserver"]["environment"]
    for var in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_API_BASE_URL", "SPOTIFY_TOKEN_URL",
                "KWORB_BASE_URL", "DATA_DIR", "MONGO_URI", "MONGO_DB", "LAKE_URI", "WEBHDFS_URL",
                "HIVE_METASTORE_URI", "TRINO_HOST", "TRINO_PORT", "TRINO_USER", "TRINO_CATALOG",
                "AIRFLOW_CONN_SPARK_DEFAULT"):
        assert var in env, var
        for name in airflow:
            assert var in SERVICES[name]["environment"], (name, var)
    assert env["LAKE_URI"] == "hdfs://namenode:8020" and env["HIVE_METASTORE_URI"] == "thrift://hive-metastore:9083"
    assert "spark://spark-master" in env["AIRFLOW_CONN_SPARK_DEFAULT"]


def test_trino_catalog_points_at_the_metastore_service() -> None:
    props = dict(line.split("=", 1) for line in (ROOT / "trino/catalog/hive.properties").read_text().splitlines()
                 if "=" in line)
    assert props["connector.name"] == "hive"
    assert props["hive.metastore.uri"] == "thrift://hive-metastore:9083"
    assert "9083:9083" in SERVICES["hive-metastore"]["ports"]


def test_host_ports_do_not_collide() -> None:
    ports = [p.split(":")[0] for svc in SERVICES.values() for p in svc.get("ports", [])]
    assert len(ports) == len(set(ports))


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_mounted_and_built_files_exist(service) -> None:
    svc = SERVICES[service]
    for volume in svc.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).exists(), f"{service}: {source}"
    build = svc.get("build")
    if build:
        context = ROOT / build["context"]
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file()
        for line in dockerfile.read_text().splitlines():
            if line.startswith("COPY "):
                for src in line.split()[1:-1]:
                    if not src.startswith("--"):
                        assert (context / src).exists(), f"{dockerfile}: {src}"


# --- the seven defects found by reading the compose file against the images' entrypoints -----------

def test_metastore_schema_is_created_once_idempotently_not_skipped() -> None:
    """1: no IS_RESUME (skips schema creation on a fresh DB); an idempotent one-shot creates it instead."""
    for name in ("hive-metastore", "hive-metastore-init"):
        assert "IS_RESUME" not in SERVICES[name].get("environment", {}), name
    init = SERVICES["hive-metastore-init"]
    script = (ROOT / init["build"]["context"] / Path(init["command"][0]).name).read_text()
    assert "SchemaTool" in script and "-create" in script and "-initSchema" not in script
    assert SERVICES["hive-metastore"]["depends_on"]["hive-metastore-init"]["condition"] == \
        "service_completed_successfully"


def test_airflow_data_volume_is_created_by_the_image_as_airflow() -> None:
    """2: a named volume takes the owner of the image's folder; the image must create DATA_DIR as airflow."""
    data_dir = SERVICES["airflow-apiserver"]["environment"]["DATA_DIR"]
    assert f"airflow-data:{data_dir}" in SERVICES["airflow-scheduler"]["volumes"]
    lines = (ROOT / "docker/airflow/Dockerfile").read_text().splitlines()
    user = "root"
    for line in lines:
        if line.startswith("USER "):
            user = line.split()[1]
        if line.startswith("RUN ") and f"mkdir -p {data_dir}" in line:
            assert user == "airflow", "DATA_DIR must be created as the airflow user"
            break
    else:
        raise AssertionError(f"the Airflow image never creates {data_dir}")


def test_the_users_hadoop_env_wins_over_the_example() -> None:
    """3: with several env_files the last one wins, so the optional user file must come last."""
    for name in ("namenode", "datanode"):
        files = [f["path"] for f in SERVICES[name]["env_file"]]
        assert files == ["hadoop.env.example", "hadoop.env"], name


def test_datanode_and_spark_hosts_have_stable_names() -> None:
    """4 and 5: DataNode and Spark driver/executors are reached by names other containers resolve."""
    assert SERVICES["datanode"]["hostname"] == "datanode"
    core = (ROOT / "docker/hadoop/core-site.xml").read_text()
    assert "<name>dfs.client.use.datanode.hostname</name><value>true</value>" in core
    scheduler = SERVICES["airflow-scheduler"]
    assert scheduler["hostname"] == scheduler["environment"]["SPARK_LOCAL_HOSTNAME"] == "airflow-scheduler"
    assert SERVICES["spark-worker"]["environment"]["SPARK_LOCAL_HOSTNAME"] == SERVICES["spark-worker"]["hostname"]


def test_hdfs_init_waits_for_safe_mode() -> None:
    """6: a restarted NameNode is read-only in safe mode; hdfs-init must wait before writing."""
    command = " ".join(SERVICES["hdfs-init"]["command"])
    assert command.index("Safemode") < command.index("op=MKDIRS")


def test_airflow_login_comes_from_env_not_a_generated_file() -> None:
    """7: the passwords file is written from AIRFLOW_ADMIN_USER/PASSWORD before the api-server starts."""
    env = SERVICES["airflow-apiserver"]["environment"]
    assert env["AIRFLOW_ADMIN_PASSWORD"] == "${AIRFLOW_ADMIN_PASSWORD:-admin}"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].startswith("${AIRFLOW_ADMIN_USER:-admin}:")
    entry = SERVICES["airflow-apiserver"]["entrypoint"]
    script = (ROOT / entry[-1].replace("/opt/project/", "")).read_text()
    assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in script and "AIRFLOW_ADMIN_PASSWORD" in script
    assert script.rstrip().endswith('exec /entrypoint "$@"')
