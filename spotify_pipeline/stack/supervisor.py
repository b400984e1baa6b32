"""One small supervisor for the table of services: what ``docker compose up/down/ps`` does, as processes.

``up`` installs, initialises and starts each service in dependency order, each gated on its readiness
probe with a timeout. Every process runs in its own process group; a pid file under
``<state>/run/`` records its pid, start time (``/proc/<pid>/stat``) and command line. ``down`` signals
only groups whose leader still matches its pid file, so a recycled pid is never killed, and stops
exactly what ``up`` started. One log file per service under ``<state>/logs/``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from spotify_pipeline.errors import PipelineError
from spotify_pipeline.stack.probes import port_free
from spotify_pipeline.stack.service import Service, StackContext

STOP_GRACE_S = 20.0
POLL_S = 0.5


def order(services: Sequence[Service]) -> list[Service]:
    """Services in dependency order (a dependency outside ``services`` is assumed satisfied)."""
    by_name = {s.name: s for s in services}
    done: dict[str, Service] = {}
    visiting: set[str] = set()

    def visit(svc: Service) -> None:
        if svc.name in done:
            return
        if svc.name in visiting:
            raise PipelineError(f"stack: dependency cycle through {svc.name}")
        visiting.add(svc.name)
        for dep in svc.depends_on:
            if dep in by_name:
                visit(by_name[dep])
        visiting.discard(svc.name)
        done[svc.name] = svc

    for svc in services:
        visit(svc)
    return list(done.values())


# --- process identity ------------------------------------------------------------------------------

def _proc_start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks since boot): unique per process life."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":  # a zombie has finished: nothing left to stop
        return None
    return fields[19]


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown-boot"


def _proc_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


@dataclass(frozen=True)
class PidFile:
    """What ``up`` recorded about one started process."""

    path: Path
    pid: int
    start_time: str
    cmdline: list[str]

    @classmethod
    def read(cls, path: Path) -> PidFile | None:
        try:
            data = json.loads(path.read_text())
            return cls(path, int(data["pid"]), str(data["start_time"]), list(data["cmdline"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @classmethod
    def record(cls, path: Path, pid: int) -> PidFile:
        start = f"{_boot_id()}:{_proc_start_time(pid)}"
        pf = cls(path, pid, start, _proc_cmdline(pid))
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": pid, "start_time": start, "cmdline": pf.cmdline}))
        os.replace(tmp, path)
        return pf

    def alive(self) -> bool:
        """The recorded process is still the one running under this pid (not a recycled pid).

        Identity is (boot, pid, start time): start time survives ``exec`` (spark-class execs java),
        the command line does not; the boot id keeps a pid file from before a reboot from matching.
        """
        return self.start_time == f"{_boot_id()}:{_proc_start_time(self.pid)}"

    def group_alive(self) -> bool:
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


@dataclass
class _Starting:
    """A service spawned (or found running) and not yet ready."""

    svc: Service
    proc: subprocess.Popen | PidFile
    started: float
    quiet: bool = False


# --- the supervisor --------------------------------------------------------------------------------

class Supervisor:
    """Runs one table of services for one :class:`StackContext`."""

    def __init__(self, ctx: StackContext, services: Sequence[Service],
                 say: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)) -> None:
        self.ctx = ctx
        self.services = order(services)
        self.say = say
        self.run_dir = ctx.state / "run"

    # paths
    def pid_path(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_path(self, name: str) -> Path:
        return self.ctx.logs / f"{name}.log"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One ``up``/``down`` at a time per state dir."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / "stack.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def running(self, name: str) -> PidFile | None:
        """Our live process for ``name``, or None (a stale pid file is removed)."""
        pf = PidFile.read(self.pid_path(name))
        if pf is None:
            return None
        if pf.alive():
            return pf
        if not pf.group_alive() or _proc_start_time(pf.pid) is not None:
            self.pid_path(name).unlink(missing_ok=True)
            return None
        return pf  # leader gone, children still running: down must still stop the group

    def closure(self, names: Sequence[str]) -> set[str]:
        """``names`` and everything they depend on (unknown names are an error)."""
        by_name = {s.name: s for s in self.services}
        out: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name not in by_name:
                raise PipelineError(f"stack: no service named {name!r} (known: {', '.join(by_name)})")
            if name not in out:
                out.add(name)
                todo.extend(by_name[name].depends_on)
        return out

    # up
    def up(self, names: Sequence[str] | None = None) -> None:
        """Start (or keep) every service; raise PipelineError with one line on failure.

        Like compose: a service starts as soon as everything it depends on is ready, so independent
        services (postgres, mongo, namenode, spark-master) start side by side.
        """
        wanted = self.closure(names) if names else None
        for d in (self.ctx.cache, self.ctx.state, self.ctx.logs, self.run_dir):
            d.mkdir(parents=True, exist_ok=True)
        with self.lock():
            pending = [s for s in self.services if wanted is None or s.name in wanted]
            done = {s.name for s in self.services} - {s.name for s in pending}
            starting: dict[str, _Starting] = {}
            while pending or starting:
                for svc in [s for s in pending if all(d in done for d in s.depends_on)]:
                    pending.remove(svc)
                    handle = self._launch(svc)
                    if handle is None:
                        done.add(svc.name)
                    else:
                        starting[svc.name] = handle
                for name, handle in list(starting.items()):
                    if self._settled(handle):
                        del starting[name]
                        done.add(name)
                if starting:
                    time.sleep(POLL_S)
                elif pending and not any(all(d in done for d in s.depends_on) for s in pending):
                    raise PipelineError(f"stack: cannot start {', '.join(s.name for s in pending)}: "
                                        "a dependency is not in the table")

    def _launch(self, svc: Service) -> _Starting | None:
        """Install, init and spawn ``svc``; None when there is nothing to wait for."""
        ctx = self.ctx
        if svc.oneshot and _safe_ready(svc, ctx):  # its work is done (schema migrated, folders made)
            self.say(f"  {svc.name}: already done")
            return None
        pf = None if svc.oneshot else self.running(svc.name)
        if pf is not None and pf.alive():
            # Ours and running: a slow probe answer is no reason to restart it; wait for it instead.
            self.say(f"  {svc.name}: already running (pid {pf.pid})")
            return _Starting(svc, pf, time.monotonic(), quiet=True)
        if pf is not None:  # leader gone, group left behind: clear it before starting again
            self._stop(svc.name, pf, svc.stop_signal)
        for key in svc.ports:
            port = ctx.port(key)
            if not port_free(port):
                raise PipelineError(f"{svc.name}: port {port} is already in use by another process; stop it, "
                                    f"or set STACK_PORT_OFFSET to move the whole stack")
        if svc.install:
            svc.install(ctx)
        if svc.init:
            svc.init(ctx)
        started = time.monotonic()
        if svc.oneshot and not svc.command(ctx):
            self._finish(svc, started, "done")
            return None
        self.say(f"  {svc.name}: {'running' if svc.oneshot else 'starting'}")
        return _Starting(svc, self._spawn(svc), started)

    def _settled(self, h: _Starting) -> bool:
        """True once ``h`` is ready (a one-shot: exited 0); raises on an early exit or a timeout."""
        svc, name = h.svc, h.svc.name
        code = h.proc.poll() if isinstance(h.proc, subprocess.Popen) else (None if h.proc.alive() else "?")
        if svc.oneshot:
            if code == 0:
                self.pid_path(name).unlink(missing_ok=True)
                self._finish(svc, h.started, "done")
                return True
        elif _safe_ready(svc, self.ctx):
            if not h.quiet:
                self._finish(svc, h.started, "ready")
            return True
        if code is not None:
            self.pid_path(name).unlink(missing_ok=True)
            what = "failed" if svc.oneshot else "exited before it was ready"
            raise PipelineError(f"{name}: {what} (code {code}): {self.last_log_line(name)} "
                                f"(log: {self.log_path(name)})")
        if time.monotonic() - h.started > svc.start_timeout_s:
            raise PipelineError(f"{name}: not {'done' if svc.oneshot else 'ready'} after "
                                f"{svc.start_timeout_s:.0f} s (log: {self.log_path(name)})")
        return False

    def _finish(self, svc: Service, started: float, what: str) -> None:
        if svc.post_start:
            svc.post_start(self.ctx)
        self.say(f"  {svc.name}: {what} in {time.monotonic() - started:.1f} s")

    def _env(self, svc: Service) -> dict[str, str]:
        env = dict(self.ctx.env)  # the inherited environment, the settings and the stack's endpoints
        if svc.env:
            env.update(svc.env(self.ctx))
        env["PATH"] = f"{self.ctx.venv_bin}:{env.get('PATH', '')}"
        return env

    def _spawn(self, svc: Service) -> subprocess.Popen:
        cmd = svc.command(self.ctx)
        cwd = svc.cwd(self.ctx) if svc.cwd else self.ctx.state
        log = open(self.log_path(svc.name), "ab")  # noqa: SIM115 - handed to the child
        log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} start: {' '.join(cmd)}\n".encode())
        log.flush()
        try:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=cwd, env=self._env(svc), start_new_session=True, user=run_as(svc))
        except OSError as exc:
            raise PipelineError(f"{svc.name}: cannot start {cmd[0]}: {exc.strerror}") from None
        finally:
            log.close()
        PidFile.record(self.pid_path(svc.name), proc.pid)
        return proc

    def last_log_line(self, name: str) -> str:
        try:
            lines = [line for line in self.log_path(name).read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return "no log"
        if not lines:
            return "empty log"
        errors = [line for line in lines if any(w in line for w in ("ERROR", "FATAL", "Exception", "panic", "Error:"))]
        return (errors or lines)[-1].strip()[:200]

    # down
    def down(self) -> list[str]:
        """Stop every process ``up`` started (reverse order); return the names stopped."""
        stopped = []
        by_name = {s.name: s for s in self.services}
        with self.lock():
            known = [s.name for s in reversed(self.services)]
            extra = sorted(p.stem for p in self.run_dir.glob("*.pid") if p.stem not in known)
            for name in [*known, *extra]:
                pf = self.running(name)
                if pf is not None:
                    self._stop(name, pf, by_name[name].stop_signal if name in by_name else signal.SIGTERM)
                    stopped.append(name)
        return stopped

    def _stop(self, name: str, pf: PidFile, sig: int = signal.SIGTERM) -> None:
        """Signal the service's process group, wait, then SIGKILL what is left of it.

        Descendants that left the group (PostgreSQL's workers call ``setsid``) are collected first,
        by identity (pid + creation time), and are waited for and killed the same way.
        """
        self.say(f"  {name}: stopping (pid {pf.pid})")
        family = _descendants(pf.pid) if pf.alive() else []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pf.pid, sig)
        deadline = time.monotonic() + STOP_GRACE_S
        while (pf.group_alive() or _any_running(family)) and time.monotonic() < deadline:
            _reap(pf.pid)
            time.sleep(0.2)
        if pf.group_alive() or _any_running(family):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pf.pid, signal.SIGKILL)
            for proc in family:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
            while (pf.group_alive() or _any_running(family)) and time.monotonic() < deadline + 10:
                _reap(pf.pid)
                time.sleep(0.1)
        self.pid_path(name).unlink(missing_ok=True)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Send ``sig`` to one running service's process group (fault drills); its pid. ``up`` restarts it."""
        pf = self.running(name)
        if pf is None or not pf.alive():
            raise PipelineError(f"{name}: not running")
        if sig == signal.SIGKILL:
            self._stop(name, pf, signal.SIGKILL)   # waits until the whole group is gone, clears the pid file
        else:
            os.killpg(pf.pid, sig)
        return pf.pid

    # status
    def status(self) -> dict[str, dict]:
        out = {}
        for svc in self.services:
            pf = None if svc.oneshot else self.running(svc.name)
            out[svc.name] = {
                "url": svc.url(self.ctx),
                "healthy": _safe_ready(svc, self.ctx),
                "version": svc.version,
                "running": pf is not None,
                "oneshot": svc.oneshot,
                "pid": pf.pid if pf else None,
                "log": str(self.log_path(svc.name)),
            }
        return out


def run_as(svc: Service) -> str | None:
    """The service's user when we are root (PostgreSQL refuses to run as root), else ourselves."""
    return svc.user if svc.user and os.geteuid() == 0 else None


def _descendants(pid: int) -> list[psutil.Process]:
    """The process's descendants now (psutil keeps each one's creation time: no pid-reuse mix-up)."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _any_running(procs: list[psutil.Process]) -> bool:
    """Some of ``procs`` still runs (``is_running`` checks the creation time, so a reused pid is not it)."""
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                return True
        except psutil.Error:
            continue
    return False


def _reap(pid: int) -> None:
    """Collect our own child's exit status (a zombie leader would look alive to killpg)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _safe_ready(svc: Service, ctx: StackContext) -> bool:
    """A probe that raises counts as not ready (a half-started server can answer garbage)."""
    try:
        return bool(svc.ready(ctx))
    except PipelineError:
        raise
    except Exception:  # noqa: BLE001 - any probe failure means "not ready yet"
        return False
