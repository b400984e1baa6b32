"""`spotify-pipeline transform`: Spark jobs bronze -> silver -> gold -> warehouse, in this process."""

from __future__ import annotations

import argparse
import time

from spark_jobs.runner import run_layers
from spotify_core.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    start = time.monotonic()
    counts = run_layers(settings, [args.layer])
    for name, n in counts.items():
        print(f"  {name:<32} {n:>10} rows")
    print(f"transform {args.layer}: {len([k for k in counts if not k.startswith('_')])} tables in "
          f"{time.monotonic() - start:.1f}s")
    return 0
