"""`make bench ONLY=stack`: the Compose stack's build and start times, image sizes, memory, one pipeline run.

Its own project (``spotify-platform-bench``, host ports +2000) so it runs beside a developer's stack:
  * build: `docker compose build` with the image cache as it is (warm: seconds when nothing changed);
    ``BENCH_STACK_COLD=1`` first deletes the project's images and BuildKit's cache (the Debian bases
    stay), which measures the cold build (tens of minutes on 2 cores; it takes the images from every
    other stack on the machine too, so it is never the default);
  * fresh start: `up -d --wait` from empty volumes until every service is healthy;
  * warm `make stack`: `down` (volumes kept) then `up -d --build --wait` again, as on the next day;
  * the pipeline run a person starts with one click: the crawl DAG triggered (4 sample artists, the
    sample API on the host as the sources), then ``Spotify_DAG`` from the landing asset, to success;
  * memory: the sum of the containers' memory (`docker stats`), sampled through both starts, the run
    and a settle period, peak and per service; image sizes from `docker image inspect`.
Written to ``bench/results/stack.json`` beside the figures of the local-process stack it replaced
(measured before it retired; not measured again).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

from bench.common import Sampler
from spotify_pipeline.stack import compose

PROJECT = "spotify-platform-bench"
OFFSET = 2000
SETTLE_S = 30
ARTISTS = 4
CRAWL_DAG, SPOTIFY_DAG = "crawl_and_ingest_data_into_mongoDB", "Spotify_DAG"
# `make bench` of the local-process stack it replaced (same machine, 2 cores, load ~50): the baseline.
LOCAL_PROCESS_STACK = {"cold_start_s": 363.6, "warm_start_s": 293.8, "peak_rss_mb": 3598.9,
                       "note": "local processes under the retired supervisor; cache filled, fresh state"}
_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "kB": 1e3, "MB": 1e6, "GB": 1e9}


def _bytes(text: str) -> float:
    m = re.match(r"([\d.]+)\s*([A-Za-z]+)", text.strip())
    return float(m[1]) * _UNITS.get(m[2], 1) if m else 0.0


class StatsSampler(Sampler):
    """Peak total and per-container memory of the project's containers while the block runs."""

    def __init__(self, interval_s: float = 3.0, project: str = PROJECT) -> None:
        super().__init__(interval_s)
        self.project = project
        self.peak_total = 0.0
        self.per_service: dict[str, float] = {}

    def sample(self) -> None:
        proc = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}"],
                              capture_output=True, text=True, timeout=60, check=False)
        total = 0.0
        for line in proc.stdout.splitlines():
            name, _, usage = line.partition("\t")
            if not name.startswith(f"{self.project}-"):
                continue
            used = _bytes(usage.split("/")[0])
            service = name.removeprefix(f"{self.project}-").rsplit("-", 1)[0]
            self.per_service[service] = max(self.per_service.get(service, 0.0), used)
            total += used
        self.peak_total = max(self.peak_total, total)


def _timed(cmd: list[str], env: dict[str, str], timeout: float = 7200) -> float:
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=compose.REPO, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[-3:])} failed: {proc.stderr.strip().splitlines()[-3:]}")
    return time.monotonic() - start


def image_sizes(files: list[Path]) -> dict[str, float]:
    """MB of every image the stack runs (the Debian bases apart)."""
    proc = subprocess.run([*compose.compose_cmd(files, PROJECT), "config", "--images"], capture_output=True,
                          text=True, env=compose.compose_env(), cwd=compose.REPO, check=True)
    sizes = {}
    for image in sorted(set(proc.stdout.split())):
        out = subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", image], capture_output=True,
                             text=True, check=False).stdout.strip()
        if out:
            sizes[image] = round(int(out) / 1e6, 1)
    return sizes


def source_env(api) -> dict[str, str]:
    """The stack's sources: the sample API on the host, reached from the containers as host.docker.internal."""
    base = f"http://host.docker.internal:{api.port}"
    return {"SPOTIFY_API_BASE_URL": f"{base}/v1", "SPOTIFY_TOKEN_URL": f"{base}/api/token",
            "KWORB_BASE_URL": f"{base}/kworb", "SPOTIFY_CLIENT_ID": api.client_id,
            "SPOTIFY_CLIENT_SECRET": api.client_secret, "SPOTIFY_REQUESTS_PER_SECOND": "1000",
            "AUDIO_FEATURES_SOURCE": "spotify", "GENRES_SOURCE": "spotify", "CRAWL_SCHEDULE": "none"}


