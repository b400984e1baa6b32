import subprocess
import sys

from spotify_pipeline.cli import build_parser, main


def test_every_contract_command_is_wired() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("kworb", "crawl", "landing-stats", "export", "transform", "check", "query",
                 "sample-api", "demo"):
        assert name in sub.choices, name


def test_usage_error_exits_2() -> None:
    proc = subprocess.run([sys.executable, "-m", "spotify_pipeline", "transform", "--layer", "bogus"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr


def test_bad_environment_value_is_one_line_exit_1(monkeypatch, capsys) -> None:
    from spotify_core.settings import get_settings

    monkeypatch.setenv("TRINO_PORT", "not-a-port")
    get_settings.cache_clear()
    try:
        assert main(["landing-stats"]) == 1
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["spotify-pipeline landing-stats: error: TRINO_PORT='not-a-port' is not a valid int"]
