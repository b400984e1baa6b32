"""Landing -> bronze -> silver -> gold -> warehouse -> similar tracks -> data quality -> Hive catalog.

Scheduled on the landing asset the crawl DAG updates. Spark steps go through SparkSubmitOperator
with the ``spark_default`` connection, which comes only from ``AIRFLOW_CONN_SPARK_DEFAULT``
(``local[*]`` locally, the cluster master in the stack); the project code is shipped with
``--py-files`` (a zip rebuilt only when the sources change). Jobs read their configuration
(LAKE_URI, ...) from the environment they inherit. With ``SPARK_TASKS=session`` the same steps
(same task ids, each retried on its own) run in the task's process instead, in one long-lived
Spark session per process: no JVM start per step (the demo).
"""

from __future__ import annotations

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import Asset, dag, task

from spotify_pipeline import tasks
from spotify_pipeline.orchestration import DEFAULT_ARGS, LANDING_ASSET_URI, START_DATE, TAGS, spark_tasks
from spotify_pipeline.tasks import spark_application

PY_FILES = "{{ ti.xcom_pull(task_ids='package_code') }}"
IN_SESSION = spark_tasks() == "session"


def spark_step(task_id: str, layer: str):  # noqa: ANN201 - an operator or a task's XComArg
    """One step = one spark-submit of the single entry, ``spark_jobs/submit.py --layer <layer>``
    (or, with ``SPARK_TASKS=session``, the same step in this process's long-lived session)."""
    if IN_SESSION:
        return task(task_id=task_id)(tasks.spark_step)(layer)
    return SparkSubmitOperator(
        task_id=task_id,
        conn_id="spark_default",
        application=spark_application(),
        application_args=["--layer", layer],
        py_files=PY_FILES,
        name=f"spotify-{task_id}",
        conf={"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false"},
    )


@dag(
    dag_id="Spotify_DAG",
    schedule=[Asset(LANDING_ASSET_URI)],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=TAGS,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def spotify_dag():
    @task
    def export_to_bronze() -> dict:
        from spotify_pipeline import tasks

        return tasks.export_to_bronze()

    @task
    def package_code() -> str:
        from spotify_pipeline import tasks

        return tasks.package_code()

    silver = spark_step("silver", "silver")
    gold = spark_step("gold", "gold")
    warehouse = spark_step("warehouse", "warehouse")
    similar_tracks = spark_step("similar_tracks", "similar")
    quality = spark_step("data_quality", "quality")
    catalog = spark_step("register_catalog", "catalog")
    [export_to_bronze(), package_code()] >> silver >> gold >> warehouse >> similar_tracks >> quality >> catalog


spotify_dag()
