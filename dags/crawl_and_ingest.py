"""kworb -> Spotify API crawl (sharded) -> landing zone; updates the landing asset on success.

A spent Spotify quota fails a crawl shard at once, with the UTC time to resume and without retries
(AirflowFailException): what landed stays; trigger with mode=continue after that time to resume
exactly where it stopped.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, Param, dag, task

from spotify_pipeline.orchestration import (
    DEFAULT_ARGS,
    LANDING_ASSET_URI,
    MAX_PARALLEL_SHARDS,
    START_DATE,
    TAGS,
    crawl_schedule,
)

LANDING = Asset(LANDING_ASSET_URI)


@dag(
    dag_id="crawl_and_ingest_data_into_mongoDB",
    schedule=crawl_schedule(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=TAGS,
    default_args=DEFAULT_ARGS,
    params={
        "limit": Param(None, type=["null", "integer"], minimum=1, description="crawl the first N artists"),
        "workers": Param(8, type="integer", minimum=1, description="threads per crawl shard"),
        "shards": Param(2, type="integer", minimum=1, maximum=16, description="parallel crawl tasks"),
        "artists_file": Param(None, type=["null", "string"], description="skip kworb, use this artists.txt"),
        "mode": Param("refresh", enum=["continue", "refresh", "full"],
                      description="crawl --refresh (weekly: artists + listings again, only new releases), "
                                  "continue (what is missing) or --full (everything)"),
    },
    doc_md=__doc__,
)
def crawl_and_ingest_data_into_mongoDB():  # noqa: N802 - the DAG id is a contract
    @task
    def scrape_kworb(params=None) -> str:
        from spotify_pipeline import tasks

        return tasks.scrape_kworb(params["artists_file"], params["limit"])

    @task
    def plan_shards(artists_file: str, params=None) -> list[dict]:
        from spotify_pipeline import tasks

        return tasks.plan_shards(artists_file, params["shards"], params["limit"])

    # Shards that run at once split the configured request rate between them.
    @task(max_active_tis_per_dag=MAX_PARALLEL_SHARDS, execution_timeout=timedelta(hours=6))
    def crawl_shard(shard: dict, params=None, run_id=None) -> dict:
        from spotify_pipeline import tasks

        return tasks.crawl_shard(shard["path"], shard["shards"], params["workers"], run_id, params["mode"])

    @task(outlets=[LANDING])
    def landing_stats(results: list[dict]) -> dict:
        from spotify_pipeline import tasks

        return tasks.check_crawl(results)

    landing_stats(crawl_shard.expand(shard=plan_shards(scrape_kworb())))


crawl_and_ingest_data_into_mongoDB()
