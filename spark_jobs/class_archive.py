"""A class-data-sharing archive for Spark's driver JVMs: each spark-submit starts seconds sooner.

A Spark driver loads and verifies some 15,000 classes from the jars before it runs any data work,
every launch. The JDK's dynamic AppCDS archive (JEP 350) keeps them pre-parsed in one file that the
JVM maps instead. ``make install`` builds it once per installation with
``python -m spark_jobs.class_archive``: a short representative Spark application
(``spark_jobs/class_archive_workload.py``) runs with ``-XX:ArchiveClassesAtExit``. Launches then
add ``-XX:SharedArchiveFile`` through ``SPARK_SUBMIT_OPTS``, which spark-submit (and so Airflow's
SparkSubmitOperator and pyspark's own gateway) passes to the driver JVM.

The archive is keyed by the Java binary, the Spark installation (each venv has its own) and
``SPARK_CONF_DIR``: a JVM refuses an archive from another build or class path (it warns and
starts without it), so a new JDK, venv or configuration folder simply needs a new file.
``SPARK_CLASS_ARCHIVE=false`` turns it off. A Java that cannot write a dynamic archive (before JDK 13)
gets none: ``make install`` says so in one line and goes on. Any other failure fails the install.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from spotify_core.settings import (
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


def writes_dynamic_archives(java: Path) -> bool:
    """Whether this JVM knows ``-XX:ArchiveClassesAtExit`` (JDK 13 and later)."""
    proc = subprocess.run([str(java), "-XX:+PrintFlagsFinal", "-version"], capture_output=True, text=True,
                          timeout=60)
    return "ArchiveClassesAtExit" in proc.stdout


def spark_home(env: Mapping[str, str]) -> Path:
    """The Spark installation spark-submit runs: ``$SPARK_HOME``, else the pyspark package (a venv's own)."""
    import pyspark

    return Path(env.get("SPARK_HOME") or Path(pyspark.__file__).parent).resolve()


def archive_path(settings: Settings, env: Mapping[str, str]) -> Path | None:
    """Where the archive for this Java and pyspark lives (None without a Java)."""
    from importlib.metadata import version

    java = java_binary(env)
    if java is None:
        return None
    stat = java.stat()
    # the JVM maps an archive only for the class path it was built with (later entries, such as
    # HADOOP_CONF_DIR, may be added): SPARK_CONF_DIR, then the jars of this Spark installation
    class_path = f"{spark_home(env)}|{env.get('SPARK_CONF_DIR', '')}"
    key = hashlib.sha256(f"{java}|{stat.st_size}|{stat.st_mtime_ns}|{class_path}".encode()).hexdigest()[:12]
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
    from spotify_core.errors import PipelineError

    target = archive_path(settings, env)
    if target is None:
        raise PipelineError("no java found (JAVA_HOME or PATH): cannot build the Spark class archive")
    target.parent.mkdir(parents=True, exist_ok=True)
    workload = Path(__file__).resolve().parent / "class_archive_workload.py"
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
    target.with_suffix(".json").write_text(json.dumps({"spark_home": str(spark_home(env)),
                                                       "java": str(java_binary(env))}))
    return target


def prune_stale(folder: Path) -> list[Path]:
    """Delete the archives whose Spark installation or Java is gone (a removed venv or clone); those deleted."""
    gone = []
    for meta in folder.glob("*.json"):
        try:
            built_for = json.loads(meta.read_text())
            stale = not all(Path(built_for[k]).exists() for k in ("spark_home", "java"))
        except (OSError, ValueError, KeyError, TypeError):
            stale = True
        if stale:
            for path in (meta.with_suffix(".jsa"), meta.with_suffix(".log"), meta):
                path.unlink(missing_ok=True)
            gone.append(meta.with_suffix(".jsa"))
    return gone


def main() -> int:
    """``make install``: build the archive unless this Java and pyspark already have one."""
    from spotify_core.errors import PipelineError

    settings = get_settings()
    if not settings.spark_class_archive:
        print("spark class archive: off (SPARK_CLASS_ARCHIVE=false)")
        return 0
    env = inherited_environment()
    existing = archive_path(settings, env)
    if existing is not None and existing.exists():
        print(f"spark class archive: {existing} (already built)")
        return 0
    if existing is not None:
        java = java_binary(env)
        if java is not None and not writes_dynamic_archives(java):
            print(f"spark class archive: skipped ({java} cannot write one; Spark starts the slower way)")
            return 0
        for path in prune_stale(existing.parent):
            print(f"spark class archive: removed {path.name} (its Spark or Java is gone)")
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
