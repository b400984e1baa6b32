"""Every Spark transform step in one list: the layer that runs it, the tables it reads and writes.

To add tables, append a :class:`Step` (or add outputs to one): its ``build`` takes the input
frames by table name and returns the output frames by table name (each a ``TableSpec`` in
``spark_jobs.schemas``). ``spotify-pipeline transform --layer L`` and the spark-submit entry
(``spark_jobs/submit.py --layer L``) run a layer's steps in list order; layers run in the order
they first appear here. The runner does all reading, writing and caching.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pyspark.sql import DataFrame

from spark_jobs import gold, history, similar, warehouse
from spark_jobs.schemas import BRONZE_COLLECTIONS, HISTORY_BRONZE, Persist


@dataclass(frozen=True)
class Step:
    layer: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    build: Callable[[Mapping[str, DataFrame], Persist], dict[str, DataFrame]]


STEPS: list[Step] = [
    # One step for silver and its history tables: both derive from one parse of each collection.
    Step("silver", tuple(dict.fromkeys((*BRONZE_COLLECTIONS, *HISTORY_BRONZE))),
         ("_quarantine", "silver_artists", "silver_album", "tracks_data", "silver_track_artists",
          "silver_feature_music", "silver_artists_genres", "_quarantine_history", *history.HISTORY_SILVER),
         history.build_silver_layer),
    Step("gold", ("tracks_data", "silver_album", "silver_artists", "silver_track_artists", "silver_artists_genres",
                  "silver_feature_music"), ("gold_track_metadata", "gold_feature_matrix"), gold.build_gold),
    Step("warehouse", ("gold_track_metadata", "gold_feature_matrix", "silver_feature_music"),
         ("warehouse_track_dashboard", "warehouse_track_recommendation"), warehouse.build_warehouse),
    Step("warehouse", ("silver_artist_snapshots", "kworb_rankings"), ("warehouse_artist_history",),
         history.build_warehouse_history),
    Step("similar", ("warehouse_track_recommendation", "gold_track_metadata"),
         ("warehouse_track_clusters", "warehouse_track_similar"), similar.build_similar),
]


def layer_order() -> tuple[str, ...]:
    return tuple(dict.fromkeys(step.layer for step in STEPS))


def steps_of(layer: str) -> list[Step]:
    return [step for step in STEPS if step.layer == layer]
