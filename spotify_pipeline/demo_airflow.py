"""``make install``: migrate the demo's Airflow metadata DB template once per installation.

    python -m spotify_pipeline.demo_airflow

``airflow db migrate`` into an empty SQLite file depends only on the Airflow version; the demo
copies the template instead of migrating (see ``spotify_pipeline.demo._airflow_db``).
"""

from __future__ import annotations

import sys
import tempfile


def prepare() -> int:
    from spotify_pipeline.demo import airflow_db_template, prepare_airflow_db
    from spotify_pipeline.demo_timing import Timings
    from spotify_pipeline.settings import load_settings

    if not airflow_db_template().exists():
        with tempfile.TemporaryDirectory(prefix="airflow-template-") as tmp:
            prepare_airflow_db(load_settings({"DATA_DIR": tmp}), Timings())
        print(f"prepared {airflow_db_template()}")
    return 0 if airflow_db_template().exists() else 1


if __name__ == "__main__":
    sys.exit(prepare())
