"""`spotify-pipeline stack up|down|status|env|jdbc` over the Compose stack (docker-compose.yml)."""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time

from spotify_core.errors import PipelineError
from spotify_core.settings import Settings
from spotify_pipeline.stack import compose


def _say(line: str) -> None:
    print(f"stack: {line}", file=sys.stderr, flush=True)


def up() -> int:
    prereqs = subprocess.run(["bash", str(compose.REPO / "scripts" / "docker-prereqs.sh")], check=False)
    if prereqs.returncode != 0:
        raise PipelineError("Docker is not available here (see the line above); `make demo` runs without it")
    files = compose.compose_files()
    if any(f.name == compose.FERRETDB_FILE for f in files):
        _say(f"{compose.MONGO_IMAGE} cannot be pulled here: FerretDB stands in for it ({compose.FERRETDB_FILE})")
    started = time.monotonic()
    proc = subprocess.run([*compose.compose_cmd(files), "up", "-d", "--build", "--wait"],
                          env=compose.compose_env(), cwd=compose.REPO, check=False)
    if proc.returncode != 0:
        raise PipelineError("docker compose up failed (above); `docker compose -p spotify-platform logs SERVICE` tells why")
    _say(f"all services healthy in {time.monotonic() - started:.0f} s")
    print(compose.render_table(compose.status(compose.ps())))
    return 0


def down(volumes: bool) -> int:
    cmd = [compose.docker(), "compose", "-p", compose.project_name(), "down", "--remove-orphans"]
    proc = subprocess.run(cmd + (["--volumes"] if volumes else []), env=compose.compose_env(), cwd=compose.REPO,
                          check=False)
    return proc.returncode


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "up":
        return up()
    if args.action == "down":
        return down(args.volumes)
    if args.action == "jdbc":
        return _jdbc(settings)
    containers = compose.ps()
    if args.action == "env":
        for key, value in compose.pipeline_env(containers).items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    services = compose.status(containers)
    if args.json:
        print(json.dumps({"services": services, "env": compose.pipeline_env(containers)}, indent=2))
    else:
        print(compose.render_table(services) if services else "the stack is not running (make stack)")
    return 0


def _jdbc(settings: Settings) -> int:
    """The driver and URL; the port is the running Trino's, else the one the compose file will publish."""
    from spotify_pipeline.stack.jdbc import describe_at

    try:
        env = compose.pipeline_env(compose.ps())
    except (PipelineError, OSError):
        env = {}
    port = int(env.get("TRINO_PORT") or compose.compose_env().get("STACK_TRINO_PORT") or compose.TRINO_PORT)
    print(describe_at(settings.stack_cache_dir, env.get("TRINO_HOST", "localhost"), port))
    return 0
