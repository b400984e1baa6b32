"""Landing zone -> ``/bronze_layer/<collection>``: raw JSON preserved, incremental, atomic.

Each export writes new Parquet parts (``_id, fetched_at, run_id, payload``) for the documents
whose ``fetched_at`` is past the collection's watermark. Parts are written under
``bronze_layer/_staging/<export_id>/`` and renamed into place, then the watermark file is
replaced. A crash before the watermark moves leaves, at worst, parts whose rows are exported
again next time: silver keeps the latest ``fetched_at`` per id, so a repeat is harmless, and
the next run clears staging leftovers. ``--full`` rebuilds every collection folder aside and
swaps it in.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from crawler.landing import COLLECTIONS, LandingStore
from lake.fs import LakeFS
from lake.layout import BRONZE, LANDING_COUNTS, STATE

STAGING = f"{BRONZE}/_staging"
BRONZE_SCHEMA = pa.schema([
    pa.field("_id", pa.string(), nullable=False),
    pa.field("fetched_at", pa.string(), nullable=False),
    pa.field("run_id", pa.string(), nullable=False),
    pa.field("payload", pa.string(), nullable=False),
])
ROW_GROUP, ROW_GROUP_BYTES = 50_000, 32 * 2**20
ROWS_PER_FILE, FILE_BYTES = 500_000, 512 * 2**20


@dataclass
class ExportResult:
    export_id: str
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def read_watermarks(fs: LakeFS) -> dict[str, str]:
    if not fs.exists(STATE):
        return {}
    return json.loads(fs.read_bytes(STATE).decode())


def _replace_json(fs: LakeFS, path: str, data: dict, export_id: str) -> None:
    folder, name = path.rsplit("/", 1)
    tmp = f"{folder}/.{name.removesuffix('.json')}.{export_id}.json"
    fs.write_file(tmp, json.dumps(data, indent=2, sort_keys=True).encode())
    fs.delete(path)
    fs.rename(tmp, path)


def _parts(store: LandingStore, collection: str, since: str | None, workdir: Path, export_id: str):
    """Yield (local parquet file, rows, max fetched_at) per part, streaming from the store.

    Row groups and files are bounded by payload bytes as well as rows: album payloads carry
    their whole track lists, so a row count alone would let memory grow with album size.
    """
    batch: dict[str, list[str]] = {name: [] for name in BRONZE_SCHEMA.names}
    batch_bytes = file_rows = file_bytes = part = 0
    writer: pq.ParquetWriter | None = None
    path: Path | None = None
    high = since

    def flush() -> None:
        nonlocal writer, path, batch, batch_bytes, file_rows, file_bytes
        if writer is None:
            path = workdir / f"part-{export_id}-{part:05d}.parquet"
            writer = pq.ParquetWriter(path, BRONZE_SCHEMA, compression="zstd")
        writer.write_table(pa.table(batch, schema=BRONZE_SCHEMA))
        file_rows, file_bytes = file_rows + len(batch["_id"]), file_bytes + batch_bytes
        batch, batch_bytes = {name: [] for name in BRONZE_SCHEMA.names}, 0

    for doc in store.iter_raw(collection, fetched_after=since):
        batch["_id"].append(doc.id)
        batch["fetched_at"].append(doc.fetched_at)
        batch["run_id"].append(doc.run_id)
        batch["payload"].append(doc.payload_json)
        batch_bytes += len(doc.payload_json)
        high = doc.fetched_at
        if len(batch["_id"]) >= ROW_GROUP or batch_bytes >= ROW_GROUP_BYTES:
            flush()
            if file_rows >= ROWS_PER_FILE or file_bytes >= FILE_BYTES:
                writer.close()
                yield path, file_rows, high
                part, file_rows, file_bytes, writer = part + 1, 0, 0, None
    if batch["_id"]:
        flush()
    if writer is not None:
        writer.close()
        yield path, file_rows, high


def export_landing(store: LandingStore, fs: LakeFS, full: bool = False,
                   progress=lambda line: None) -> ExportResult:
    export_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    result = ExportResult(export_id)
    start = time.monotonic()
    fs.delete(STAGING)  # leftovers of a crashed export: never renamed, so never visible
    marks = {} if full else read_watermarks(fs)
    new_marks = dict(marks)
    with tempfile.TemporaryDirectory(prefix="bronze-export-") as tmp:
        for collection in COLLECTIONS:
            t0 = time.monotonic()
            stage_dir = f"{STAGING}/{export_id}/{collection}"
            rows = files = 0
            for local, n, high in _parts(store, collection, marks.get(collection), Path(tmp), export_id):
                with open(local, "rb") as fh:
                    fs.write_file(f"{stage_dir}/{local.name}", fh)
                local.unlink()
                rows, files = rows + n, files + 1
                new_marks[collection] = high
                progress(f"export {collection}: {rows} rows ({rows / max(time.monotonic() - t0, 1e-6):.0f}/s)")
            result.rows[collection], result.files[collection] = rows, files
            if full:
                fs.delete(f"{BRONZE}/{collection}")
                if files:
                    fs.rename(stage_dir, f"{BRONZE}/{collection}")
            else:
                for name in fs.listdir(stage_dir):
                    fs.rename(f"{stage_dir}/{name}", f"{BRONZE}/{collection}/{name}")
            if full and not files:
                new_marks.pop(collection, None)
    if new_marks != marks or full:
        _replace_json(fs, STATE, new_marks, export_id)
    _replace_json(fs, LANDING_COUNTS, store.counts(), export_id)
    fs.delete(STAGING)
    result.seconds = time.monotonic() - start
    return result
