"""Similar-tracks job at scale: wall time, recall@10 against exact neighbours, genre overlap@10.

The input is a synthetic warehouse with structure a real catalog has (and the sample API's uniform
features lack): each track belongs to one of ``STYLES`` styles; a style is a Gaussian in feature
space and a small pool of genres its artists carry. So "sounds alike" and "shares genres" are
related, as on real data, and the genre-overlap figure means something.

    python -m bench.run --only similar [--quick]      (make bench ONLY=similar)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analytics.similarity import FEATURES, Tracks, jaccard, top_k
from lake import versions
from lake.fs import LocalFS
from lake.tables import current_path

STYLES = 60
GENRES = 150
SAMPLE_SEEDS = 1000
K = 10


def synthetic_warehouse(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 1.0, size=(STYLES, len(FEATURES)))
    pools = [rng.choice(GENRES, size=4, replace=False) for _ in range(STYLES)]
    style = rng.integers(0, STYLES, size=n)
    x = centers[style] + rng.normal(0, 0.6, size=(n, len(FEATURES)))
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    n_genres = rng.integers(0, 4, size=n)
    genres = [sorted({f"genre{g}" for g in rng.choice(pools[s], size=m, replace=False)}) if m else []
              for s, m in zip(style, n_genres, strict=True)]
    ids = [f"t{i:07d}" for i in range(n)]
    frame = pd.DataFrame(x, columns=list(FEATURES))
    frame.insert(0, "track_id", ids)
    frame.insert(1, "track_name", [f"Track {i}" for i in range(n)])
    frame.insert(2, "artist_name", [f"Artist {i // 12}" for i in range(n)])
    frame["isrc"] = [f"XX{i:010d}" for i in range(n)]
    frame["genres"] = genres
    return frame


def write_lake(frame: pd.DataFrame, lake: Path) -> None:
    # Complete version folders, as Spark publishes them (lake/versions.py), so the similar step reads them.
    rec = lake / "warehouse_layer" / "warehouse_track_recommendation" / versions.new_version()
    meta = lake / "gold_layer" / "gold_track_metadata" / versions.new_version()
    for folder in (rec, meta):
        folder.mkdir(parents=True)
        (folder / versions.SUCCESS).write_text("")
    pq.write_table(pa.Table.from_pandas(frame[["track_id", "track_name", "artist_name", *FEATURES]],
                                        preserve_index=False), rec / "part-00000.parquet")
    pq.write_table(pa.Table.from_pandas(frame[["track_id", "track_name", "artist_name", "isrc", "genres"]],
                                        preserve_index=False), meta / "part-00000.parquet")


def run_job(data_dir: Path) -> dict:
    """`spotify-pipeline transform --layer similar` in a child process on 2 cores (local[2])."""
    load_before = [round(v, 1) for v in os.getloadavg()]
    env = {**os.environ, "DATA_DIR": str(data_dir), "SPARK_MASTER": "local[2]", "SPARK_DRIVER_MEMORY": "3g",
           "PYSPARK_PYTHON": sys.executable}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "spotify_pipeline", "transform", "--layer", "similar"],
                          env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return {"wall_s": round(wall, 1), "load_average_before": load_before, "stdout": proc.stdout.strip().splitlines()}


def evaluate(frame: pd.DataFrame, lake: Path, seed: int = 11) -> dict:
    rng = np.random.default_rng(seed)
    seeds = np.sort(rng.choice(len(frame), size=min(SAMPLE_SEEDS, len(frame)), replace=False))
    similar = current_path(LocalFS(lake), "warehouse_layer/warehouse_track_similar")  # Spark's current version
    approx = duckdb.sql(f"""SELECT track_id, similar_track_id FROM
        read_parquet('{lake}/{similar}/*.parquet') ORDER BY track_id, rank""").df()
    approx = approx.groupby("track_id")["similar_track_id"].apply(list).to_dict()
    everything = Tracks.from_frame(frame)
    genres = dict(zip(frame["track_id"], frame["genres"], strict=True))
    recalls, g_approx, g_exact, g_random = [], [], [], []
    for lo in range(0, len(seeds), 32):
        batch = seeds[lo:lo + 32]
        found = top_k(Tracks.from_frame(frame.iloc[batch]), everything, K)
        for row, i in enumerate(batch):
            tid = frame["track_id"].iat[i]
            exact = [frame["track_id"].iat[j] for j in found.index[row] if j >= 0]
            got = approx.get(tid, [])
            recalls.append(len(set(exact) & set(got)) / max(len(exact), 1))
            if genres[tid]:
                g_exact.append(np.mean([jaccard(genres[tid], genres[t]) for t in exact]))
                g_approx.append(np.mean([jaccard(genres[tid], genres[t]) for t in got]) if got else 0.0)
                rand = rng.choice(len(frame), size=K, replace=False)
                g_random.append(np.mean([jaccard(genres[tid], frame["genres"].iat[j]) for j in rand]))
    return {"seeds": len(seeds), "recall_at_10": round(float(np.mean(recalls)), 4),
            "recall_at_10_min": round(float(np.min(recalls)), 4),
            "genre_overlap_at_10": {"approximate": round(float(np.mean(g_approx)), 4),
                                    "exact": round(float(np.mean(g_exact)), 4),
                                    "random_baseline": round(float(np.mean(g_random)), 4),
                                    "measure": "mean Jaccard of seed and neighbour genres, seeds with genres"}}


def main(results_dir: Path, quick: bool = False, tracks: int | None = None) -> dict:
    tracks = tracks or (20_000 if quick else 300_000)
    with tempfile.TemporaryDirectory(prefix="similar-bench-") as tmp:
        data_dir = Path(tmp)
        frame = synthetic_warehouse(tracks)
        write_lake(frame, data_dir / "lake")
        job = run_job(data_dir)
        quality = evaluate(frame, data_dir / "lake")
    report = {"benchmark": "similar_tracks", "tracks": tracks, "cores": 2, "spark_master": "local[2]",
              "k": K, "job": job, **quality,
              "input": f"synthetic warehouse: {STYLES} styles (Gaussians in feature space, 4 genres each), "
                       f"0-3 genres per track", "cpu_count": os.cpu_count(),
              "load_average_1_5_15_at_end": [round(v, 1) for v in os.getloadavg()],
              "note": "the machine is shared; a load average well above 2 inflates job.wall_s"}
    out = results_dir / "similar_bench.json"
    out.write_text(json.dumps(report, indent=2))
    return report


def summary(r: dict) -> list[str]:
    g = r["genre_overlap_at_10"]
    return [f"similar tracks, {r['tracks']:,} tracks on 2 cores: job {r['job']['wall_s']} s (incl. Spark start; "
            f"load average before {r['job']['load_average_before'][0]}), recall@10 {r['recall_at_10']} vs exact "
            f"on {r['seeds']} seeds, genre overlap@10 {g['approximate']} (exact {g['exact']}, random {g['random_baseline']})"]


if __name__ == "__main__":
    report = main(Path(__file__).resolve().parent / "results", tracks=int(sys.argv[1]) if len(sys.argv) > 1 else None)
    print("\n".join(summary(report)))
