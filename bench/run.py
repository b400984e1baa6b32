"""`make bench`: run the benchmarks, write JSON reports to bench/results/, print one summary.

    python -m bench.run [--only crawl,etl,demo] [--quick]        (make bench ONLY=etl QUICK=1)

Each benchmark is a module in ``MODULES`` with ``main(results_dir, quick) -> report`` (it writes
its own ``bench/results/<name>.json``) and ``summary(report) -> list[str]``. To add one, add a
module and a line here. ``--quick`` shrinks every size (a smoke run).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
MODULES: dict[str, str] = {
    "crawl": "bench.crawl_bench",
    "etl": "bench.etl_bench",
    "demo": "bench.demo_bench",
    "spark_start": "bench.spark_start_bench",
    "trino": "bench.trino_bench",
    "stack": "bench.stack_bench",
    "similar": "bench.similar_bench",
    "refresh": "bench.refresh_bench",
    "cluster": "bench.cluster_bench",
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(MODULES)}")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    wanted = [m.strip() for m in args.only.split(",")] if args.only else list(MODULES)
    unknown = [m for m in wanted if m not in MODULES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(MODULES)}")
    logging.basicConfig(level=logging.WARNING)
    RESULTS.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    for name in wanted:
        module = importlib.import_module(MODULES[name])
        start = time.monotonic()
        report = module.main(RESULTS, quick=args.quick)
        lines += [f"== {name} ({time.monotonic() - start:.0f}s)", *module.summary(report)]
        print("\n".join(lines[-len(module.summary(report)) - 1:]), flush=True)
    print("\n".join(["", "==== summary", *lines]))
    print(json.dumps({p.name: str(p) for p in sorted(RESULTS.glob("*.json"))}))


if __name__ == "__main__":
    main()
