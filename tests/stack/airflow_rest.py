"""A small client of Airflow 3's public REST API, for the stack tests (what a script or CI would do).

Login is the stack's ``AIRFLOW_ADMIN_USER`` / ``AIRFLOW_ADMIN_PASSWORD`` through ``POST /auth/token``;
every call after that carries the bearer token.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import requests

FINISHED = {"success", "failed"}


@dataclass
class AirflowRest:
    base_url: str
    username: str
    password: str
    session: requests.Session = field(default_factory=requests.Session)

    def login(self) -> AirflowRest:
        resp = self.session.post(f"{self.base_url}/auth/token", timeout=60,
                                 json={"username": self.username, "password": self.password})
        resp.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
        return self

    def call(self, method: str, path: str, attempts: int = 6, **kwargs) -> dict:
        """One API call; a timeout or refused connection (a busy 2-core machine) is retried a few times."""
        for attempt in range(attempts):
            try:
                resp = self.session.request(method, f"{self.base_url}/api/v2{path}", timeout=60, **kwargs)
                break
            except (requests.ConnectionError, requests.Timeout):
                if attempt == attempts - 1:
                    raise
                time.sleep(5)
        resp.raise_for_status()
        return resp.json() if resp.content else {}

    def wait_for_dags(self, dag_ids: set[str], timeout_s: float = 300) -> dict[str, dict]:
        """Wait until the dag-processor has parsed every DAG in ``dag_ids``; fail on an import error."""
        deadline = time.monotonic() + timeout_s
        while True:
            errors = self.call("GET", "/importErrors")["import_errors"]
            assert not errors, [e["filename"] + ": " + e["stack_trace"][-300:] for e in errors]
            dags = {d["dag_id"]: d for d in self.call("GET", "/dags", params={"limit": 100})["dags"]}
            if dag_ids <= dags.keys():
                return dags
            assert time.monotonic() < deadline, f"DAGs not parsed after {timeout_s:.0f} s: {sorted(dags)}"
            time.sleep(2)

    def unpause(self, dag_id: str) -> None:
        self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict, logical_date: str | None) -> str:
        try:
            run = self.call("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": logical_date, "conf": conf})
        except requests.HTTPError as exc:  # 409: a retried call whose first attempt had created the run
            runs = [r for r in self.runs(dag_id) if logical_date and r.get("logical_date") == logical_date]
            if exc.response is None or exc.response.status_code != 409 or not runs:
                raise
            run = runs[0]
        return run["dag_run_id"]

    def runs(self, dag_id: str) -> list[dict]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]

    def wait_for_run(self, dag_id: str, run_id: str | None = None, timeout_s: float = 900) -> dict:
        """Wait until a run (``run_id``, or the first run of the DAG) has finished; return it."""
        deadline = time.monotonic() + timeout_s
        while True:
            runs = [r for r in self.runs(dag_id) if run_id is None or r["dag_run_id"] == run_id]
            done = [r for r in runs if r["state"] in FINISHED]
            if done:
                return done[0]
            assert time.monotonic() < deadline, f"{dag_id} {run_id or ''} not finished after {timeout_s:.0f} s: {runs}"
            time.sleep(3)

    def xcom(self, dag_id: str, run_id: str, task_id: str):
        """A task's return value, decoded: the API hands it over as the object or as its JSON text."""
        value = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/"
                                 "return_value")["value"]
        return xcom_value(value)

    def failed_tasks(self, dag_id: str, run_id: str) -> list[str]:
        tis = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return [f"{t['task_id']}[{t.get('map_index')}]={t['state']}" for t in tis if t["state"] != "success"]


def xcom_value(value):
    """An XCom ``value`` as the task returned it (JSON text decoded; a plain string kept)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
