"""A demo-sized lake (sample API -> crawl -> export -> every Spark layer), built once per test session
for the analyst tools that read it: report, dashboard, notebooks, recommend."""

from __future__ import annotations

import pytest

from spotify_pipeline.settings import load_settings


@pytest.fixture(scope="session")
def demo_lake(spark, tmp_path_factory):
    from crawler.sample_api.server import start_sample_api
    from spark_jobs.runner import run_layers
    from tests.spark.test_pipeline import crawl_and_export, sample_api_settings

    data = tmp_path_factory.mktemp("demo-lake")
    with start_sample_api(n_artists=12, seed=42) as api:
        settings = sample_api_settings(data, api)
        crawl_and_export(settings, api)
    run_layers(settings, ["all"])
    return load_settings({"DATA_DIR": str(data)})
