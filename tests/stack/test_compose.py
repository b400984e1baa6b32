"""Static checks of the Compose stack: what reading the files can catch before any image is built."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ONE_SHOT = {"airflow-init", "hdfs-init", "hive-metastore-init"}
PORT = re.compile(r"^\$\{STACK_BIND_ADDRESS:-127\.0\.0\.1\}:\$\{(?P<var>STACK_\w+_PORT):-(?P<host>\d+)\}:(?P<container>.+)$")


def published(service: str) -> list[re.Match]:
    """The service's port mappings: ``${STACK_BIND_ADDRESS:-127.0.0.1}:${STACK_X_PORT:-HOST}:CONTAINER``."""
    out = []
    for mapping in SERVICES[service].get("ports", []):
        match = PORT.match(mapping)
        assert match, f"{service}: {mapping}"
        out.append(match)
    return out


def test_every_long_running_service_has_a_real_healthcheck() -> None:
    for name, svc in SERVICES.items():
        if name in ONE_SHOT:
            continue
        test = svc.get("healthcheck", {}).get("test")
        assert test, f"{name} has no healthcheck"
        command = " ".join(test) if isinstance(test, list) else test
        assert re.search(r"curl|pg_isready|mongosh|metastore-ready|trino-ready|airflow-component-healthy", command), name
    ready = (ROOT / "docker/trino/trino-ready.py").read_text()
    assert '"starting"' in ready and "system.runtime.nodes" in ready and "NO_NODES_AVAILABLE" in ready


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


def test_images_are_pinned_and_built_here_except_mongo() -> None:
    built = {svc["image"] for svc in SERVICES.values() if "build" in svc}
    for name, svc in SERVICES.items():
        image = svc.get("image", "")
        assert re.match(r"^[\w./-]+:[\w.-]+$", image) and not image.endswith(":latest"), f"{name}: {image!r}"
        if name != "mongo":
            assert image in built, f"{name}: {image} is not built by the project"
    assert "bde2020" not in (ROOT / "docker-compose.yml").read_text()


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
    assert [(m["host"], m["container"]) for m in published("hive-metastore")] == [("9083", "9083")]


def test_host_ports_do_not_collide() -> None:
    mappings = [m for name in SERVICES for m in published(name)]
    assert len({m["host"] for m in mappings}) == len({m["var"] for m in mappings}) == len(mappings)


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
            if line.startswith("COPY ") and "--from=" not in line:
                for src in line.split()[1:-1]:
                    if not src.startswith("--"):
                        assert list(context.glob(src)), f"{dockerfile}: {src}"


# --- the seven defects found by reading the compose file against the images' entrypoints -----------

def test_metastore_schema_is_created_once_idempotently_not_skipped() -> None:
    """1: no IS_RESUME (skips schema creation on a fresh DB); an idempotent one-shot creates it instead."""
    for name in ("hive-metastore", "hive-metastore-init"):
        assert "IS_RESUME" not in SERVICES[name].get("environment", {}), name
    init = SERVICES["hive-metastore-init"]
    script = (ROOT / "docker/platform" / init["command"][0]).read_text()
    assert "SchemaTool" in script and "-create" in script and "-initSchema" not in script
    assert SERVICES["hive-metastore"]["depends_on"]["hive-metastore-init"]["condition"] == \
        "service_completed_successfully"


def test_airflow_data_volume_is_created_by_the_image_as_airflow() -> None:
    """2: a named volume takes the owner of the image's folder; the image must create DATA_DIR as airflow."""
    data_dir = SERVICES["airflow-apiserver"]["environment"]["DATA_DIR"]
    assert f"airflow-data:{data_dir}" in SERVICES["airflow-scheduler"]["volumes"]
    dockerfile = (ROOT / "docker/platform/Dockerfile").read_text()
    assert f"mkdir -p {data_dir}" in dockerfile and "chown -R airflow:0 /opt/airflow" in dockerfile
    assert dockerfile.rstrip().splitlines()[-2] == "USER airflow"


def test_the_users_hadoop_env_wins_over_the_example() -> None:
    """3: with several env_files the last one wins, so the optional user file must come last."""
    for name in ("namenode", "datanode"):
        files = [f["path"] for f in SERVICES[name]["env_file"]]
        assert files == ["hadoop.env.example", "hadoop.env"], name


def test_datanode_and_spark_hosts_have_stable_names() -> None:
    """4 and 5: DataNode and Spark driver/executors are reached by names other containers resolve."""
    assert SERVICES["datanode"]["hostname"] == "datanode"
    assert SERVICES["trino"]["environment"]["TRINO_INTERNAL_ADDRESS"] == "trino"
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
    script = (ROOT / "docker/platform" / entry[-1]).read_text()
    assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in script and "AIRFLOW_ADMIN_PASSWORD" in script
    assert script.rstrip().endswith('exec "$@"')


# --- the stack as the host sees it ---------------------------------------------------------------

def test_every_published_port_binds_to_loopback_unless_opened() -> None:
    assert sum(len(published(name)) for name in SERVICES) >= 15


def test_webhdfs_redirects_name_a_datanode_the_host_reaches() -> None:
    """The DataNode advertises localhost and publishes its ports under the same numbers inside and out."""
    env = SERVICES["datanode"]["environment"]
    assert env["HDFS_CONF_dfs_datanode_hostname"] == "localhost"
    for m in published("datanode"):
        assert m["container"] == f"${{{m['var']}:-{m['host']}}}"   # the same number inside and out
        assert m["container"] in " ".join(env.values())
    core = (ROOT / "docker/hadoop/core-site.xml").read_text()
    assert "<name>dfs.client.use.datanode.hostname</name><value>false</value>" in core


def test_sources_settings_reach_the_services() -> None:
    env = SERVICES["airflow-scheduler"]["environment"]
    for var in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_API_BASE_URL", "SPOTIFY_TOKEN_URL",
                "KWORB_BASE_URL", "AUDIO_FEATURES_SOURCE", "GENRES_SOURCE", "RECCOBEATS_API_BASE_URL",
                "MUSICBRAINZ_API_BASE_URL", "MUSICBRAINZ_USER_AGENT"):
        assert env[var].startswith(f"${{{var}:-"), var
    assert "host.docker.internal:host-gateway" in SERVICES["airflow-scheduler"]["extra_hosts"]


DOCKERFILES = sorted(ROOT.glob("docker/*/Dockerfile"))


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_images_trust_the_extra_certificates_and_verify_downloads(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    assert re.search(r"^FROM debian:(bookworm|trixie)-slim", text, re.M), "built from a Debian base made here"
    assert "COPY docker/certs/ /usr/local/share/ca-certificates/" in text and "update-ca-certificates" in text
    assert "amd64" not in text, "nothing amd64-specific: arm64 users build the same file"
    assert not re.search(r"^(ARG|ENV)\s+\S*(PASSWORD|SECRET|TOKEN)", text, re.M | re.I), "no secret in a layer"
    for download in re.findall(r"curl -fsSL -o (\S+)", text):
        assert re.search(r"sha256sum -c", text) and download in text.split("sha256sum -c")[0], download
