"""The Python work behind the Airflow tasks; DAG files only wire these together.

Every function takes plain arguments and returns small JSON-able results (XComs), so the same call works in
``dag.test()``, ``airflow dags test`` and a real scheduler. A task is an edge: it builds its
settings from the environment (:func:`get_settings`) unless a caller already holding them passes
``settings=`` (the demo's direct mode).
"""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from pathlib import Path

from spotify_core.errors import PipelineError
from spotify_core.settings import Settings, get_settings

log = logging.getLogger(__name__)
PACKAGES = ("spotify_core", "spotify_pipeline", "crawler", "spark_jobs", "lake", "analytics")
KEPT_ZIPS = 3


def scrape_kworb(artists_file: str | None, limit: int | None, settings: Settings | None = None) -> str:
    """kworb -> artists.txt under DATA_DIR, unless a prepared artists file is given."""
    from crawler.kworb_scrape import land_numbers, live_pages, scrape_date, write_artists

    if artists_file:
        return artists_file
    settings = settings or get_settings()
    html = live_pages(settings.kworb_base_url)
    out = settings.data_dir / "artists.txt"
    log.info("kworb: %d artists -> %s", write_artists(html, out, limit).written, out)
    date = scrape_date(None)
    landed = land_numbers(settings, html, date)
    log.info("kworb numbers for %s: %d rows landed, %d quarantined", date, landed.rows, landed.rejected)
    return str(out)


def plan_shards(artists_file: str, shards: int, limit: int | None) -> list[dict]:
    """Split the artists into ``shards`` files so mapped crawl tasks share the work (and the rate)."""
    from crawler.artists_file import read_artists_file, write_artists_file

    entries, problems = read_artists_file(Path(artists_file))
    for problem in problems:
        log.warning("%s: %s (skipped)", artists_file, problem)
    entries = entries[:limit] if limit else entries
    folder = get_settings().data_dir / "shards"
    shards = max(1, min(shards, len(entries) or 1))
    plan = []
    for i in range(shards):
        path = folder / f"artists.{i:03d}.txt"
        write_artists_file(path, entries[i::shards])
        plan.append({"path": str(path), "shard": i, "shards": shards})
    return plan


def crawl_shard(path: str, shards: int, workers: int, run_id: str, mode: str = "continue",
                settings: Settings | None = None) -> dict:
    """Crawl one shard with its share of the configured rate (at most MAX_PARALLEL_SHARDS run at once).

    A spent Spotify quota fails the task at once with the resume time and without Airflow's retries
    (``AirflowFailException``): a retry minutes later would only meet the same 429, and deferring for
    hours would hold the run (and its other shards) open on a quota shared with every app of the
    developer, which may still be spent then. What landed stays; a ``continue`` run resumes exactly
    where this one stopped (a ``refresh`` lists every artist again but fetches only what is missing).
    """
    from crawler.spotify.quota import QuotaExhausted

    try:
        return _crawl_shard(path, shards, workers, run_id, mode, settings)
    except QuotaExhausted as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from None


def _crawl_shard(path: str, shards: int, workers: int, run_id: str, mode: str,
                 settings: Settings | None) -> dict:
    from crawler.artists_file import read_artists_file
    from crawler.crawl_job import crawl_artists
    from spotify_pipeline.orchestration import MAX_PARALLEL_SHARDS

    settings = settings or get_settings()
    concurrent = min(shards, MAX_PARALLEL_SHARDS)
    # Each source's rate is one budget for all shards running at once, so each gets its share; Spotify's
    # needs no split when its window is shared (CRAWL_RATE_STORE_URL: every shard spends from one).
    spotify_share = 1 if settings.crawl_rate_store_url else concurrent
    settings = settings.replace(
        spotify_requests_per_second=settings.spotify_requests_per_second / spotify_share,
        reccobeats_requests_per_second=settings.reccobeats_requests_per_second / concurrent,
        musicbrainz_min_interval_s=settings.musicbrainz_min_interval_s * concurrent)
    entries, _ = read_artists_file(Path(path))
    report, counts = crawl_artists(settings, entries, run_id, workers=workers, mode=mode, progress=log.info)
    log.info("%s", report.summary(counts))
    if report.failed:
        log.warning("%d artists failed: %s", len(report.failed), report.failed)
    return {"done": report.done, "skipped": report.skipped, "failed": len(report.failed),
            "calls": sum(report.calls.values()), "landed": dict(report.landed)}


def landing_counts() -> dict[str, int]:
    from crawler.landing import open_store

    with open_store(get_settings()) as store:
        return store.counts()


def check_crawl(results: list[dict]) -> dict[str, int]:
    """The landing counts, or a failure without retries when artists failed permanently: the crawler has
    already retried what a retry can fix, and a rerun of this task would only count them again."""
    failed = sum(r["failed"] for r in results)
    counts = landing_counts()
    if failed:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(f"{failed} artists failed permanently (everything else landed): {counts}")
    return counts


def export_to_bronze(settings: Settings | None = None) -> dict[str, int]:
    from crawler.landing import open_store
    from lake.export import export_landing
    from lake.fs import open_lake

    settings = settings or get_settings()
    with open_store(settings) as store:
        result = export_landing(store, open_lake(settings), progress=log.info)
    log.info("export %s: %d rows", result.export_id, result.total_rows)
    return result.rows


def package_code(settings: Settings | None = None) -> str:
    """Zip the project packages for spark-submit --py-files, so cluster drivers get the same code."""
    root = Path(__file__).resolve().parent.parent
    return str(code_zip(root, (settings or get_settings()).data_dir / "dist"))


def code_zip(root: Path, folder: Path) -> Path:
    """The zip of ``root``'s packages in ``folder``, named by a hash of the sources it holds.

    Built only when no zip of that hash exists (the first run after a code change); the newest
    few are kept, as a run still going may hold an older zip's path in its XCom.
    """
    sources = [path for package in PACKAGES for path in sorted((root / package).rglob("*.py"))]
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    out = folder / f"spotify_pipeline-{digest.hexdigest()[:16]}.zip"
    if out.exists():
        return out
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{out.name}.{os.getpid()}.tmp"  # two workers building at once never share a file
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sources:
            zf.write(path, path.relative_to(root).as_posix())
    tmp.replace(out)
    zips = sorted(folder.glob("spotify_pipeline*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in zips[KEPT_ZIPS:]:
        old.unlink(missing_ok=True)
    return out


def spark_step(layer: str, settings: Settings | None = None) -> dict[str, int]:
    """One Spark step in this process's long-lived session (``SPARK_TASKS=session``); rows per table written.

    Failures a retry cannot fix (bad input, failed data-quality checks) fail the task at once
    (``AirflowFailException``); anything else (a lost executor, a full disk) is left to Airflow's retries.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from spark_jobs.runner import require_inputs, run_spark_step
    from spark_jobs.session import shared_session

    settings = settings or get_settings()
    try:
        require_inputs(settings, [layer])
        result = run_spark_step(shared_session(settings), settings, layer)
    except PipelineError as exc:
        raise AirflowFailException(str(exc)) from None
    for line in result.lines:
        log.info("%s", line)
    if not result.ok:
        raise AirflowFailException(f"{layer} failed: {result.lines[0] if result.lines else 'see the log'}")
    return result.counts


def spark_application() -> str:
    """Path of the single spark-submit entry (``spark_jobs/submit.py``), wherever the package is installed."""
    import spark_jobs

    return str(Path(spark_jobs.__file__).resolve().parent / "submit.py")
