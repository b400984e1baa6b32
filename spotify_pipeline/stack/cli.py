"""`spotify-pipeline stack up|down|status|env`: the local stack from the command line."""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import time

from spotify_pipeline.settings import Settings
from spotify_pipeline.stack.context import build_context
from spotify_pipeline.stack.service import StackContext
from spotify_pipeline.stack.services import for_profile
from spotify_pipeline.stack.supervisor import Supervisor


def supervisor(settings: Settings, profile: str) -> Supervisor:
    return Supervisor(build_context(settings, profile), for_profile(profile))


def status_document(sup: Supervisor) -> dict:
    """``{"services": {NAME: {"url", "healthy", "version", ...}}, "env": {...}}``: what scripts read."""
    return {"services": sup.status(), "env": stack_env(sup.ctx)}


def stack_env(ctx: StackContext) -> dict[str, str]:
    keys = ("MONGO_URI", "MONGO_DB", "LAKE_URI", "WEBHDFS_URL", "HIVE_METASTORE_URI", "TRINO_HOST", "TRINO_PORT",
            "TRINO_CATALOG", "SPARK_MASTER", "AIRFLOW_CONN_SPARK_DEFAULT")
    return {k: ctx.env[k] for k in keys if k in ctx.env}


def render_table(services: dict[str, dict], settings: Settings) -> str:
    rows = [("service", "state", "url")]
    for name, s in services.items():
        if s.get("oneshot"):
            state = "done" if s["healthy"] else "pending"
        else:
            state = "healthy" if s["healthy"] else ("stopped" if not s["running"] else "UNHEALTHY")
        rows.append((name, state, s["url"]))
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [f"{a:<{width[0]}}  {b:<{width[1]}}  {c}" for a, b, c in rows]
    if any(n.startswith("airflow") for n in services):
        lines.append(f"Airflow login: {settings.airflow_admin_user} / (AIRFLOW_ADMIN_PASSWORD; default 'admin')")
    lines.append("Pipeline env for scripts: eval \"$(spotify-pipeline stack env)\"")
    return "\n".join(lines)


def run(args: argparse.Namespace, settings: Settings) -> int:
    sup = supervisor(settings, args.profile)
    if args.action == "up":
        started = time.monotonic()
        sup.say(f"stack up ({args.profile}; state {sup.ctx.state}, cache {sup.ctx.cache})")
        try:
            sup.up()
        except BaseException:
            if args.foreground:
                sup.down()
            raise
        sup.say(f"stack ready in {time.monotonic() - started:.1f} s")
        print(render_table(sup.status(), settings))
        if args.foreground:
            return _foreground(sup)
        return 0
    if args.action == "down":
        stopped = sup.down()
        print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
        return 0
    if args.action == "jdbc":
        from spotify_pipeline.stack.jdbc import describe

        print(describe(sup.ctx))
        return 0
    if args.action == "env":
        for key, value in stack_env(sup.ctx).items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    doc = status_document(sup)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(render_table(doc["services"], settings))
    return 0


def _foreground(sup: Supervisor) -> int:
    """Stay attached until Ctrl-C or SIGTERM, then stop everything this stack started."""
    def stop(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    sup.say("foreground: Ctrl-C stops the stack")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        sup.say("stopping the stack")
    finally:
        sup.down()
    sys.stdout.flush()
    return 0
