"""``Supervisor.kill``, the fault drills' one lever, on the supervisor's fake services."""

from __future__ import annotations

import signal

import pytest

from spotify_pipeline.errors import PipelineError
from spotify_pipeline.stack.probes import tcp_open
from spotify_pipeline.stack.supervisor import PidFile
from tests.stack.test_supervisor import group_members, two  # noqa: F401 - fixture


def test_kill_takes_down_one_service_group_and_up_brings_it_back(two) -> None:  # noqa: F811
    sup, ports, _ = two
    sup.up()
    a_pid, b_pid = (PidFile.read(sup.pid_path(n)).pid for n in ("a", "b"))
    assert sup.kill("a") == a_pid
    assert not group_members(a_pid) and not tcp_open(ports["a"])      # the server and its child
    assert group_members(b_pid) and tcp_open(ports["b"])              # its dependant untouched
    assert not sup.status()["a"]["running"]
    sup.up(["a"])
    assert tcp_open(ports["a"]) and PidFile.read(sup.pid_path("a")).pid != a_pid
    with pytest.raises(PipelineError, match="^x: not running$"):
        sup.kill("x")


def test_kill_with_another_signal_only_sends_it(two) -> None:  # noqa: F811
    sup, ports, _ = two
    sup.up()
    pid = PidFile.read(sup.pid_path("a")).pid
    sup.kill("a", signal.SIGSTOP)
    try:
        assert group_members(pid) and sup.pid_path("a").exists()
    finally:
        sup.kill("a", signal.SIGCONT)