def pipeline_run(airflow_url: str, timeout_s: float = 3600) -> dict:
    """The one-click run over Airflow's REST API: trigger the crawl, wait for the ``Spotify_DAG`` it starts."""
    import requests

    session = requests.Session()
    token = session.post(f"{airflow_url}/auth/token", json={"username": "admin", "password": "admin"}, timeout=60)
    token.raise_for_status()
    session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    api = f"{airflow_url}/api/v2"

    def runs(dag: str) -> list[dict]:
        resp = session.get(f"{api}/dags/{dag}/dagRuns", timeout=60)
        resp.raise_for_status()
        return resp.json()["dag_runs"]

    deadline = time.monotonic() + timeout_s
    while not all(session.get(f"{api}/dags/{d}", timeout=60).ok for d in (CRAWL_DAG, SPOTIFY_DAG)):
        if time.monotonic() > deadline:
            raise RuntimeError("the DAGs were never parsed")
        time.sleep(2)
    for dag in (SPOTIFY_DAG, CRAWL_DAG):
        session.patch(f"{api}/dags/{dag}", json={"is_paused": False}, timeout=60).raise_for_status()
    started = time.monotonic()
    session.post(f"{api}/dags/{CRAWL_DAG}/dagRuns", json={"logical_date": None, "conf": {"limit": ARTISTS}},
                 timeout=60).raise_for_status()
    states: dict[str, str] = {}
    while states.get(SPOTIFY_DAG) != "success":
        for dag in (CRAWL_DAG, SPOTIFY_DAG):
            found = runs(dag)
            if found:
                states[dag] = found[-1]["state"]
        if "failed" in states.values() or time.monotonic() > deadline:
            raise RuntimeError(f"pipeline run did not succeed: {states}")
        time.sleep(5)
    return {"artists": ARTISTS, "click_to_spotify_dag_success_s": round(time.monotonic() - started, 1)}


def main(results: Path, quick: bool = False) -> dict:
    from sample_api.server import make_server

    subprocess.run(["bash", str(compose.REPO / "scripts" / "docker-prereqs.sh")], check=True)
    files = compose.compose_files()
    api = make_server(ARTISTS, 11, host="0.0.0.0").start()   # containers reach it beyond loopback
    env = compose.compose_env({**compose.ports_env(OFFSET), **source_env(api), "COMPOSE_PROJECT_NAME": PROJECT})
    cmd = compose.compose_cmd(files, PROJECT)
    report: dict = {"cpus": os.cpu_count(), "load_avg_1m_before": os.getloadavg()[0],
                    "compose_files": [f.name for f in files]}
    cold = os.environ.get("BENCH_STACK_COLD") == "1"
    try:
        if cold:
            images = subprocess.run([*cmd, "config", "--images"], capture_output=True, text=True, env=env,
                                    cwd=compose.REPO, check=True).stdout.split()
            subprocess.run(["docker", "image", "rm", "-f", *[i for i in images if i.startswith("spotify-platform/")]],
                           capture_output=True, check=False)
            subprocess.run(["docker", "builder", "prune", "-af"], capture_output=True, check=False)
        report["build_s"] = round(_timed([*cmd, "build"], env), 1)
        report["build_was_cold"] = cold
        _timed([*cmd, "down", "--volumes", "--remove-orphans"], env)
        with StatsSampler() as stats:
            report["fresh_start_s"] = round(_timed([*cmd, "up", "-d", "--wait"], env), 1)
            _timed([*cmd, "down"], env)
            report["warm_make_stack_s"] = round(_timed([*cmd, "up", "-d", "--build", "--wait"], env), 1)
            if not quick:
                report["pipeline_run"] = pipeline_run(f"http://localhost:{compose.HOST_PORTS['STACK_AIRFLOW_PORT'] + OFFSET}")
            time.sleep(SETTLE_S)
        report["peak_memory_mb"] = round(stats.peak_total / 2**20, 1)
        report["peak_memory_mb_per_service"] = {k: round(v / 2**20, 1) for k, v in sorted(stats.per_service.items())}
        report["image_size_mb"] = image_sizes(files)
    finally:
        subprocess.run([*cmd, "down", "--volumes", "--remove-orphans"], env=env, cwd=compose.REPO,
                       capture_output=True, timeout=600, check=False)
        api.stop()
    report["local_process_stack"] = LOCAL_PROCESS_STACK
    (results / "stack.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def summary(report: dict) -> list[str]:
    return [f"stack (compose): build {report['build_s']}s ({'cold' if report['build_was_cold'] else 'cache as is'}), "
            f"fresh start {report['fresh_start_s']}s, warm make stack {report['warm_make_stack_s']}s, "
            f"one-click run {report.get('pipeline_run', {}).get('click_to_spotify_dag_success_s', '-')}s, "
            f"peak memory {report['peak_memory_mb']} MB; images {sum(report['image_size_mb'].values()):.0f} MB",
            f"  local-process stack it replaced: warm start {LOCAL_PROCESS_STACK['warm_start_s']}s, "
            f"peak RSS {LOCAL_PROCESS_STACK['peak_rss_mb']} MB"]
