"""All configuration, read once from the environment (and `.env` when present).

This is the only module that looks at ``os.environ``; everything else receives a
:class:`Settings`. Secrets are kept out of ``repr`` so a logged settings object never leaks them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

from dotenv import dotenv_values

from spotify_pipeline.errors import PipelineError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Settings:
    # Spotify and kworb
    spotify_client_id: str | None = field(default=None, repr=False)
    spotify_client_secret: str | None = field(default=None, repr=False)
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
    audio_features_source: str = "auto"
    # Storage
    data_dir: Path = Path("./data")
    mongo_uri: str | None = field(default=None, repr=False)
    mongo_db: str = "spotify"
    lake_uri: str = ""
    webhdfs_url: str | None = None
    webhdfs_user: str | None = None
    # Spark and catalog
    spark_master: str = "local[*]"
    spark_driver_memory: str = "2g"
    hive_metastore_uri: str | None = None
    # SQL
    trino_host: str | None = None
    trino_port: int = 8080
    trino_user: str = "spotify"
    trino_catalog: str = "hive"
    # The local stack (`make stack`) and the Airflow UI login
    airflow_admin_user: str = "admin"
    airflow_admin_password: str = field(default="admin", repr=False)
    stack_cache_dir: Path = Path("~/.cache/spotify-platform").expanduser()
    stack_state_dir: Path | None = None   # default: $DATA_DIR/stack
    stack_port_offset: int = 0
    # Sample API fault injection (flags override these)
    sample_api_fault_rate: float = 0.0
    sample_api_slow_rate: float = 0.0
    sample_api_slow_seconds: float = 1.0
    sample_api_drop_rate: float = 0.0
    sample_api_truncate_rate: float = 0.0
    sample_api_rate_limit: int = 0
    sample_api_rate_window_s: float = 30.0
    sample_api_token_ttl_s: int = 3600

    @property
    def landing_sqlite_path(self) -> Path:
        return self.data_dir / "landing.sqlite"

    @property
    def stack_state_path(self) -> Path:
        return self.stack_state_dir or self.data_dir / "stack"

    @property
    def has_credentials(self) -> bool:
        return bool(self.spotify_client_id and self.spotify_client_secret)

    def replace(self, **changes: object) -> Settings:
        """A copy with some values changed (tests and the demo use it instead of mutating env)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)  # type: ignore[arg-type]


_ENV_NAMES: dict[str, str] = {
    "spotify_client_id": "SPOTIFY_CLIENT_ID",
    "spotify_client_secret": "SPOTIFY_CLIENT_SECRET",
    "spotify_api_base_url": "SPOTIFY_API_BASE_URL",
    "spotify_token_url": "SPOTIFY_TOKEN_URL",
    "kworb_base_url": "KWORB_BASE_URL",
    "spotify_requests_per_second": "SPOTIFY_REQUESTS_PER_SECOND",
    "spotify_timeout_s": "SPOTIFY_TIMEOUT_S",
    "spotify_max_retries": "SPOTIFY_MAX_RETRIES",
    "spotify_max_retry_after_s": "SPOTIFY_MAX_RETRY_AFTER_S",
    "crawl_workers": "CRAWL_WORKERS",
    "crawl_ttl_hours": "CRAWL_TTL_HOURS",
    "crawl_include_appears_on": "CRAWL_INCLUDE_APPEARS_ON",
    "audio_features_source": "AUDIO_FEATURES_SOURCE",
    "data_dir": "DATA_DIR",
    "mongo_uri": "MONGO_URI",
    "mongo_db": "MONGO_DB",
    "lake_uri": "LAKE_URI",
    "webhdfs_url": "WEBHDFS_URL",
    "webhdfs_user": "WEBHDFS_USER",
    "spark_master": "SPARK_MASTER",
    "spark_driver_memory": "SPARK_DRIVER_MEMORY",
    "hive_metastore_uri": "HIVE_METASTORE_URI",
    "trino_host": "TRINO_HOST",
    "trino_port": "TRINO_PORT",
    "trino_user": "TRINO_USER",
    "trino_catalog": "TRINO_CATALOG",
    "airflow_admin_user": "AIRFLOW_ADMIN_USER",
    "airflow_admin_password": "AIRFLOW_ADMIN_PASSWORD",
    "stack_cache_dir": "STACK_CACHE_DIR",
    "stack_state_dir": "STACK_STATE_DIR",
    "stack_port_offset": "STACK_PORT_OFFSET",
    "sample_api_fault_rate": "SAMPLE_API_FAULT_RATE",
    "sample_api_slow_rate": "SAMPLE_API_SLOW_RATE",
    "sample_api_slow_seconds": "SAMPLE_API_SLOW_SECONDS",
    "sample_api_drop_rate": "SAMPLE_API_DROP_RATE",
    "sample_api_truncate_rate": "SAMPLE_API_TRUNCATE_RATE",
    "sample_api_rate_limit": "SAMPLE_API_RATE_LIMIT",
    "sample_api_rate_window_s": "SAMPLE_API_RATE_WINDOW_S",
    "sample_api_token_ttl_s": "SAMPLE_API_TOKEN_TTL_S",
}


def _convert(name: str, raw: str, kind: type) -> object:
    raw = raw.strip()
    try:
        if kind is bool:
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is Path:
            return Path(raw).expanduser()
    except ValueError:
        raise PipelineError(f"{_ENV_NAMES[name]}={raw!r} is not a valid {kind.__name__}") from None
    return raw


def _field_kind(name: str) -> type:
    annotation = {f.name: f.type for f in fields(Settings)}[name]
    for kind, token in ((bool, "bool"), (int, "int"), (float, "float"), (Path, "Path")):
        if str(annotation).startswith(token):
            return kind
    return str


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build settings from a mapping of environment variables (pure; tests pass a dict)."""
    values: dict[str, object] = {}
    for name, var in _ENV_NAMES.items():
        raw = env.get(var)
        if raw is None or (raw.strip() == "" and _field_kind(name) is not str):
            continue
        if raw.strip() == "" and name in {"spotify_client_id", "spotify_client_secret", "mongo_uri",
                                          "webhdfs_url", "webhdfs_user", "hive_metastore_uri", "trino_host"}:
            continue
        values[name] = _convert(name, raw, _field_kind(name))
    settings = Settings(**values)  # type: ignore[arg-type]
    if not settings.lake_uri:
        settings = settings.replace(lake_uri=f"file://{settings.data_dir.resolve()}/lake")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process: the environment, completed by `./.env` (environment wins)."""
    env: dict[str, str] = {k: v for k, v in dotenv_values(Path.cwd() / ".env").items() if v is not None}
    env.update(os.environ)
    return load_settings(env)


def environment_for(settings: Settings) -> dict[str, str]:
    """The environment variables that reproduce ``settings`` in a child process (spark-submit, Airflow)."""
    out: dict[str, str] = {}
    for name, var in _ENV_NAMES.items():
        value = getattr(settings, name)
        if value is None:
            continue
        out[var] = str(value).lower() if isinstance(value, bool) else str(value)
    return out
