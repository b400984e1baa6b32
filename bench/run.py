"""`make bench`: run every benchmark, write JSON reports to bench/results/, print a summary.

    python -m bench.run [--only crawl|etl|refresh] [--quick]

``--quick`` shrinks every size (a smoke run); without it: crawl 3,000 artists (extended) and 300
(development), ETL at ~300,000 and ~1,000,000 tracks.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("crawl", "etl", "refresh"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "crawl"):
        from bench import crawl_bench

        report = crawl_bench.main(RESULTS, quick=args.quick)
        for run in report["runs"]:
            print(f"crawl {run['mode']:<11} {run['artists']} artists {run['tracks']} tracks: "
                  f"calls {run['api_calls']} (x{run['calls_ratio']} of minimum), wall {run['wall_s']}s "
                  f"(x{run['wall_ratio']} of rate bound), peak RSS {run['peak_rss_mb']} MB")
    if args.only in (None, "etl"):
        from bench import etl_bench

        report = etl_bench.main(RESULTS, sizes=(300, 1000) if args.quick else (3000, 10_000))
        for run in report["runs"]:
            print(f"etl {run['tracks']} tracks: export {run['export']['seconds']}s, "
                  + ", ".join(f"{k} {v['seconds']}s" for k, v in run["layers"].items())
                  + f", ETL total {run['etl_total_s']}s, peak RSS {run['etl_peak_rss_mb_incl_jvm']} MB; "
                  f"DuckDB gold {run['duckdb_reference']['gold_track_metadata_s']}s "
                  f"(Spark silver+gold x{run['duckdb_reference']['spark_to_duckdb_ratio']})")
    if args.only in (None, "refresh"):
        from bench import refresh_bench

        for run in refresh_bench.main(RESULTS, quick=args.quick)["runs"]:
            r, f = run["refresh"], run["full"]
            print(f"refresh {run['mode']} {run['artists_after']} artists: {r['api_calls']} calls "
                  f"(x{r['calls_ratio']} of the minimum for what changed), full crawl {f['api_calls']} calls; "
                  f"refresh/full = {run['refresh_to_full_calls']}")
    print(json.dumps({p.name: str(p) for p in sorted(RESULTS.glob('*.json'))}))


if __name__ == "__main__":
    main()
