"""`spotify-pipeline doctor`: what a setup will get, against the sample API in both modes, no secret printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from sample_api.server import start_sample_api
from spotify_core.settings import load_settings
from spotify_pipeline.doctor.probes import Answer, Probes
from spotify_pipeline.doctor.report import (
    build_report,
    features_source,
    genres_source,
    mask,
    render_text,
    user_agent_has_contact,
)

SECRET = "s3cr3t-never-printed-7f1e"
EXTENDED = dict.fromkeys(("batch_endpoints", "album_page_50", "audio_features", "artist_genres",
                          "artist_followers_popularity", "track_popularity", "external_ids"), True)
DEVELOPMENT = {**dict.fromkeys(EXTENDED, False), "external_ids": True}


# ---------------------------------------------------------------- pure: sources and verdict
def test_the_source_of_each_gap_follows_the_settings_and_what_spotify_gives() -> None:
    assert features_source("auto", True)[0] == "spotify"
    assert features_source("auto", False)[0] == "reccobeats"
    assert features_source("spotify", False)[0] == "none"
    assert features_source("reccobeats", True)[0] == "reccobeats"
    assert features_source("file:/x.csv", None)[0] == "file:/x.csv"
    assert features_source("none", True)[0] == "none"
    assert genres_source("auto", True)[0] == "spotify"
    assert genres_source("auto", False)[0] == "musicbrainz"
    assert genres_source("spotify", False)[0] == "none"
    assert genres_source("musicbrainz", True)[0] == "musicbrainz"
    assert genres_source("none", False)[0] == "none"


def test_a_musicbrainz_user_agent_needs_a_contact() -> None:
    assert user_agent_has_contact("myapp/1.0 ( me@example.org )")
    assert user_agent_has_contact("myapp/1.0 ( https://example.org/me )")
    assert not user_agent_has_contact("myapp/1.0")
    assert not user_agent_has_contact("python-requests/2.32")


def test_ids_are_masked() -> None:
    assert mask("0123456789abcdef") == "0123…ef"
    assert "456789abcd" not in mask("0123456789abcdef")


def _probes(**changes) -> Probes:
    ok = Answer(True, "ok")
    base = dict(token=ok, artist_id="a", artist_from="kworb", capabilities=dict(DEVELOPMENT), kworb=ok,
                reccobeats=ok, musicbrainz=ok, landing=ok, lake=ok)
    return Probes(**{**base, **changes})


def _settings(**env) -> object:
    return load_settings({"SPOTIFY_CLIENT_ID": "0123456789abcdef", "SPOTIFY_CLIENT_SECRET": SECRET, **env})


def _failed(report: dict) -> set[str]:
    return {c["name"] for c in report["checks"] if c["status"] == "fail"}


def test_the_pipeline_runs_with_warnings_and_exits_0() -> None:
    report = build_report(_settings(), _probes(reccobeats=Answer(False, "down"), lake=Answer(False, "down")))
    assert report["exit_code"] == 0 and report["ok"]
    assert report["sources"] == {"audio_features": "reccobeats", "genres": "musicbrainz"}
    assert any(c["name"] == "ReccoBeats" and c["status"] == "warn" for c in report["checks"])
    assert render_text(report).splitlines()[-1].startswith("ready")


@pytest.mark.parametrize(("env", "probes", "failed"), [
    ({"SPOTIFY_CLIENT_ID": ""}, _probes(token=None), {"credentials"}),
    ({}, _probes(token=Answer(False, "token request refused: invalid_client")), {"token"}),
    ({}, _probes(landing=Answer(False, "MongoDB mongodb://db:27017: ServerSelectionTimeoutError")), {"landing zone"}),
])
def test_the_pipeline_cannot_run_exits_1(env, probes, failed) -> None:
    report = build_report(_settings(**env), probes)
    assert report["exit_code"] == 1 and not report["ok"]
    assert _failed(report) == failed
    assert render_text(report).splitlines()[-1].startswith("NOT READY")


def test_a_spent_quota_during_the_probe_is_a_warning_with_the_resume_time() -> None:
    spent = "Spotify quota spent (429 QUOTA_EXCEEDED); resume after 2026-12-05 03:00 UTC."
    report = build_report(_settings(), _probes(capabilities={}, spotify_error=spent))
    assert report["exit_code"] == 0
    probe = next(c for c in report["checks"] if c["name"] == "probe")
    assert probe["status"] == "warn" and "resume after 2026-12-05 03:00 UTC" in probe["detail"]
    assert all(v is None for v in report["capabilities"].values())


def test_an_unused_source_being_down_is_no_warning() -> None:
    report = build_report(_settings(), _probes(capabilities=dict(EXTENDED), reccobeats=Answer(False, "down"),
                                               musicbrainz=Answer(False, "down")))
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses["ReccoBeats"] == statuses["MusicBrainz"] == "skip"
    assert report["sources"] == {"audio_features": "spotify", "genres": "spotify"}


# ---------------------------------------------------------------- against the sample API
class _MusicBrainz(BaseHTTPRequestHandler):
    """MusicBrainz's probe endpoint, answering like it (the sample API serves ReccoBeats, not MusicBrainz)."""

    def do_GET(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        if path == "/musicbrainz/ws/2/genre/all":
            body = {"genre-count": 2000, "genre-offset": 0, "genres": [{"id": "x", "name": "acid house"}]}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def enrichment_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MusicBrainz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _doctor(api, enrichment: str, tmp_path, *flags: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "SPOTIFY_API_BASE_URL": api.api_url, "SPOTIFY_TOKEN_URL": api.token_url,
            "KWORB_BASE_URL": api.kworb_url, "SPOTIFY_CLIENT_ID": api.client_id, "SPOTIFY_CLIENT_SECRET": SECRET,
            "RECCOBEATS_API_BASE_URL": api.reccobeats_url,
            "MUSICBRAINZ_API_BASE_URL": f"{enrichment}/musicbrainz/ws/2",
            "MUSICBRAINZ_USER_AGENT": "doctor-test/1.0 ( tests@example.org )", "DATA_DIR": str(tmp_path / "data")}
    full.update(env)
    for name in ("MONGO_URI", "TRINO_HOST", "HIVE_METASTORE_URI", "LAKE_URI", "AUDIO_FEATURES_SOURCE",
                 "GENRES_SOURCE"):
        if name not in env:
            full.pop(name, None)
    return subprocess.run([sys.executable, "-m", "spotify_pipeline", "doctor", *flags], env=full,
                          capture_output=True, text=True, timeout=120)


def _assert_no_secret(proc: subprocess.CompletedProcess) -> None:
    assert SECRET not in proc.stdout and SECRET not in proc.stderr


def test_development_mode_shows_refusals_and_the_sources_that_fill_the_gaps(tmp_path) -> None:
    with start_sample_api(n_artists=6, seed=5, mode="development", client_secret=SECRET) as api, \
            enrichment_server() as enrichment:
        proc = _doctor(api, enrichment, tmp_path, "--json")
        text = _doctor(api, enrichment, tmp_path)
        calls = api.stats().get("requests", 0)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["capabilities"] == DEVELOPMENT
    assert report["sources"] == {"audio_features": "reccobeats", "genres": "musicbrainz"}
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses["ReccoBeats"] == statuses["MusicBrainz"] == statuses["kworb"] == "ok"
    assert statuses["landing zone"] == "ok" and statuses["token"] == "ok"
    assert report["probe"]["artist_from"] == "kworb"
    assert calls <= 2 * 8  # a handful of Spotify calls per run (two runs here)
    assert text.returncode == 0
    assert "✗ batch endpoints" not in text.stdout  # refused is a warning, not a failure
    assert "reccobeats" in text.stdout and "musicbrainz" in text.stdout
    assert f"{api.client_id[:4]}…" in text.stdout and api.client_id not in text.stdout
    _assert_no_secret(proc)
    _assert_no_secret(text)


def test_extended_mode_shows_spotifys_own(tmp_path) -> None:
    with start_sample_api(n_artists=6, seed=5, mode="extended", client_secret=SECRET) as api, \
            enrichment_server() as enrichment:
        proc = _doctor(api, enrichment, tmp_path, "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["capabilities"] == EXTENDED
    assert report["sources"] == {"audio_features": "spotify", "genres": "spotify"}
    _assert_no_secret(proc)


def test_a_refused_token_exits_1_without_printing_the_secret(tmp_path) -> None:
    with start_sample_api(n_artists=2, seed=5) as api, enrichment_server() as enrichment:
        proc = _doctor(api, enrichment, tmp_path, "--json")  # the server expects its own secret, not SECRET
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert _failed(report) == {"token"}
    _assert_no_secret(proc)


def test_no_credentials_and_an_unreachable_landing_zone_exit_1_without_the_password(tmp_path) -> None:
    with start_sample_api(n_artists=2, seed=5) as api, enrichment_server() as enrichment:
        proc = _doctor(api, enrichment, tmp_path, SPOTIFY_CLIENT_ID="",
                       MONGO_URI=f"mongodb://pipeline:{SECRET}@127.0.0.1:9/?serverSelectionTimeoutMS=500")
    assert proc.returncode == 1
    assert "✗ credentials" in proc.stdout and "✗ landing zone" in proc.stdout
    assert "mongodb://127.0.0.1:9" in proc.stdout
    assert "Traceback" not in proc.stderr
    _assert_no_secret(proc)
