"""The supervisor on small fake services (plain Python processes): order, gating, stop, safety, errors."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from spotify_pipeline.errors import PipelineError
from spotify_pipeline.stack.probes import tcp_open
from spotify_pipeline.stack.service import BASE_PORTS, Service, StackContext
from spotify_pipeline.stack.supervisor import PidFile, Supervisor, order

# A server that listens on a port after a short delay and spawns a child in its process group.
SERVER = textwrap.dedent("""
    import socket, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    time.sleep(float(sys.argv[2]))
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
    print("listening", child.pid, flush=True)
    while True:
        s.accept()[0].close()
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ctx_for(tmp_path: Path, ports: dict[str, int]) -> StackContext:
    ctx = StackContext(repo=tmp_path, cache=tmp_path / "cache", state=tmp_path / "state", logs=tmp_path / "logs",
                       venv_bin=Path(sys.executable).parent)
    object.__setattr__(ctx, "port", lambda name: ports[name])  # the fake services' free ports
    return ctx


def server(name: str, port_key: str, delay: float = 0.2, depends_on: tuple[str, ...] = (),
           timeout: float = 20) -> Service:
    return Service(
        name=name, version="1", depends_on=depends_on, ports=(port_key,), start_timeout_s=timeout,
        command=lambda ctx: [sys.executable, "-c", SERVER, str(ctx.port(port_key)), str(delay)],
        ready=lambda ctx: tcp_open(ctx.port(port_key)), url=lambda ctx: f"tcp://127.0.0.1:{ctx.port(port_key)}",
    )


@pytest.fixture
def two(tmp_path: Path):
    ports = {"a": free_port(), "b": free_port()}
    ctx = ctx_for(tmp_path, ports)
    events: list[str] = []
    sup = Supervisor(ctx, [server("b", "b", depends_on=("a",)), server("a", "a", delay=0.5)], say=events.append)
    yield sup, ports, events
    sup.down()


def group_members(pgid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "-g", str(pgid)], capture_output=True, text=True, check=False).stdout
    return [int(x) for x in out.split()]


def test_order_follows_depends_on() -> None:
    svc = lambda n, *d: Service(name=n, version="1", command=list, ready=bool, url=str, depends_on=d)  # noqa: E731
    names = [s.name for s in order([svc("trino", "hive"), svc("hive", "postgres", "hdfs"), svc("hdfs"),
                                    svc("postgres")])]
    assert names.index("postgres") < names.index("hive") < names.index("trino")
    assert names.index("hdfs") < names.index("hive")
    with pytest.raises(PipelineError, match="cycle"):
        order([svc("x", "y"), svc("y", "x")])


def test_up_starts_in_order_gated_on_readiness_and_down_stops_every_process(two) -> None:
    sup, ports, events = two
    sup.up()
    assert events.index("  a: starting") < [i for i, e in enumerate(events) if e.startswith("  a: ready")][0] \
        < events.index("  b: starting")
    assert tcp_open(ports["a"]) and tcp_open(ports["b"])
    leaders = {n: PidFile.read(sup.pid_path(n)).pid for n in ("a", "b")}
    members = {n: group_members(p) for n, p in leaders.items()}
    assert all(len(m) == 2 for m in members.values())  # the server and its child, one group each
    status = sup.status()
    assert status["a"]["healthy"] and status["b"]["running"] and status["b"]["url"].endswith(str(ports["b"]))
    sup.up()  # idempotent: nothing restarted
    assert {n: PidFile.read(sup.pid_path(n)).pid for n in ("a", "b")} == leaders
    assert sup.down() == ["b", "a"]
    for pids in members.values():
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert not tcp_open(ports["a"]) and not list(sup.run_dir.glob("*.pid"))
    assert not sup.status()["a"]["healthy"] and not sup.status()["a"]["running"]


