"""The analyst tools read the session's sample lake (tests/helpers/sample_lake.py)."""

from __future__ import annotations

import pytest

from spotify_core.settings import Settings, load_settings


@pytest.fixture(scope="session")
def demo_lake(sample_lake) -> Settings:
    """Settings of a reader of the sample lake: its DATA_DIR and nothing of the crawl's."""
    return load_settings({"DATA_DIR": str(sample_lake.settings.data_dir)})
