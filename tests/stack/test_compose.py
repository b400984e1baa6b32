"""Static checks of the Docker Compose stack (no Docker engine runs here; these are what we can check)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ONE_SHOT = {"airflow-init", "hdfs-init"}


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
    assert "postgres" in SERVICES["hive-metastore"]["depends_on"]
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
