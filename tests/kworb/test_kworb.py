from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from crawler.artists_file import ArtistEntry, parse_artists_lines, read_artists_file, write_artists_file
from crawler.kworb import KworbMarkupError, merge_rankings, page_kind, parse_kworb_page
from sample_api.kworb_pages import render_artists_page, render_listeners_page
from sample_api.synthetic_catalog import generate_catalog
from spotify_core.errors import PipelineError
from spotify_pipeline.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def read(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def test_artists_page_absolute_links_names_and_order() -> None:
    artists = parse_kworb_page(read("artists.html"), "artists.html")
    assert [a.name for a in artists[:4]] == ["Taylor Swift", "Drake", "Bad Bunny", "The Weeknd"]
    assert artists[0].spotify_id == "06HL4z0CvFAxyc27GXpf02" and artists[0].position == 1
    assert artists[3].spotify_id == "1Xyo4u8uXC1ZmMpatF05PJ"  # link without _songs
    names = {a.name: a.spotify_id for a in artists}
    assert names["Simon & Garfunkel"] == "3nFkdlSjzX9mRTtwJOzDYB"  # unescaped &
    assert "Guns N' Roses" in names and "Beyoncé" in names
    nirvanas = [a.spotify_id for a in artists if a.name == "Nirvana"]
    assert nirvanas == ["2YZyLoL8N0Wb9xBt1NhZWg", "1l7ZsJRRS8wlW3WfJfPfNS"]  # one name, two ids


def test_listeners_page_relative_links() -> None:
    artists = parse_kworb_page(read("listeners.html"), "listeners.html")
    assert len(artists) == 12
    assert artists[0].name == "Bruno Mars" and artists[3].spotify_id == "4q3ewBCX7sLwd24euuV69X"


def test_merge_keeps_order_dedupes_by_id_and_limits() -> None:
    a = parse_kworb_page(read("artists.html"), "artists.html")
    listeners = parse_kworb_page(read("listeners.html"), "listeners.html")
    merged = merge_rankings(a, listeners)
    ids = [e.spotify_id for e in merged]
    assert len(ids) == len(set(ids)) == 11 + 12 - 3
    assert merged[:11] == [ArtistEntry(x.name, x.spotify_id) for x in a]
    assert merged[11].name == "Ariana Grande"
    assert len(merge_rankings(a, listeners, limit=5)) == 5


@pytest.mark.parametrize(("html", "message"), [
    ("", "empty page"),
    ("<html><body><p>maintenance</p></body></html>", "no ranking table"),
    ('<table class="addpos sortable"><tr><th>Artist</th></tr></table>', "no data rows"),
    ('<table class="addpos sortable"><tr><td><a href="/x.html">X</a></td></tr></table>', "no artist links"),
])
def test_markup_drift_is_a_clear_error(html: str, message: str) -> None:
    with pytest.raises(KworbMarkupError, match=message):
        parse_kworb_page(html, "artists.html")


def test_truncated_page_keeps_the_complete_rows() -> None:
    html = read("artists.html")
    cut = html[: html.index("Beyoncé")]
    assert [a.name for a in parse_kworb_page(cut, "artists.html")][-1] == "Guns N' Roses"


def test_renderer_round_trips_through_the_parser() -> None:
    cat = generate_catalog(30)
    streams, listeners = cat.kworb_rankings()
    assert [(a.spotify_id, a.name) for a in parse_kworb_page(render_artists_page(streams), "a")] == streams
    assert [(a.spotify_id, a.name) for a in parse_kworb_page(render_listeners_page(listeners), "l")] == listeners
    assert page_kind(render_listeners_page(listeners)) == "listeners.html"
    assert page_kind(render_artists_page(streams)) == "artists.html"


def test_artists_file_round_trip_and_malformed_lines(tmp_path: Path) -> None:
    path = tmp_path / "artists.txt"
    entries = [ArtistEntry("Beyoncé", "6vWDO969PvNqNYHIOW5v0m"), ArtistEntry("Name Only", None)]
    assert write_artists_file(path, entries) == 2
    assert read_artists_file(path) == (entries, [])
    parsed, problems = parse_artists_lines(["# comment", "", "Ok\t6vWDO969PvNqNYHIOW5v0m", "Bad\tnot-an-id",
                                            "a\tb\tc", "\tzzz"])
    assert parsed == [ArtistEntry("Ok", "6vWDO969PvNqNYHIOW5v0m")]
    assert [p.split(":")[0] for p in problems] == ["line 4", "line 5", "line 6"]
    with pytest.raises(PipelineError, match="not found"):
        read_artists_file(tmp_path / "missing.txt")


def test_cli_on_saved_pages(tmp_path: Path, capsys) -> None:
    out = tmp_path / "artists.txt"
    rc = main(["kworb", "--html", str(FIXTURES / "artists.html"), "--html", str(FIXTURES / "listeners.html"),
               "--out", str(out)])
    assert rc == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Taylor Swift\t06HL4z0CvFAxyc27GXpf02" and len(lines) == 20
    assert "20 unique artists" in capsys.readouterr().out


def test_cli_failure_never_replaces_a_good_file(tmp_path: Path, capsys) -> None:
    out = tmp_path / "artists.txt"
    out.write_text("Good\t06HL4z0CvFAxyc27GXpf02\n")
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body>Service Unavailable</body></html>")
    assert main(["kworb", "--html", str(bad), "--out", str(out)]) == 1
    assert out.read_text() == "Good\t06HL4z0CvFAxyc27GXpf02\n"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no ranking table" in err[0]


class _Flaky(http.server.SimpleHTTPRequestHandler):
    failures = {"artists.html": 1}

    def __init__(self, *a, **kw):
        super().__init__(*a, directory=str(FIXTURES), **kw)

    def do_GET(self):  # noqa: N802
        name = self.path.rsplit("/", 1)[-1]
        if self.failures.get(name, 0) > 0:
            self.failures[name] -= 1
            self.send_error(503)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


def test_cli_fetches_over_http_with_a_retry(tmp_path: Path, monkeypatch) -> None:
    import crawler.kworb as kworb

    monkeypatch.setattr(kworb.time, "sleep", lambda s: None)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("KWORB_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
        from spotify_core.settings import get_settings

        get_settings.cache_clear()
        out = tmp_path / "a.txt"
        assert main(["kworb", "--out", str(out), "--limit", "3"]) == 0
        assert len(out.read_text().splitlines()) == 3
    finally:
        server.shutdown()
        get_settings.cache_clear()


def test_cli_dead_server_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    import crawler.kworb as kworb
    from spotify_core.settings import get_settings

    monkeypatch.setattr(kworb.time, "sleep", lambda s: None)
    monkeypatch.setenv("KWORB_BASE_URL", "http://127.0.0.1:9/spotify")
    get_settings.cache_clear()
    try:
        assert main(["kworb", "--out", str(tmp_path / "a.txt")]) == 1
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unreachable" in err[0]
    assert not (tmp_path / "a.txt").exists()
