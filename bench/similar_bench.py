"""Similar-tracks job at scale beside FAISS on the driver: wall time, peak memory, recall@10 against the exact rule.

At each size, one run of the `similar` step (Spark, local[2]) and one run of the baseline: the same
answer computed by FAISS alone in one Python process (read the two inputs with pyarrow, HNSW index
with the job's parameters, every track a query, the same re-ranking, write Parquet). Peak memory is
the largest summed RSS of the process tree (Spark: driver JVM, Python driver and workers), sampled;
CPU seconds are summed over the same tree (the figure a shared machine's load does not stretch).
The step is measured whole (Spark start, and the clusters table the baseline does not write).
Recall@10 of both is measured against `recommend`'s exact rule on the same 1,000 seeds.

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

from bench.common import PeakRss
from lake import versions
from lake.fs import LocalFS
from lake.tables import current_path
from spark_jobs.similarity import FEATURES, Tracks, jaccard, top_k

STYLES = 60
GENRES = 150
SAMPLE_SEEDS = 1000
K = 10
SIZES = (300_000, 1_000_000)


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


def _measured(cmd: list[str], env: dict) -> dict:
    """Run cmd to the end; wall time, peak summed RSS and CPU seconds of its process tree (sampled every 0.2 s).

    CPU seconds (user + system, summed over the processes; the last 0.2 s of one that exits may be
    missed) say how much work each side does whatever the load: on a shared machine the wall
    times stretch with the load, and their ratio with the number of threads each side keeps busy.
    """
    load_before = [round(v, 1) for v in os.getloadavg()]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakRss(proc.pid) as rss:
        out, err = proc.communicate()
        wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(err[-3000:])
    return {"wall_s": round(wall, 1), "cpu_s": round(rss.cpu_s, 1), "peak_rss_mb": round(rss.peak / 2**20),
            "load_average_before": load_before, "load_average_after": [round(v, 1) for v in os.getloadavg()],
            "stdout": out.strip().splitlines()[-5:]}


def run_job(data_dir: Path) -> dict:
    """`spotify-pipeline transform --layer similar` in a child process on 2 cores (local[2])."""
    env = {**os.environ, "DATA_DIR": str(data_dir), "SPARK_MASTER": "local[2]", "SPARK_DRIVER_MEMORY": "3g",
           "PYSPARK_PYTHON": sys.executable}
    return _measured([sys.executable, "-m", "spotify_pipeline", "transform", "--layer", "similar"], env)


def run_baseline(lake: Path, out: Path) -> dict:
    """The same table by FAISS alone on the driver (:func:`faiss_on_the_driver`), in a child process."""
    return _measured([sys.executable, "-m", "bench.similar_bench", "--baseline", str(lake), str(out)], dict(os.environ))


def faiss_on_the_driver(lake: Path, out: Path) -> None:
    """Read the inputs, index with FAISS (all threads), query every track, re-rank with the rule, write Parquet."""
    import faiss

    from spark_jobs.similar import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M, search
    from spark_jobs.similarity import Catalog

    fs = LocalFS(lake)
    rec = pq.read_table(lake / current_path(fs, "warehouse_layer/warehouse_track_recommendation")).to_pandas()
    meta = pq.read_table(lake / current_path(fs, "gold_layer/gold_track_metadata"),
                         columns=["track_id", "isrc", "genres"]).to_pandas()
    frame = rec.merge(meta, on="track_id", how="left").sort_values("track_id", kind="stable").reset_index(drop=True)
    frame[list(FEATURES)] = frame[list(FEATURES)].astype(float).fillna(0.0)
    catalog = Catalog.from_frame(frame)
    index = faiss.IndexHNSWFlat(len(FEATURES), HNSW_M)
    index.hnsw.efConstruction, index.hnsw.efSearch = HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH
    index.add(np.ascontiguousarray(catalog.vectors, dtype=np.float32))
    found = search(index, catalog, np.arange(len(frame)), K)
    rows, cols = np.nonzero(found.index >= 0)
    ids = frame["track_id"].to_numpy()
    pq.write_table(pa.table({"track_id": ids[rows], "rank": (cols + 1).astype("int32"),
                             "similar_track_id": ids[found.index[rows, cols]],
                             "score": np.round(found.score[rows, cols], 6)}), out)


def _table(path: Path) -> dict:
    approx = duckdb.sql(f"SELECT track_id, similar_track_id FROM read_parquet('{path}') ORDER BY track_id, rank").df()
    return approx.groupby("track_id")["similar_track_id"].apply(list).to_dict()


def evaluate(frame: pd.DataFrame, lake: Path, baseline: Path, seed: int = 11) -> dict:
    rng = np.random.default_rng(seed)
    seeds = np.sort(rng.choice(len(frame), size=min(SAMPLE_SEEDS, len(frame)), replace=False))
    similar = current_path(LocalFS(lake), "warehouse_layer/warehouse_track_similar")  # Spark's current version
    approx = _table(lake / similar / "*.parquet")
    library = _table(baseline)
    base_recalls = []
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
            base_recalls.append(len(set(exact) & set(library.get(tid, []))) / max(len(exact), 1))
            if genres[tid]:
                g_exact.append(np.mean([jaccard(genres[tid], genres[t]) for t in exact]))
                g_approx.append(np.mean([jaccard(genres[tid], genres[t]) for t in got]) if got else 0.0)
                rand = rng.choice(len(frame), size=K, replace=False)
                g_random.append(np.mean([jaccard(genres[tid], frame["genres"].iat[j]) for j in rand]))
    return {"seeds": len(seeds), "recall_at_10": round(float(np.mean(recalls)), 4),
            "recall_at_10_min": round(float(np.min(recalls)), 4),
            "baseline_recall_at_10": round(float(np.mean(base_recalls)), 4),
            "genre_overlap_at_10": {"approximate": round(float(np.mean(g_approx)), 4),
                                    "exact": round(float(np.mean(g_exact)), 4),
                                    "random_baseline": round(float(np.mean(g_random)), 4),
                                    "measure": "mean Jaccard of seed and neighbour genres, seeds with genres"}}


def one_size(tracks: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="similar-bench-") as tmp:
        data_dir = Path(tmp)
        frame = synthetic_warehouse(tracks)
        write_lake(frame, data_dir / "lake")
        job = run_job(data_dir)
        baseline = run_baseline(data_dir / "lake", data_dir / "baseline.parquet")
        quality = evaluate(frame, data_dir / "lake", data_dir / "baseline.parquet")
    return {"tracks": tracks, "job": job, "faiss_on_the_driver": baseline,
            "time_ratio": round(job["wall_s"] / max(baseline["wall_s"], 0.1), 2),
            "cpu_ratio": round(job["cpu_s"] / max(baseline["cpu_s"], 0.1), 2), **quality,
            "load_average_1_5_15_at_end": [round(v, 1) for v in os.getloadavg()]}


def main(results_dir: Path, quick: bool = False, sizes: tuple[int, ...] | None = None) -> dict:
    sizes = sizes or ((20_000,) if quick else SIZES)
    runs: list[dict] = []
    report = {"benchmark": "similar_tracks", "cores": 2, "spark_master": "local[2]", "k": K, "runs": runs,
              "input": f"synthetic warehouse: {STYLES} styles (Gaussians in feature space, 4 genres each), "
                       f"0-3 genres per track", "cpu_count": os.cpu_count(),
              "compared": "the whole `similar` step (Spark start, both tables: similar AND clusters/PCA) against "
                          "FAISS alone writing the similar table only: the step is charged for the clusters",
              "note": "the machine is shared; a load average well above 2 inflates both wall times"}
    out = results_dir / "similar_bench.json"
    for n in sizes:  # written after each size, so a long 1M run keeps the 300k figures if stopped
        runs.append(one_size(n))
        out.write_text(json.dumps(report, indent=2))
    return report


def summary(r: dict) -> list[str]:
    lines = []
    for run in r["runs"]:
        job, base, g = run["job"], run["faiss_on_the_driver"], run["genre_overlap_at_10"]
        lines.append(
            f"similar tracks, {run['tracks']:,} tracks on 2 cores: step {job['wall_s']} s (incl. Spark start; peak "
            f"{job['peak_rss_mb']} MB, CPU {job['cpu_s']} s) vs FAISS on the driver {base['wall_s']} s (peak "
            f"{base['peak_rss_mb']} MB, CPU {base['cpu_s']} s): x{run['time_ratio']} (CPU x{run['cpu_ratio']}); recall@10 vs the exact rule {run['recall_at_10']} (FAISS alone "
            f"{run['baseline_recall_at_10']}) on {run['seeds']} seeds; genre overlap@10 {g['approximate']} "
            f"(exact {g['exact']}); load average before {job['load_average_before'][0]}/"
            f"{base['load_average_before'][0]}")
    return lines


if __name__ == "__main__":
    if sys.argv[1:2] == ["--baseline"]:
        faiss_on_the_driver(Path(sys.argv[2]), Path(sys.argv[3]))
        sys.exit(0)
    sizes = tuple(int(a) for a in sys.argv[1:]) or None
    report = main(Path(__file__).resolve().parent / "results", sizes=sizes)
    print("\n".join(summary(report)))
