from pathlib import Path

import pytest

from spotify_core.errors import PipelineError
from spotify_core.settings import Settings, environment_for, load_settings


def test_defaults_match_architecture(tmp_path: Path) -> None:
    s = load_settings({"DATA_DIR": str(tmp_path)})
    assert s.spotify_api_base_url == "https://api.spotify.com/v1"
    assert s.spotify_token_url == "https://accounts.spotify.com/api/token"
    assert s.kworb_base_url == "https://kworb.net/spotify"
    assert s.mongo_uri is None and s.mongo_db == "spotify"
    assert s.lake_uri == f"file://{tmp_path.resolve()}/lake"
    assert s.landing_sqlite_path == tmp_path / "landing.sqlite"
    assert s.trino_host is None and s.hive_metastore_uri is None
    assert s.audio_features_source == "auto"


def test_values_are_typed_and_empty_optionals_stay_unset() -> None:
    s = load_settings({
        "TRINO_PORT": "8081", "SPOTIFY_REQUESTS_PER_SECOND": "2.5", "CRAWL_INCLUDE_APPEARS_ON": "yes",
        "MONGO_URI": "", "LAKE_URI": "hdfs://namenode:8020", "CRAWL_TTL_HOURS": "",
    })
    assert s.trino_port == 8081
    assert s.spotify_requests_per_second == 2.5
    assert s.crawl_include_appears_on is True
    assert s.mongo_uri is None
    assert s.crawl_ttl_hours is None
    assert s.lake_uri == "hdfs://namenode:8020"


def test_crawl_schedule_is_weekly_unless_turned_off(tmp_path: Path) -> None:
    assert load_settings({"DATA_DIR": str(tmp_path)}).crawl_schedule == "@weekly"
    assert load_settings({"CRAWL_SCHEDULE": "0 6 * * 1"}).crawl_schedule == "0 6 * * 1"
    assert load_settings({"CRAWL_SCHEDULE": "none"}).crawl_schedule == "none"


def test_bad_number_is_one_clear_error() -> None:
    with pytest.raises(PipelineError, match="TRINO_PORT='eighty' is not a valid int"):
        load_settings({"TRINO_PORT": "eighty"})


def test_secrets_never_in_repr() -> None:
    s = Settings(spotify_client_id="the-id", spotify_client_secret="s3cr3t", mongo_uri="mongodb://u:pw@h")
    assert "s3cr3t" not in repr(s) and "the-id" not in repr(s) and "pw@" not in repr(s)
    assert s.has_credentials


def test_environment_round_trip(tmp_path: Path) -> None:
    s = load_settings({"DATA_DIR": str(tmp_path), "SPOTIFY_CLIENT_ID": "x", "CRAWL_WORKERS": "3"})
    assert load_settings(environment_for(s)) == s


def test_secrets_are_secret_types_and_reach_children(tmp_path: Path) -> None:
    s = load_settings({"DATA_DIR": str(tmp_path), "SPOTIFY_CLIENT_SECRET": "s3cr3t",
                       "AIRFLOW_ADMIN_PASSWORD": "pw1", "MONGO_URI": "mongodb://u:pw2@h"})
    assert "s3cr3t" not in str(s.model_dump()) and "pw1" not in str(s) and "pw2" not in f"{s!r}"
    assert s.spotify_client_secret.get_secret_value() == "s3cr3t"
    env = environment_for(s)
    assert env["SPOTIFY_CLIENT_SECRET"] == "s3cr3t" and env["MONGO_URI"] == "mongodb://u:pw2@h"
    assert s.replace(spotify_client_secret="other").spotify_client_secret.get_secret_value() == "other"


def test_sample_api_knobs_are_not_production_settings(monkeypatch) -> None:
    from sample_api.settings import SampleApiSettings

    assert not [name for name in Settings.model_fields if name.startswith("sample_api")]
    monkeypatch.setenv("SAMPLE_API_RATE_LIMIT", "7")
    assert SampleApiSettings().rate_limit == 7
