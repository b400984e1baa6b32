"""The Compose stack for real: a fresh `docker compose up` from empty volumes, as a user starts it.

One stack per module (``compose_stack``), brought up from nothing with a sample API on the host as the
pipeline's Spotify and kworb (reached as ``host.docker.internal``), then: every service healthy, the
status contract, every published port on loopback only, the pipeline run through Airflow's REST API
into HDFS, the metastore and Trino, Trino over Tableau's JDBC path, and a file downloaded through the
NameNode UI's link from the host equal to the lake's bytes.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from crawler.sample_api.server import make_server
from tests.stack.compose_harness import REPO, ComposeStack, docker_ready, skip_or_fail

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.timeout(5400)]

ARTISTS = 4
CRAWL_DAG, SPOTIFY_DAG = "crawl_and_ingest_data_into_mongoDB", "Spotify_DAG"
SERVICES = set(yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"])


def host_address() -> str:
    """This machine's address on its default route (not loopback): what another host would connect to."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.123", 9))   # no packet is sent; the kernel picks the outgoing interface
        return s.getsockname()[0]


@pytest.fixture(scope="module")
def sample_api() -> Iterator:
    """The sample API on every interface of the host, so containers reach it as host.docker.internal."""
    api = make_server(ARTISTS, 11, host="0.0.0.0").start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture(scope="module")
def compose_stack(sample_api) -> Iterator[ComposeStack]:
    reason = docker_ready()
    if reason:
        skip_or_fail(reason)
    port = urllib.parse.urlsplit(sample_api.api_url).port
    base = f"http://host.docker.internal:{port}"
    stack = ComposeStack({
        "SPOTIFY_API_BASE_URL": f"{base}/v1", "SPOTIFY_TOKEN_URL": f"{base}/api/token",
        "KWORB_BASE_URL": f"{base}/kworb", "SPOTIFY_CLIENT_ID": sample_api.client_id,
        "SPOTIFY_CLIENT_SECRET": sample_api.client_secret, "SPOTIFY_REQUESTS_PER_SECOND": "1000",
        "CRAWL_SCHEDULE": "none", "AUDIO_FEATURES_SOURCE": "spotify", "GENRES_SOURCE": "spotify",
    })
    stack.down(volumes=True)      # every volume new: the fresh state a user's first `up` has
    try:
        yield stack.up()
    finally:
        logs = stack.compose("logs", "--no-color", "--tail", "80", timeout=120, check=False).stdout
        (REPO / "test-artifacts").mkdir(exist_ok=True)
        (REPO / "test-artifacts" / "compose-stack.log").write_text(logs)
        stack.down(volumes=True)


def test_fresh_up_brings_every_service_healthy(compose_stack) -> None:
    status = compose_stack.status()
    assert set(status) == SERVICES
    unhealthy = {name: s["state"] for name, s in status.items() if not s["healthy"]}
    assert unhealthy == {}


def test_every_published_port_listens_on_loopback_only(compose_stack) -> None:
    published = [(c["Service"], p) for c in compose_stack.containers() for p in c.get("Publishers") or []
                 if p.get("PublishedPort")]
    assert len(published) >= 15
    outside = host_address()
    for service, pub in published:
        assert pub["URL"] == "127.0.0.1", (service, pub)
        with socket.create_connection(("127.0.0.1", pub["PublishedPort"]), timeout=5):
            pass
        with pytest.raises(OSError), socket.create_connection((outside, pub["PublishedPort"]), timeout=5):
            pass


@pytest.fixture(scope="module")
def pipeline_run(compose_stack) -> dict:
    """The crawl triggered through Airflow's REST API, then ``Spotify_DAG`` started by the landing asset."""
    from tests.stack.airflow_rest import AirflowRest

    rest = AirflowRest(f"http://localhost:{compose_stack.port('STACK_AIRFLOW_PORT')}", "admin", "admin").login()
    rest.wait_for_dags({CRAWL_DAG, SPOTIFY_DAG}, timeout_s=600)
    rest.unpause(SPOTIFY_DAG)
    rest.unpause(CRAWL_DAG)
    run_id = rest.trigger(CRAWL_DAG, {"limit": ARTISTS}, None)
    crawl = rest.wait_for_run(CRAWL_DAG, run_id, timeout_s=1500)
    assert crawl["state"] == "success", rest.failed_tasks(CRAWL_DAG, run_id)
    spotify = rest.wait_for_run(SPOTIFY_DAG, timeout_s=2400)
    assert spotify["state"] == "success", rest.failed_tasks(SPOTIFY_DAG, spotify["dag_run_id"])
    landed = rest.xcom(CRAWL_DAG, run_id, "landing_stats")
    return {"crawl": crawl, "spotify": spotify, "landed": landed}


