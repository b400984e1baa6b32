"""Crawl benchmark: API calls vs the theoretical minimum, wall time vs the rate bound, peak RSS.

The sample API runs in its own process with a 30 s rolling-window limit; the crawler runs as
`spotify-pipeline crawl` in another, so neither shares a GIL with the benchmark and the crawler's
peak RSS is its own (``os.wait4``'s rusage of that child).
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

from bench.common import PeakRss
from crawler.artists_file import ArtistEntry, write_artists_file
from sample_api.minimum_calls import catalog_tracks, minimum_calls
from sample_api.process import sample_api_process
from sample_api.synthetic_catalog import generate_catalog

RATE, WORKERS = 150.0, 16
# What users run: the settings' defaults (CRAWL_WORKERS=8, SPOTIFY_REQUESTS_PER_SECOND=10), against
# an API that enforces the same 10 calls/s over a 30 s rolling window.
DEFAULT_RATE, DEFAULT_WORKERS = 10.0, 8
NOTE = ("150 calls/s is far above what Spotify grants an app, so the crawler's own overhead shows. "
        "Each call waits on the sample API's response, and both processes share 2 cores: unthrottled, "
        "8 workers sustained ~140 calls/s on an extended-mode crawl and 16 workers ~178/s, so 16 workers "
        "are needed for a 150/s budget here; at Spotify's real rates the default 8 are plenty.")


def crawl_once(artists: int, mode: str, rate: float, workers: int) -> dict:
    catalog = generate_catalog(artists)
    with tempfile.TemporaryDirectory(prefix="crawl-bench-") as tmp, \
            sample_api_process(artists, mode, rate_limit=int(rate * 30), rate_window=30.0) as env:
        artists_file = Path(tmp) / "artists.txt"
        write_artists_file(artists_file, [ArtistEntry(n, i) for i, n in catalog.iter_artists()])
        child_env = {**os.environ, **env, "DATA_DIR": tmp, "SPOTIFY_REQUESTS_PER_SECOND": str(rate)}
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "spotify_pipeline", "crawl", "--artists", str(artists_file),
                                 "--workers", str(workers)], env=child_env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        # Sampled, not ru_maxrss: a forked child's ru_maxrss starts at the parent's high-water mark
        # (this bench process held the ETL bench's DuckDB build when run after it).
        with PeakRss(proc.pid) as rss:
            out = proc.stdout.read()
            _, status, _ = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        stats = requests.get(env["SPOTIFY_API_BASE_URL"].removesuffix("/v1") + "/_stats", timeout=10).json()
        landing = json.loads(out.split("landing zone now: ", 1)[1].splitlines()[0])
    calls = {k.removeprefix("GET /v1/"): v for k, v in stats.items() if k.startswith("GET /v1/")}
    total = sum(calls.values())
    minimum = minimum_calls(catalog, mode)
    tracks = catalog_tracks(catalog)
    bound = total / rate
    return {
        "mode": mode, "artists": artists, "tracks": tracks, "workers": workers, "rate_per_s": rate,
        "exit_status": os.waitstatus_to_exitcode(status),
        "api_calls": total, "api_calls_by_endpoint": calls, "minimum_calls": sum(minimum.values()),
        "minimum_by_endpoint": minimum,
        "calls_per_1000_tracks": round(1000 * total / tracks, 2),
        "minimum_per_1000_tracks": round(1000 * sum(minimum.values()) / tracks, 2),
        "calls_ratio": round(total / sum(minimum.values()), 4),
        "status_429": stats.get("status_429", 0),
        "wall_s": round(wall, 1), "rate_bound_s": round(bound, 1), "wall_ratio": round(wall / bound, 4),
        "peak_rss_mb": rss.peak_mb,
        "landing": landing,
    }


def main(results_dir: Path, quick: bool = False) -> dict:
    runs = [crawl_once(300 if quick else 3000, "extended", rate=RATE, workers=WORKERS),
            crawl_once(60 if quick else 300, "development", rate=RATE, workers=WORKERS),
            crawl_once(20 if quick else 100, "extended", rate=DEFAULT_RATE, workers=DEFAULT_WORKERS),
            crawl_once(10 if quick else 30, "development", rate=DEFAULT_RATE, workers=DEFAULT_WORKERS)]
    for run in runs:
        run["configuration"] = "defaults" if run["workers"] == DEFAULT_WORKERS else "stress"
    report = {"benchmark": "crawl", "targets": {"calls_ratio": 1.05, "wall_ratio": 1.15, "peak_rss_mb": 300},
              "note": NOTE, "runs": runs}
    (results_dir / "crawl.json").write_text(json.dumps(report, indent=2))
    return report


def summary(report: dict) -> list[str]:
    return [f"crawl {run['configuration']:<8} {run['mode']:<11} {run['workers']} workers @ {run['rate_per_s']:g}/s, "
            f"{run['artists']} artists {run['tracks']} tracks: calls {run['api_calls']} "
            f"(x{run['calls_ratio']} of minimum), wall {run['wall_s']}s (x{run['wall_ratio']} of rate bound), "
            f"429s {run['status_429']}, peak RSS {run['peak_rss_mb']} MB" for run in report["runs"]]
