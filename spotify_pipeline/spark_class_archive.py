"""A class-data-sharing archive for Spark's driver JVMs: each spark-submit starts seconds sooner.

A Spark driver loads and verifies some 15,000 classes from the jars before it runs any data work,
every launch. The JDK's dynamic AppCDS archive (JEP 350) keeps them pre-parsed in one file that the
JVM maps instead. ``make install`` builds it once per installation with
``python -m spotify_pipeline.spark_class_archive``: a short representative Spark application
(``spark_jobs/class_archive_workload.py``) runs with ``-XX:ArchiveClassesAtExit``. Launches then
add ``-XX:SharedArchiveFile`` through ``SPARK_SUBMIT_OPTS``, which spark-submit (and so Airflow's
SparkSubmitOperator and pyspark's own gateway) passes to the driver JVM.

The archive is keyed by the Java binary, the pyspark version and ``SPARK_CONF_DIR``: a JVM refuses
an archive from another build or class path (it warns and starts without it), so a new JDK, Spark
or configuration folder simply needs a new file.
``SPARK_CLASS_ARCHIVE=false`` turns it off.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from spotify_pipeline.settings import (
    Settings,
    get_settings,
    inherited_environment,
    spark_submit_opts_for_this_process,
)

OPTION = "-XX:SharedArchiveFile="


def java_binary(env: Mapping[str, str]) -> Path | None:
    """The java spark-submit will run: ``$JAVA_HOME/bin/java``, else the one on PATH (as spark-class does)."""
    if env.get("JAVA_HOME"):
        candidate = Path(env["JAVA_HOME"]) / "bin" / "java"
        return candidate.resolve() if candidate.exists() else None
    found = shutil.which("java", path=env.get("PATH"))
    return Path(found).resolve() if found else None


def archive_path(settings: Settings, env: Mapping[str, str]) -> Path | None:
    """Where the archive for this Java and pyspark lives (None without a Java)."""
    from importlib.metadata import version

    java = java_binary(env)
    if java is None:
        return None
    stat = java.stat()
    # SPARK_CONF_DIR heads the driver's class path, and the JVM maps an archive only for the class
    # path it was built with (later entries, such as HADOOP_CONF_DIR, may be added)
    conf_dir = env.get("SPARK_CONF_DIR", "")
    key = hashlib.sha256(f"{java}|{stat.st_size}|{stat.st_mtime_ns}|{conf_dir}".encode()).hexdigest()[:12]
    return settings.stack_cache_dir / "spark-class-archive" / f"pyspark-{version('pyspark')}-java-{key}.jsa"


def submit_opts(settings: Settings, env: Mapping[str, str]) -> str:
    """``env``'s SPARK_SUBMIT_OPTS plus the archive option when the archive exists (and is wanted)."""
    current = env.get("SPARK_SUBMIT_OPTS", "")
    if not settings.spark_class_archive or OPTION in current:
        return current
    path = archive_path(settings, env)
    if path is None or not path.exists():
        return current
    return f"{current} {OPTION}{path}".strip()


def use_in_this_process(settings: Settings) -> None:
    """For a pyspark session started by this process (its gateway runs spark-submit with our env)."""
    spark_submit_opts_for_this_process(submit_opts(settings, inherited_environment()))


def build(settings: Settings, env: Mapping[str, str]) -> Path:
    """Run the workload once with ``-XX:ArchiveClassesAtExit``; the archive written (atomically)."""
    from spotify_pipeline.errors import PipelineError

    target = archive_path(settings, env)
    if target is None:
        raise PipelineError("no java found (JAVA_HOME or PATH): cannot build the Spark class archive")
    target.parent.mkdir(parents=True, exist_ok=True)
    workload = Path(__file__).resolve().parent.parent / "spark_jobs" / "class_archive_workload.py"
    spark_submit = Path(sys.executable).parent / "spark-submit"
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    log = target.with_suffix(".log")
    child_env = {**env, "SPARK_SUBMIT_OPTS": "", "PYSPARK_PYTHON": sys.executable}
    with tempfile.TemporaryDirectory(prefix="spark-class-archive-") as scratch, open(log, "w") as out:
        cmd = [str(spark_submit), "--master", "local[2]", "--conf", "spark.ui.enabled=false",
               # the dump warns about every class it cannot keep (old bytecode, generated accessors)
               "--driver-java-options", f"-XX:ArchiveClassesAtExit={partial} -Xlog:cds=off -Xlog:cds+dynamic=off",
               str(workload), scratch]
        proc = subprocess.run(cmd, env=child_env, stdout=out, stderr=subprocess.STDOUT, cwd=scratch)
    if proc.returncode != 0 or not partial.exists():
        partial.unlink(missing_ok=True)
        raise PipelineError(f"building the Spark class archive failed (exit {proc.returncode}); see {log}")
    partial.replace(target)
    return target


def main() -> int:
    """``make install``: build the archive unless this Java and pyspark already have one."""
    from spotify_pipeline.errors import PipelineError

    settings = get_settings()
    if not settings.spark_class_archive:
        print("spark class archive: off (SPARK_CLASS_ARCHIVE=false)")
        return 0
    env = inherited_environment()
    existing = archive_path(settings, env)
    if existing is not None and existing.exists():
        print(f"spark class archive: {existing} (already built)")
        return 0
    start = time.monotonic()
    print("spark class archive: building (a short Spark run, once per installation) ...", flush=True)
    try:
        path = build(settings, env)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"spark class archive: {path} ({path.stat().st_size / 1e6:.0f} MB, {time.monotonic() - start:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
