from sample_api.synthetic_catalog import decode_id, encode_id, generate_catalog
from spotify_core.vocabulary import ALBUM_GROUPS, is_base62_id


def test_deterministic_for_seed_and_different_across_seeds() -> None:
    a, b, c = generate_catalog(30, seed=7), generate_catalog(30, seed=7), generate_catalog(30, seed=8)
    assert list(a.iter_artists()) == list(b.iter_artists())
    assert a.track(100, "x") == b.track(100, "x")
    assert a.artist_id(0) != c.artist_id(0)


def test_ids_are_base62_and_invertible() -> None:
    for kind in ("artist", "album", "track"):
        for index in (0, 1, 12345, 10**6):
            spotify_id = encode_id(kind, index, 42)
            assert is_base62_id(spotify_id)
            assert decode_id(kind, spotify_id, 42) == index
    cat = generate_catalog(20)
    assert cat.artist_index("0" * 22) is None  # decodes to an index outside the catalog
    assert cat.track_index("not-an-id") is None


def test_catalog_has_the_hard_cases() -> None:
    cat = generate_catalog(20)
    names = [n for _, n in cat.iter_artists()]
    assert len(set(names)) < len(names), "two artists must share a name"
    assert any(not n.isascii() for n in names)
    assert any("&" in n or "'" in n for n in names)
    assert max(len(cat.artist_albums(i, ALBUM_GROUPS[:3])) for i in range(20)) > 50
    assert max(cat.album_track_count(a) for a in range(cat.n_albums)) > 50
    assert any(cat.artist_albums(i, ("appears_on",)) for i in range(20))
    assert {cat.album_type(a) for a in range(cat.n_albums)} == {"album", "single", "compilation"}
    assert any(len(cat.track_artists(t)) > 1 for t in range(cat.n_tracks))
    genres = [cat.artist(i, "x")["genres"] for i in range(20)]
    assert any(g == [] for g in genres) and any(g for g in genres)
    features = [cat.audio_features(t, "x") for t in range(cat.n_tracks)]
    assert 0 < sum(f is None for f in features) < len(features) * 0.2
    precisions = {cat.album(a, "x")["release_date_precision"] for a in range(cat.n_albums)}
    assert precisions == {"day", "month", "year"}


def test_development_mode_objects_lack_removed_fields() -> None:
    cat = generate_catalog(20)
    artist = cat.artist(0, "x", "development")
    album = cat.album(0, "x", "development")
    track = cat.track(0, "x", "development")
    assert "followers" not in artist and "popularity" not in artist and "genres" not in artist  # 2026-08
    assert "genres" in cat.artist(0, "x")
    assert not {"available_markets", "album_group", "linked_from"} & (set(album) | set(track) | set(track["album"]))
    assert "label" not in album and "popularity" not in album
    assert "popularity" not in track and "external_ids" in track  # external_ids was reverted (2026-03)
    assert "popularity" in cat.track(0, "x") and "label" in cat.album(0, "x")


def test_seed_scale_is_about_300k_tracks() -> None:
    cat = generate_catalog(3000)
    assert 250_000 < cat.n_tracks < 350_000
    assert cat.track_album(cat.n_tracks - 1) == cat.n_albums - 1