def test_a_recycled_pid_is_never_killed(two) -> None:
    sup, _, _ = two
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        # A pid file from an earlier boot whose pid now belongs to someone else's process.
        sup.run_dir.mkdir(parents=True, exist_ok=True)
        sup.pid_path("a").write_text(f'{{"pid": {bystander.pid}, "start_time": "1", "cmdline": ["{sys.executable}"]}}')
        assert sup.down() == []
        assert bystander.poll() is None
        assert not sup.pid_path("a").exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_port_in_use_is_one_line_naming_service_and_port(two) -> None:
    sup, ports, _ = two
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports["a"]))
        squatter.listen()
        with pytest.raises(PipelineError) as err:
            sup.up()
    assert str(err.value).startswith(f"a: port {ports['a']} is already in use")
    assert "STACK_PORT_OFFSET" in str(err.value) and "\n" not in str(err.value)
    assert not list(sup.run_dir.glob("*.pid"))


def test_a_service_that_dies_before_ready_is_reported_with_its_log(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, {"a": free_port()})
    dying = Service(name="a", version="1", ports=("a",), url=str, ready=lambda ctx: False,
                    command=lambda ctx: [sys.executable, "-c", "import sys; print('ERROR: no config'); sys.exit(3)"])
    with pytest.raises(PipelineError, match=r"^a: exited before it was ready \(code 3\): ERROR: no config"):
        Supervisor(ctx, [dying], say=lambda line: None).up()


def test_a_service_never_ready_times_out_and_down_still_stops_it(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, {"a": free_port()})
    never = Service(name="a", version="1", ports=("a",), url=str, ready=lambda ctx: False, start_timeout_s=1,
                    command=lambda ctx: [sys.executable, "-c", "import time; time.sleep(60)"])
    sup = Supervisor(ctx, [never], say=lambda line: None)
    with pytest.raises(PipelineError, match="a: not ready after 1 s"):
        sup.up()
    pid = PidFile.read(sup.pid_path("a")).pid
    assert sup.down() == ["a"] and not group_members(pid)


FOREGROUND = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tests.stack.test_supervisor import ctx_for, server
    from spotify_pipeline.stack.supervisor import Supervisor
    from spotify_pipeline.stack import cli
    ctx = ctx_for(Path(sys.argv[1]), {"a": int(sys.argv[2])})
    sup = Supervisor(ctx, [server("a", "a")])
    sup.up()
    print("up", flush=True)
    sys.exit(cli._foreground(sup))
""")


def test_ctrl_c_of_a_foreground_stack_stops_all(tmp_path: Path) -> None:
    port = free_port()
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", FOREGROUND, str(tmp_path), str(port)], cwd=repo,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "up"
        pid = PidFile.read(tmp_path / "state" / "run" / "a.pid").pid
        members = group_members(pid)
        assert len(members) == 2 and tcp_open(port)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert not group_members(pid) and not tcp_open(port)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_base_ports_are_unique() -> None:
    assert len(set(BASE_PORTS.values())) == len(BASE_PORTS)


def test_the_test_offset_moves_no_port_onto_another_base_port() -> None:
    """A developer's `make stack` (offset 0) and the test session (offset 1000) run side by side."""
    assert not {p + 1000 for p in BASE_PORTS.values()} & set(BASE_PORTS.values())


def test_a_one_shot_runs_until_its_work_is_done_and_is_skipped_after(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, {})
    marker = tmp_path / "migrated"
    migrate = Service(name="init", version="1", oneshot=True, url=str, ready=lambda ctx: marker.exists(),
                      command=lambda ctx: [sys.executable, "-c", f"open({str(marker)!r}, 'a').write('x')"])
    events: list[str] = []
    sup = Supervisor(ctx, [migrate], say=events.append)
    sup.up()
    sup.up()
    assert marker.read_text() == "x" and events[-1] == "  init: already done"
    failing = Service(name="init", version="1", oneshot=True, url=str, ready=lambda ctx: False,
                      command=lambda ctx: [sys.executable, "-c", "raise SystemExit('ERROR: no database')"])
    with pytest.raises(PipelineError, match=r"^init: failed \(code 1\): ERROR: no database"):
        Supervisor(ctx, [failing], say=lambda line: None).up()
