"""Refresh benchmark (issue 14): a weekly ``crawl --refresh`` costs what changed, not the catalog.

One sample API process serves the catalog at generation 0; a first crawl lands all of it. The
catalog then evolves one generation (``POST /_admin/evolve``: new artists and releases, a removed
album and artist, moved popularity) and kworb is re-read (a new artists.txt); ``crawl --refresh``
runs, then ``crawl --full`` on the same evolved catalog for comparison. Calls are counted by the
sample API and compared with :func:`crawler.plan.refresh_minimum_calls`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from crawler.artists_file import ArtistEntry, write_artists_file
from sample_api.minimum_calls import minimum_calls, refresh_minimum_calls
from sample_api.process import sample_api_process
from sample_api.synthetic_catalog import generate_catalog

RATE, WORKERS = 150.0, 16


def _crawl(env: dict[str, str], artists_file: Path, mode: str | None) -> dict:
    base = env["SPOTIFY_API_BASE_URL"].removesuffix("/v1")
    requests.post(f"{base}/_stats/reset", timeout=10).raise_for_status()
    cmd = [sys.executable, "-m", "spotify_pipeline", "crawl", "--artists", str(artists_file),
           "--workers", str(WORKERS), *([f"--{mode}"] if mode else [])]
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    stats = requests.get(f"{base}/_stats", timeout=10).json()
    calls = {k.removeprefix("GET /v1/"): v for k, v in stats.items() if k.startswith("GET /v1/")}
    landed = proc.stdout.split("landed this run: ", 1)[-1].splitlines()[0] if "landed this run" in proc.stdout else ""
    return {"mode": mode or "continue", "exit_status": proc.returncode, "wall_s": round(wall, 1),
            "api_calls": sum(calls.values()), "api_calls_by_endpoint": calls, "landed": landed}


def run_once(artists: int, mode: str = "extended") -> dict:
    before = generate_catalog(artists)
    after = generate_catalog(artists).evolve(1)
    with tempfile.TemporaryDirectory(prefix="refresh-bench-") as tmp, \
            sample_api_process(artists, mode, rate_limit=int(RATE * 30), rate_window=30.0) as api_env:
        env = {**os.environ, **api_env, "DATA_DIR": tmp, "SPOTIFY_REQUESTS_PER_SECOND": str(RATE)}
        base = api_env["SPOTIFY_API_BASE_URL"].removesuffix("/v1")
        first_file, second_file = Path(tmp) / "artists.gen0.txt", Path(tmp) / "artists.gen1.txt"
        write_artists_file(first_file, [ArtistEntry(n, i) for i, n in before.iter_artists()])
        first = _crawl(env, first_file, None)
        requests.post(f"{base}/_admin/evolve", params={"generation": 1}, timeout=60).raise_for_status()
        write_artists_file(second_file, [ArtistEntry(n, i) for i, n in after.iter_artists()])
        refresh = _crawl(env, second_file, "refresh")
        full = _crawl(env, second_file, "full")
    oracle = refresh_minimum_calls(before, after, mode)
    full_minimum = minimum_calls(after, mode)
    refresh["minimum_calls"], refresh["minimum_by_endpoint"] = sum(oracle.values()), oracle
    refresh["calls_ratio"] = round(refresh["api_calls"] / sum(oracle.values()), 4)
    full["minimum_calls"] = sum(full_minimum.values())
    return {
        "mode": mode, "artists_before": before.n_artists, "artists_after": after.n_artists,
        "changes": {
            "new_artists": after.n_artists - before.n_artists,
            "new_albums": after.n_albums - before.n_albums,
            "removed_albums": sum(after.is_removed_album(a) for a in range(after.n_albums)),
            "removed_artists": sum(after.is_removed_artist(i) for i in range(after.n_artists)),
        },
        "initial_crawl": first, "refresh": refresh, "full": full,
        "refresh_to_full_calls": round(refresh["api_calls"] / full["api_calls"], 4),
    }


def main(results_dir: Path, quick: bool = False) -> dict:
    runs = [run_once(300 if quick else 3000, "extended")]
    report = {"benchmark": "refresh", "targets": {"refresh_calls_ratio": 1.05}, "runs": runs}
    (results_dir / "refresh.json").write_text(json.dumps(report, indent=2))
    return report


def summary(report: dict) -> list[str]:
    lines = []
    for run in report["runs"]:
        r, f = run["refresh"], run["full"]
        lines.append(f"refresh {run['mode']} {run['artists_after']} artists: {r['api_calls']} calls "
                     f"(x{r['calls_ratio']} of the minimum for what changed), full crawl {f['api_calls']} calls; "
                     f"refresh/full = {run['refresh_to_full_calls']}")
    return lines
