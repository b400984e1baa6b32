"""The stack's `jupyter` service starts JupyterLab on notebooks/, answers its readiness probe, serves the lab."""

from __future__ import annotations

import json
import urllib.request

import pytest

from spotify_pipeline.settings import load_settings
from spotify_pipeline.stack import jupyter
from tests.helpers.services import running

pytestmark = pytest.mark.system  # JupyterLab runs as the stack runs it


def test_jupyter_service_serves_the_notebooks(tmp_path) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path / "data")})
    with running(jupyter.SERVICE, settings, tmp_path, "jupyter") as ctx:
        base = jupyter.url(ctx).removesuffix("/lab")
        with urllib.request.urlopen(f"{base}/api", timeout=10) as resp:
            assert "version" in json.loads(resp.read())
        try:  # the notebooks are behind the token Jupyter printed in its log
            urllib.request.urlopen(f"{base}/api/contents", timeout=10)
            raise AssertionError("contents served without a token")
        except urllib.error.HTTPError as exc:
            assert exc.code == 403
        log = (ctx.logs / "jupyter.log").read_text()
        token = log.split("?token=")[1].split()[0]
        with urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=10) as resp:
            names = {item["name"] for item in json.loads(resp.read())["content"]}
        assert {"catalog_eda.ipynb", "recommender.ipynb"} <= names
