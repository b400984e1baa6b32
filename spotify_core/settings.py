"""All configuration: one typed pydantic-settings object, read from the environment (and `.env`).

This is the only module that looks at ``os.environ``. Each edge (the CLI, a Spark entry point,
an Airflow task) builds :class:`Settings` once and passes it down. Field ``foo_bar`` is variable
``FOO_BAR``; empty values count as unset. Secrets are :class:`~pydantic.SecretStr`, so neither
``repr`` nor a log line shows them; ``.get_secret_value()`` is called only where one is sent.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from spotify_core.errors import PipelineError

_KINDS = {"int_parsing": "int", "int_from_float": "int", "float_parsing": "float", "bool_parsing": "bool"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True,
                                      extra="ignore", frozen=True)

    # Spotify and kworb
    spotify_client_id: str | None = Field(default=None, repr=False)
    spotify_client_secret: SecretStr | None = None
    spotify_api_base_url: str = "https://api.spotify.com/v1"
    spotify_token_url: str = "https://accounts.spotify.com/api/token"
    kworb_base_url: str = "https://kworb.net/spotify"
    # Crawler behaviour
    spotify_requests_per_second: float = 10.0
    spotify_timeout_s: float = 10.0
    spotify_max_retries: int = 6
    spotify_max_retry_after_s: float = 60.0
    crawl_workers: int = 8
    crawl_ttl_hours: float | None = None
    crawl_include_appears_on: bool = False
    # redis://HOST:PORT/DB: every crawl process (parallel shards, Celery workers on other machines)
    # spends Spotify's rate from one window kept there; empty = each shard gets its share of the rate
    crawl_rate_store_url: str = ""
    # The crawl DAG's cron; "none" = manual and asset runs only (unpausing then starts nothing)
    crawl_schedule: str = "@weekly"
    audio_features_source: str = "auto"  # auto | spotify | reccobeats | file:PATH | none
    genres_source: str = "auto"  # auto | spotify | musicbrainz | none
    # Enrichment sources for what Spotify no longer gives development-mode apps (docs/sources.md)
    reccobeats_api_base_url: str = "https://api.reccobeats.com/v1"
    reccobeats_requests_per_second: float = 5.0  # its own budget, never Spotify's
    musicbrainz_api_base_url: str = "https://musicbrainz.org/ws/2"
    # MusicBrainz blocks anonymous clients: complete it with your contact (e-mail or URL)
    musicbrainz_user_agent: str = "spotify-data-platform/0.1 ( https://github.com/spotify-data-platform )"
    # Seconds from a MusicBrainz answer to the next request of a process (MusicBrainz allows one a
    # second). Parallel crawl shards each take a multiple of it.
    musicbrainz_min_interval_s: float = 1.0
    # An id an enrichment source did not know is asked about again only after this many days
    enrichment_retry_days: float = 30.0
    # Storage
    data_dir: Path = Path("./data")
    mongo_uri: SecretStr | None = None  # may carry a password
    mongo_db: str = "spotify"
    lake_uri: str = ""  # default: file://$DATA_DIR/lake
    webhdfs_url: str | None = None
    webhdfs_user: str | None = None
    # Spark and catalog
    spark_master: str = "local[*]"
    spark_driver_memory: str = "2g"
    spark_class_archive: bool = True  # driver JVMs map the class archive `make install` builds
    # JVM options of Spark's executors on a cluster (spark.executor.extraJavaOptions); empty: the JVM's own.
    # For small catalogs "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC": each step's fresh executors compile
    # less than C2 would (docs/performance.md)
    spark_executor_java_options: str = ""
    # How Spotify_DAG runs its Spark steps: "submit" = one spark-submit per task (SparkSubmitOperator, a
    # cluster's choice); "session" = in the task's own process, in one long-lived Spark session per process
    # (the demo, whose `dags test` runs every task in one process)
    spark_tasks: Literal["submit", "session"] = "submit"
    hive_metastore_uri: str | None = None
    # SQL
    trino_host: str | None = None
    trino_port: int = 8080
    trino_user: str = "spotify"
    trino_catalog: str = "hive"
    # The Airflow UI login; downloads kept across runs (the Trino JDBC driver, the Spark class archive)
    airflow_admin_user: str = "admin"
    airflow_admin_password: SecretStr = SecretStr("admin")
    stack_cache_dir: Path = Path("~/.cache/spotify-platform").expanduser()

    @field_validator("data_dir", "stack_cache_dir")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @model_validator(mode="after")
    def _default_lake(self) -> Settings:
        if not self.lake_uri:
            object.__setattr__(self, "lake_uri", f"file://{self.data_dir.resolve()}/lake")
        return self

    @property
    def landing_sqlite_path(self) -> Path:
        return self.data_dir / "landing.sqlite"

    @property
    def has_credentials(self) -> bool:
        secret = self.spotify_client_secret.get_secret_value() if self.spotify_client_secret else ""
        return bool(self.spotify_client_id and secret)

    def replace(self, **changes: Any) -> Settings:
        """A validated copy with some values changed (tests and the demo use it instead of mutating env)."""
        return _validated(lambda: type(self).model_validate({**dict(self), **changes}))


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' own environment reading (names, types, nesting), over a given mapping."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._mapping = {k.lower(): v for k, v in env.items() if v is not None and v.strip()}
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return self._mapping


def _validated(build) -> Settings:
    """Run ``build``; a validation error becomes one PipelineError line naming the variable."""
    try:
        return build()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "settings"
        kind = _KINDS.get(err["type"])
        if kind:
            raise PipelineError(f"{name}={err['input']!r} is not a valid {kind}") from None
        raise PipelineError(f"{name}: {err['msg']}") from None


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build settings from a mapping of environment variables (pure: the process environment is not read)."""
    return _validated(lambda: Settings.model_validate(_MappingSource(env)()))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process: the environment, completed by `./.env` (environment wins)."""
    return _validated(Settings)


def environment_for(settings: Settings) -> dict[str, str]:
    """The environment variables that reproduce ``settings`` in a child process (spark-submit, Airflow)."""
    out: dict[str, str] = {}
    for name, value in settings:
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        out[name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def inherited_environment() -> dict[str, str]:
    """A copy of this process's environment, for child processes that must inherit it (PATH, HOME...)."""
    return dict(os.environ)


def child_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """This process's environment with ``settings`` (and ``extra``) on top, for a child process.

    The caller's own environment is never changed: children get theirs explicitly.
    """
    return {**inherited_environment(), **environment_for(settings), **extra}


def python_workers_use_this_interpreter() -> None:
    """Spark's Python workers run ``$PYSPARK_PYTHON`` (default: whatever ``python3`` is on PATH, often not
    this venv, so numpy is missing); pyspark reads only that variable, when its context starts."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def spark_submit_opts_for_this_process(opts: str) -> None:
    """JVM options for the driver a pyspark session of this process starts (its gateway runs spark-submit,
    which reads ``SPARK_SUBMIT_OPTS`` then)."""
    if opts:
        os.environ["SPARK_SUBMIT_OPTS"] = opts
