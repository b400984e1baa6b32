"""The Spark class archive: which launches get it, and that a real spark-submit maps classes from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spark_jobs import class_archive as archive
from spotify_core.settings import inherited_environment, load_settings


def _fake_java(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\n")
    return {"JAVA_HOME": str(home), "PATH": "/usr/bin"}


def test_the_option_is_added_only_when_the_archive_exists_and_is_wanted(tmp_path: Path) -> None:
    settings = load_settings({"STACK_CACHE_DIR": str(tmp_path / "cache")})
    env = {**_fake_java(tmp_path), "SPARK_SUBMIT_OPTS": "-XX:+UseSerialGC"}
    assert archive.submit_opts(settings, env) == "-XX:+UseSerialGC"  # not built yet
    path = archive.archive_path(settings, env)
    assert path is not None and path.is_relative_to(tmp_path / "cache")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    with_archive = archive.submit_opts(settings, env)
    assert with_archive == f"-XX:+UseSerialGC -XX:SharedArchiveFile={path}"
    assert archive.submit_opts(settings, {**env, "SPARK_SUBMIT_OPTS": with_archive}) == with_archive  # not twice
    assert archive.submit_opts(settings.replace(spark_class_archive=False), env) == "-XX:+UseSerialGC"


def test_another_java_or_class_path_gets_another_archive(tmp_path: Path) -> None:
    settings = load_settings({"STACK_CACHE_DIR": str(tmp_path / "cache")})
    env = _fake_java(tmp_path)
    first = archive.archive_path(settings, env)
    java = Path(env["JAVA_HOME"]) / "bin" / "java"
    java.write_text("#!/bin/sh\n# a newer build\n")
    assert archive.archive_path(settings, env) != first
    assert archive.archive_path(settings, {**env, "SPARK_CONF_DIR": str(tmp_path)}) != archive.archive_path(
        settings, env)  # another class path
    assert archive.archive_path(settings, {**env, "SPARK_HOME": str(tmp_path)}) != archive.archive_path(
        settings, env)  # another Spark installation (another venv)
    assert archive.archive_path(settings, {"JAVA_HOME": str(tmp_path / "nowhere"), "PATH": ""}) is None


def test_archives_of_a_removed_venv_are_pruned(tmp_path: Path) -> None:
    live, dead = tmp_path / "live.json", tmp_path / "dead.json"
    live.write_text(json.dumps({"spark_home": str(tmp_path), "java": str(tmp_path)}))
    dead.write_text(json.dumps({"spark_home": str(tmp_path / "removed-clone"), "java": str(tmp_path)}))
    for meta in (live, dead):
        meta.with_suffix(".jsa").write_bytes(b"archive")
    assert archive.prune_stale(tmp_path) == [dead.with_suffix(".jsa")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.jsa", "live.json"]


@pytest.mark.contract  # a real spark-submit
def test_spark_submit_maps_the_drivers_classes_from_the_installed_archive(tmp_path: Path) -> None:
    """`make install` built it; a spark-submit with the options the demo and Airflow pass loads from it."""
    env = inherited_environment()
    settings = load_settings(env)
    path = archive.archive_path(settings, env)
    assert path is not None and path.exists(), f"no Spark class archive at {path}: `make install` builds it"
    job = tmp_path / "job.py"
    job.write_text("from pyspark.sql import SparkSession\n"
                   "s = SparkSession.builder.getOrCreate()\nprint('rows', s.range(3).count())\ns.stop()\n")
    class_log = tmp_path / "classes.log"
    opts = f"{archive.submit_opts(settings, {**env, 'SPARK_SUBMIT_OPTS': ''})} -Xlog:class+load=info:file={class_log}"
    proc = subprocess.run([str(Path(sys.executable).parent / "spark-submit"), "--master", "local[1]",
                           "--conf", "spark.ui.enabled=false", str(job)],
                          env={**env, "SPARK_SUBMIT_OPTS": opts, "PYSPARK_PYTHON": sys.executable},
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "rows 3" in proc.stdout
    lines = class_log.read_text().splitlines()
    spark_classes = [line for line in lines if " org.apache.spark." in line]
    # the dynamic archive is the "top" layer of the shared classes (the JDK's own is the base); what
    # else is not read from a jar is a lambda the JVM spins at run time, which no archive holds
    from_archive = sum("shared objects file (top)" in line for line in spark_classes)
    from_jars = sum(" source: jar:" in line or " source: file:" in line for line in spark_classes)
    assert from_archive > 3000 and from_jars < 0.05 * from_archive, (from_archive, from_jars)
    assert os.environ.get("SPARK_SUBMIT_OPTS", "") == env.get("SPARK_SUBMIT_OPTS", "")  # ours was the child's
