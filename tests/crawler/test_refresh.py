"""Crawl modes against an evolving sample API: a refresh fetches exactly what changed (issue 14)."""

from __future__ import annotations

import json
from itertools import count

import pytest
import requests

from crawler.landing.sqlite import SQLiteLandingStore
from sample_api.minimum_calls import minimum_calls, refresh_minimum_calls
from sample_api.server import start_sample_api
from sample_api.synthetic_catalog import generate_catalog
from spotify_pipeline.cli import main
from tests.crawler.conftest import entries_for, spotify_calls


def _clock(day: str):
    """``fetched_at`` on a fixed day, strictly increasing (a refresh a week later, in a test)."""
    ticks = count()
    return lambda: f"{day}T00:00:{next(ticks) % 60:02d}.{next(ticks):06d}Z"


def _landed(settings) -> dict[str, dict[str, dict]]:
    store = SQLiteLandingStore(settings.landing_sqlite_path)
    try:
        return {c: {d.id: json.loads(d.payload_json) for d in store.iter_raw(c)}
                for c in ("artists_raw", "albums_raw", "tracks_raw", "audio_features_raw", "unavailable_raw")}
    finally:
        store.close()


def _live(api):
    """The artists.txt of a catalog whose removed artists have dropped out of kworb too."""
    return [e for i, e in enumerate(entries_for(api)) if not api.catalog.is_removed_artist(i)]


def _within(calls: dict[str, int], oracle: dict[str, int]) -> None:
    """Per endpoint, at most 1.05 x the minimum for what changed, and nothing the oracle does not need."""
    assert set(calls) <= set(oracle), (calls, oracle)
    for endpoint, n in calls.items():
        assert oracle[endpoint] <= n <= 1.05 * oracle[endpoint], (endpoint, n, oracle[endpoint])


@pytest.mark.parametrize("mode", ["extended", "development"])
def test_refresh_fetches_exactly_what_changed(crawl, make_settings, mode) -> None:
    with start_sample_api(n_artists=20, seed=42, mode=mode) as api:
        settings = make_settings(api)
        first = crawl(settings, entries_for(api), workers=4, clock=_clock("2026-11-18"))
        assert not first.failed
        before = _landed(settings)

        api.evolve(1)
        old = generate_catalog(20, seed=42)
        new = api.catalog
        api.reset_stats()
        report = crawl(settings, entries_for(api), workers=4, mode="refresh", clock=_clock("2026-11-25"))
        oracle = refresh_minimum_calls(old, new, mode)
        served = api.stats()

    probes = {"extended": 0, "development": 3}[mode]  # refused batch, page size and audio-features calls
    calls = spotify_calls(report)
    assert sum(calls.values()) == sum(oracle.values()) + probes
    if mode == "extended":
        assert calls == oracle
    else:
        _within({k: v for k, v in calls.items() if k in oracle}, oracle)
    assert served["requests"] == sum(calls.values())
    assert not report.failed and report.done == new.n_artists

    after = _landed(settings)
    new_albums = {new.album_id(a) for i in range(new.n_artists) if not new.is_removed_artist(i)
                  for a, _ in new.artist_albums(i, ("album", "single", "compilation"))} - set(before["albums_raw"])
    assert new_albums and new_albums <= set(after["albums_raw"])
    new_tracks = {t["id"] for a in new_albums for t in after["albums_raw"][a]["tracks"]["items"]}
    assert new_tracks <= set(after["tracks_raw"]) and not new_tracks & set(before["tracks_raw"])
    # Popularity and followers moved for some artists, and the refreshed objects carry the new values.
    if mode == "extended":
        moved = [i for i in range(20) if not new.is_removed_artist(i)
                 and new.artist(i, "x")["popularity"] != old.artist(i, "x")["popularity"]]
        assert moved
        assert all(after["artists_raw"][new.artist_id(i)]["popularity"] == new.artist(i, "x")["popularity"]
                   for i in moved)
    # What disappeared is marked unavailable with the refresh date, not kept as current silently.
    removed_album = next(a for a in range(old.n_albums) if new.is_removed_album(a))
    removed_artist = next(i for i in range(20) if new.is_removed_artist(i))
    gone = after["unavailable_raw"]
    assert set(gone) == {f"album:{old.album_id(removed_album)}", f"artist:{old.artist_id(removed_artist)}"}
    assert all(doc["status"] == 404 and doc["detected_at"].startswith("2026-11-25") for doc in gone.values())
    assert report.unavailable.keys() == gone.keys()


def test_rerun_of_a_refresh_lists_again_and_fetches_nothing_new(crawl, make_settings) -> None:
    with start_sample_api(n_artists=12, seed=7, generation=1) as api:
        settings = make_settings(api)
        assert not crawl(settings, _live(api), workers=4).failed
        snapshot = _landed(settings)
        api.reset_stats()
        again = crawl(settings, _live(api), workers=4, mode="refresh")
        assert spotify_calls(again) == refresh_minimum_calls(api.catalog, api.catalog)
        assert set(again.calls) == {"artists", "artists/{id}/albums"}
        # Continue mode after a finished crawl: nothing at all.
        api.reset_stats()
        rest = crawl(settings, _live(api), workers=4)
        assert rest.skipped == len(_live(api)) and not rest.calls
    after = _landed(settings)
    for collection in ("albums_raw", "tracks_raw", "audio_features_raw"):
        assert after[collection] == snapshot[collection]


def test_full_refetches_everything_listed(crawl, make_settings) -> None:
    with start_sample_api(n_artists=12, seed=7) as api:
        settings = make_settings(api)
        crawl(settings, entries_for(api), workers=4)
        api.reset_stats()
        report = crawl(settings, entries_for(api), workers=4, mode="full")
        assert spotify_calls(report) == minimum_calls(api.catalog)


def test_continue_after_evolve_crawls_only_the_new_artists(crawl, make_settings) -> None:
    with start_sample_api(n_artists=12, seed=7) as api:
        settings = make_settings(api)
        crawl(settings, entries_for(api), workers=4)
        api.evolve(1)
        report = crawl(settings, entries_for(api), workers=4)
    assert report.skipped == 12 and report.done == api.catalog.n_artists - 12


def test_admin_endpoint_evolves_deterministically_and_cli_modes(make_settings, tmp_path, monkeypatch) -> None:
    with start_sample_api(n_artists=12, seed=7) as api:
        reply = requests.post(f"{api.base_url}/_admin/evolve", params={"generation": 2}, timeout=5).json()
        twin = generate_catalog(12, seed=7).evolve(2)
        assert reply == {"generation": 2, "artists": twin.n_artists, "albums": twin.n_albums}
        assert list(api.catalog.iter_artists()) == list(twin.iter_artists())
        assert requests.post(f"{api.base_url}/_admin/evolve", params={"generation": 1}, timeout=5).status_code == 400
    with pytest.raises(SystemExit) as exc:
        main(["crawl", "--artists", str(tmp_path / "a.txt"), "--refresh", "--full"])
    assert exc.value.code == 2
