from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch):
    """The kworb command lands numbers in DATA_DIR's landing zone: keep it inside the test's tmp_path."""
    from spotify_core.settings import get_settings

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MONGO_URI", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
