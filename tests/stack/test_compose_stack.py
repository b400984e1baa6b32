"""The Compose stack for real: a fresh `docker compose up` from empty volumes, as a user starts it.

The session's stack (``stack`` in tests/conftest.py: the cluster profile), brought up from nothing with a sample API on the
host as the pipeline's sources (reached as ``host.docker.internal``): every service healthy, the status
contract, every published port on loopback only, the pipeline run (the session's one, clicked in the
Airflow UI) into HDFS, the metastore and Trino, JupyterLab behind its token, and a file downloaded
through the NameNode UI's link from the host equal to the lake's bytes.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.parse

import pytest
import requests

from tests.stack.compose_harness import REPO, service_names

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.timeout(5400)]

CRAWL_DAG = "crawl_and_ingest_data_into_mongoDB"
# the session's stack: the cluster profile, the services of docker-compose.yml and docker-compose.cluster.yml
SERVICES = service_names("docker-compose.yml", "docker-compose.cluster.yml")


def host_address() -> str:
    """This machine's address on its default route (not loopback): what another host would connect to."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.123", 9))   # no packet is sent; the kernel picks the outgoing interface
        return s.getsockname()[0]


@pytest.fixture(scope="module")
def pipeline_run(airflow, ui_pipeline_run) -> dict:
    """The session's run and what its crawl landed (the ``landing_stats`` task's answer)."""
    crawl = ui_pipeline_run["crawl"]
    return {**ui_pipeline_run, "landed": airflow.xcom(CRAWL_DAG, crawl["dag_run_id"], "landing_stats")}


def test_fresh_up_brings_every_service_healthy(stack) -> None:
    status = stack.status()
    assert set(status) == SERVICES
    unhealthy = {name: s["state"] for name, s in status.items() if not s["healthy"]}
    assert unhealthy == {}


def test_every_published_port_listens_on_loopback_only(stack) -> None:
    published = [(c["Service"], p) for c in stack.containers() for p in c.get("Publishers") or []
                 if p.get("PublishedPort")]
    assert len(published) >= 15
    outside = host_address()
    for service, pub in published:
        assert pub["URL"] == "127.0.0.1", (service, pub)
        with socket.create_connection(("127.0.0.1", pub["PublishedPort"]), timeout=5):
            pass
        with pytest.raises(OSError), socket.create_connection((outside, pub["PublishedPort"]), timeout=5):
            pass


def test_the_pipeline_runs_through_the_stack_into_trino(stack, pipeline_run) -> None:
    import trino

    landed = pipeline_run["landed"]
    assert pipeline_run["spotify"]["run_type"] == "asset_triggered"
    assert landed["tracks_raw"] > 0
    with trino.dbapi.connect(host="localhost", port=stack.port("STACK_TRINO_PORT"), user="test",
                             catalog="hive") as con:
        cur = con.cursor()
        cur.execute("SELECT count(*) FROM warehouse.warehouse_track_dashboard")
        assert cur.fetchall()[0][0] == landed["tracks_raw"]
        cur.execute("SELECT node_id, http_uri FROM system.runtime.nodes")
        nodes = cur.fetchall()
    # each node announces its fixed address (its service name), as the workers' discovery needs
    assert sorted(urllib.parse.urlsplit(uri).hostname for _, uri in nodes) == ["trino", "trino-worker-1",
                                                                              "trino-worker-2"]


def test_status_and_env_commands_read_the_containers(stack, pipeline_run) -> None:
    env = {**stack.env}
    proc = subprocess.run([sys.executable, "-m", "spotify_pipeline.cli", "stack", "status", "--json"], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    services = json.loads(proc.stdout)["services"]
    assert set(services) == SERVICES
    for name, s in services.items():
        assert s["healthy"] is True and s["version"], name
    assert services["namenode"]["url"] == f"http://localhost:{stack.port('STACK_NAMENODE_HTTP_PORT')}/explorer.html"
    assert services["trino"]["url"] == f"http://localhost:{stack.port('STACK_TRINO_PORT')}"
    assert requests.get(services["airflow-apiserver"]["url"] + "/api/v2/monitor/health", timeout=10).ok
    out = subprocess.run([sys.executable, "-m", "spotify_pipeline.cli", "stack", "env"], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    exported = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
    assert exported["LAKE_URI"] == f"hdfs://localhost:{stack.port('STACK_NAMENODE_RPC_PORT')}"
    assert exported["TRINO_PORT"] == str(stack.port("STACK_TRINO_PORT"))


def test_a_file_downloaded_through_the_namenode_ui_link_equals_the_lakes_bytes(stack, pipeline_run) -> None:
    """The UI's download link (/webhdfs/v1/PATH?op=OPEN) redirects to the DataNode; it must work from the host."""
    webhdfs = f"http://localhost:{stack.port('STACK_NAMENODE_HTTP_PORT')}"
    listing = requests.get(f"{webhdfs}/webhdfs/v1/user/hive/warehouse?op=LISTSTATUS", timeout=30)
    found = _first_parquet(webhdfs, "/")
    assert found, listing.text
    path, length = found
    link = requests.get(f"{webhdfs}/webhdfs/v1{path}?op=OPEN", allow_redirects=False, timeout=30)
    assert link.status_code == 307
    assert urllib.parse.urlsplit(link.headers["Location"]).hostname == "localhost"
    downloaded = requests.get(f"{webhdfs}/webhdfs/v1{path}?op=OPEN", timeout=60).content
    # the lake's bytes as the cluster itself reads them (HDFS RPC inside the NameNode's container)
    lake = stack.compose("exec", "-T", "namenode", "bash", "-c",
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


def test_jupyterlab_serves_the_notebooks_behind_its_token(stack) -> None:
    base = stack.url("STACK_JUPYTER_PORT")
    assert "version" in requests.get(f"{base}/api", timeout=30).json()
    assert requests.get(f"{base}/api/contents", timeout=30).status_code == 403          # no token, no notebooks
    listing = requests.get(f"{base}/api/contents", params={"token": "spotify"}, timeout=30)  # JUPYTER_TOKEN default
    listing.raise_for_status()
    assert {"catalog_eda.ipynb", "recommender.ipynb"} <= {item["name"] for item in listing.json()["content"]}


def test_the_dashboard_answers(stack) -> None:
    assert requests.get(stack.url("STACK_DASHBOARD_PORT", "/_stcore/health"), timeout=30).text.strip() == "ok"
