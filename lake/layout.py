"""Paths of the lake's bookkeeping files, shared by the export (writer) and the Spark jobs (readers).

Plain strings, no imports: a Spark driver reads them without the landing store's dependencies.
"""

BRONZE = "bronze_layer"
STATE = f"{BRONZE}/_state/export_watermarks.json"
# Landing document counts as of the export, beside the watermark: the data-quality job reconciles
# bronze against them from the lake alone (a Spark driver needs no access to the landing store).
LANDING_COUNTS = f"{BRONZE}/_state/landing_counts.json"