def test_the_pipeline_runs_through_the_stack_into_trino(compose_stack, pipeline_run) -> None:
    import trino

    landed = pipeline_run["landed"]
    assert pipeline_run["spotify"]["run_type"] == "asset_triggered"
    assert landed["tracks_raw"] > 0
    with trino.dbapi.connect(host="localhost", port=compose_stack.port("STACK_TRINO_PORT"), user="test",
                             catalog="hive") as con:
        cur = con.cursor()
        cur.execute("SELECT count(*) FROM warehouse.warehouse_track_dashboard")
        assert cur.fetchall()[0][0] == landed["tracks_raw"]
        cur.execute("SELECT node_id, http_uri FROM system.runtime.nodes")
        nodes = cur.fetchall()
    assert [urllib.parse.urlsplit(uri).hostname for _, uri in nodes] == ["trino"]   # its fixed address


def test_status_and_env_commands_read_the_containers(compose_stack, pipeline_run) -> None:
    env = {**compose_stack.env}
    proc = subprocess.run([sys.executable, "-m", "spotify_pipeline.cli", "stack", "status", "--json"], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    services = json.loads(proc.stdout)["services"]
    assert set(services) == SERVICES
    for name, s in services.items():
        assert s["healthy"] is True and s["version"], name
    assert services["namenode"]["url"] == f"http://localhost:{compose_stack.port('STACK_NAMENODE_HTTP_PORT')}/explorer.html"
    assert services["trino"]["url"] == f"http://localhost:{compose_stack.port('STACK_TRINO_PORT')}"
    assert requests.get(services["airflow-apiserver"]["url"] + "/api/v2/monitor/health", timeout=10).ok
    out = subprocess.run([sys.executable, "-m", "spotify_pipeline.cli", "stack", "env"], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    exported = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
    assert exported["LAKE_URI"] == f"hdfs://localhost:{compose_stack.port('STACK_NAMENODE_RPC_PORT')}"
    assert exported["TRINO_PORT"] == str(compose_stack.port("STACK_TRINO_PORT"))


def test_a_file_downloaded_through_the_namenode_ui_link_equals_the_lakes_bytes(compose_stack, pipeline_run) -> None:
    """The UI's download link (/webhdfs/v1/PATH?op=OPEN) redirects to the DataNode; it must work from the host."""
    webhdfs = f"http://localhost:{compose_stack.port('STACK_NAMENODE_HTTP_PORT')}"
    listing = requests.get(f"{webhdfs}/webhdfs/v1/user/hive/warehouse?op=LISTSTATUS", timeout=30)
    found = _first_parquet(webhdfs, "/")
    assert found, listing.text
    path, length = found
    link = requests.get(f"{webhdfs}/webhdfs/v1{path}?op=OPEN", allow_redirects=False, timeout=30)
    assert link.status_code == 307
    assert urllib.parse.urlsplit(link.headers["Location"]).hostname == "localhost"
    downloaded = requests.get(f"{webhdfs}/webhdfs/v1{path}?op=OPEN", timeout=60).content
    # the lake's bytes as the cluster itself reads them (HDFS RPC inside the NameNode's container)
    lake = compose_stack.compose("exec", "-T", "namenode", "bash", "-c",
                                 "$JAVA_HOME/bin/java -cp \"$HADOOP_CONF_DIR:/opt/hadoop/jars/*\" "
                                 f"org.apache.hadoop.fs.FsShell -cat {path} | base64 -w0", timeout=120)
    import base64

    assert len(downloaded) == length > 0
    assert downloaded == base64.b64decode(lake.stdout.strip())
    assert downloaded[:4] == b"PAR1"


def _first_parquet(webhdfs: str, path: str, depth: int = 0) -> tuple[str, int] | None:
    if depth > 8:
        return None
    body = requests.get(f"{webhdfs}/webhdfs/v1{path}?op=LISTSTATUS", timeout=30).json()
    for entry in body["FileStatuses"]["FileStatus"]:
        child = f"{path.rstrip('/')}/{entry['pathSuffix']}"
        if entry["type"] == "FILE" and child.endswith(".parquet") and entry["length"] > 0:
            return child, entry["length"]
        if entry["type"] == "DIRECTORY":
            found = _first_parquet(webhdfs, child, depth + 1)
            if found:
                return found
    return None


def test_trino_answers_tableaus_jdbc_session(compose_stack, pipeline_run, tmp_path: Path) -> None:
    from spotify_pipeline.settings import load_settings
    from spotify_pipeline.stack.downloads import maven_artifact
    from spotify_pipeline.stack.jdbc import url_at
    from tests.stack.bi import BiClient

    jar = maven_artifact(load_settings({}).stack_cache_dir, "io.trino:trino-jdbc:476")
    bi = BiClient.build(jar, tmp_path / "bi", url_at("localhost", compose_stack.port("STACK_TRINO_PORT")))
    rows = bi.query("SELECT count(*) FROM warehouse_track_dashboard")
    assert int(rows["rows"][0][0]) == pipeline_run["landed"]["tracks_raw"]   # the driver answers text
