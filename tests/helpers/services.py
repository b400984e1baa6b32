"""Start one of the stack's service modules as a local process on a free port, for a test."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spotify_pipeline.settings import environment_for
from spotify_pipeline.stack.service import BASE_PORTS, StackContext

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(service, settings, tmp_path: Path, name: str) -> Iterator[StackContext]:
    """Start a stack service module's command on a free port; stop it afterwards."""
    offset = free_port() - BASE_PORTS[name]
    ctx = StackContext(repo=ROOT, cache=tmp_path / "cache", state=tmp_path / "state", logs=tmp_path / "logs",
                       venv_bin=Path(sys.executable).parent, port_offset=offset, env=environment_for(settings))
    ctx.logs.mkdir(parents=True, exist_ok=True)
    log = open(ctx.logs / f"{name}.log", "w")  # noqa: SIM115 - closed below
    env = {"PATH": f"{ctx.venv_bin}:/usr/bin:/bin", "HOME": str(tmp_path), **service.env(ctx)}
    proc = subprocess.Popen(service.command(ctx), env=env, cwd=service.cwd(ctx), stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + service.start_timeout_s
        while not service.ready(ctx):
            assert proc.poll() is None, (ctx.logs / f"{name}.log").read_text()[-2000:]
            assert time.monotonic() < deadline, f"{name} not ready in {service.start_timeout_s}s"
            time.sleep(0.25)  # polling interval of the readiness probe
        yield ctx
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
