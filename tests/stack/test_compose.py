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


# --- drift: the compose stack and `make stack` run the same platform -------------------------------
# Compose names a service by host and a container port; the local stack runs every service on
# localhost at BASE_PORTS. This address book is the only translation allowed between the two.
ADDRESS_BOOK = {
    ("postgres", 5432): "postgres", ("mongo", 27017): "mongo",
    ("namenode", 8020): "namenode_rpc", ("namenode", 9870): "namenode_http",
    ("hive-metastore", 9083): "hive_metastore", ("trino", 8080): "trino",
    ("spark-master", 7077): "spark_master", ("spark-master", 8080): "spark_master_ui",
    ("airflow-apiserver", 8080): "airflow", ("jupyter", 8888): "jupyter", ("dashboard", 8501): "dashboard",
}
COMPOSE_ONLY = {"hive-metastore-init"}   # `make stack` creates the schema in the metastore's own init
LOCAL_ONLY: set[str] = set()


def _image_tag(service: str) -> str:
    return SERVICES[service]["image"].rsplit(":", 1)[1]


def _to_local(value: str) -> str:
    """A compose address (``scheme://host:port...``, ``host``) as the local stack spells it."""
    from spotify_pipeline.stack.service import BASE_PORTS

    def swap(match: re.Match) -> str:
        key = ADDRESS_BOOK.get((match["host"], int(match["port"])))
        return f"localhost:{BASE_PORTS[key]}" if key else match[0]

    return re.sub(r"(?P<host>[a-z][a-z-]*):(?P<port>\d+)", swap, value)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The local stack's context at STACK_PORT_OFFSET=0, as `make stack` builds it."""
    from spotify_pipeline.settings import load_settings
    from spotify_pipeline.stack.context import build_context

    data = tmp_path_factory.mktemp("drift")
    return build_context(load_settings({"DATA_DIR": str(data)}), "full")


def test_published_ports_are_the_local_stacks() -> None:
    from spotify_pipeline.stack.service import BASE_PORTS

    for name, svc in SERVICES.items():
        for mapping in svc.get("ports", []):
            host, container = (int(p) for p in mapping.split(":"))
            key = ADDRESS_BOOK.get((name, container))
            assert key, f"{name}:{container} is published but not in the address book"
            assert BASE_PORTS[key] == host, f"{name}: compose publishes {host}, make stack uses {BASE_PORTS[key]}"


def test_service_names_are_the_same() -> None:
    from spotify_pipeline.stack.services import for_profile

    local_names = {s.name for s in for_profile("full")}
    assert local_names - LOCAL_ONLY == set(SERVICES) - COMPOSE_ONLY


def test_versions_are_the_same() -> None:
    from spotify_pipeline.stack import airflow, hdfs, hive_metastore, postgres, spark, trino

    assert _image_tag("trino") == trino.TRINO_VERSION
    assert _image_tag("hive-metastore") == _image_tag("hive-metastore-init") == hive_metastore.HIVE_VERSION
    spark_dockerfile = (ROOT / "docker/spark/Dockerfile").read_text()
    assert f"pyspark=={spark.version()}" in spark_dockerfile and _image_tag("spark-master") == spark.version()
    assert f"postgresql-{hive_metastore.POSTGRES_JDBC_VERSION}.jar" in spark_dockerfile
    assert (hive_metastore.pyspark_jars() / f"hive-metastore-{hive_metastore.HIVE_VERSION}.jar").exists()
    airflow_image = (ROOT / "docker/airflow/Dockerfile").read_text()
    assert f"FROM apache/airflow:{airflow.VERSION}-python3.11" in airflow_image
    assert _image_tag("postgres").split(".")[0] == postgres.VERSION
    # No image of Hadoop 3.5 exists: the compose stack keeps the same major line.
    hadoop = re.search(r"hadoop(\d+)\.", _image_tag("namenode"))
    assert hadoop and hadoop[1] == hdfs.VERSION.split(".")[0]


def test_trino_catalog_is_the_same_file_with_local_addresses(local) -> None:
    from spotify_pipeline.stack import trino

    mounts = " ".join(SERVICES["trino"]["volumes"])
    assert "./trino/catalog:/etc/trino/catalog" in mounts
    repo = trino.read_properties(ROOT / "trino/catalog/hive.properties")
    rendered_path = trino.etc_dir(local) / "catalog" / "hive.properties"
    rendered_text = trino.rendered_files(local)[rendered_path]
    rendered = dict(line.split("=", 1) for line in rendered_text.splitlines() if "=" in line and not line.startswith("#"))
    assert rendered.keys() == repo.keys()
    for key, value in repo.items():
        if key == "hive.config.resources":   # a path inside the container vs the state dir
            continue
        assert rendered[key] == _to_local(value), key


def test_metastore_uri_and_lake_root_are_the_same(local) -> None:
    from spotify_pipeline.stack import hdfs, hive_metastore

    env = SERVICES["airflow-apiserver"]["environment"]
    catalog = (ROOT / "trino/catalog/hive.properties").read_text()
    site = (ROOT / "hive/conf/hive-site.xml").read_text()
    assert f"hive.metastore.uri={env['HIVE_METASTORE_URI']}" in catalog
    assert f"<value>{env['HIVE_METASTORE_URI']}</value>" in site
    assert _to_local(env["HIVE_METASTORE_URI"]) == local.env["HIVE_METASTORE_URI"] == hive_metastore.uri(local)
    assert _to_local(env["LAKE_URI"]) == local.env["LAKE_URI"] == hdfs.fs_uri(local)
    assert _to_local(env["WEBHDFS_URL"]) == local.env["WEBHDFS_URL"]
    warehouse = re.search(r"<name>hive.metastore.warehouse.dir</name><value>([^<]+)</value>", site)[1]
    assert _to_local(warehouse) == hive_metastore.warehouse_dir(local)
    assert "/user/hive/warehouse" in " ".join(SERVICES["hdfs-init"]["command"])


def test_the_pipeline_env_contract_is_the_same(local) -> None:
    """Every variable the local stack gives the pipeline, compose gives too, with the same meaning."""
    import json

    from spotify_pipeline.stack import airflow
    from spotify_pipeline.stack.context import STACK_VARS

    compose_env = SERVICES["airflow-scheduler"]["environment"]
    for var in STACK_VARS:
        assert var in compose_env, var
        compose_value, local_value = compose_env[var], local.env[var]
        if var == "AIRFLOW_CONN_SPARK_DEFAULT":
            compose_conn, local_conn = json.loads(compose_value), json.loads(local_value)
            compose_value = _to_local(f"{compose_conn['host']}:{compose_conn['port']}")
            local_value = f"{local_conn['host']}:{local_conn['port']}"
        elif var == "TRINO_HOST":
            compose_value = _to_local(f"{compose_value}:{compose_env['TRINO_PORT']}").split(":")[0]
        elif var == "TRINO_PORT":
            compose_value = _to_local(f"trino:{compose_value}").split(":")[1]
        assert _to_local(compose_value) == local_value, var
    local_airflow = airflow.airflow_env(local, light=False)
    for key in ("AIRFLOW__CORE__EXECUTOR", "AIRFLOW__CORE__AUTH_MANAGER", "AIRFLOW__CORE__PARALLELISM",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        assert key in compose_env and key in local_airflow, key
    for key in ("AIRFLOW__CORE__EXECUTOR", "AIRFLOW__CORE__AUTH_MANAGER", "AIRFLOW__CORE__PARALLELISM"):
        assert compose_env[key] == local_airflow[key], key
    assert compose_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].endswith(":admin")
    assert local_airflow["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].endswith(":admin")
