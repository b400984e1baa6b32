"""The profile's event-log arithmetic: time covered by overlapping stages is counted once."""

from __future__ import annotations

import json

from bench.etl_profile import busy_ms, stage_spans


def test_overlapping_stages_count_once_and_gaps_not_at_all() -> None:
    spans = [{"start": 0, "end": 10}, {"start": 5, "end": 12}, {"start": 20, "end": 25}]
    assert busy_ms(spans, 0, 30) == 17          # 0-12 and 20-25
    assert busy_ms(spans, 8, 22) == 6           # clipped to the window: 8-12 and 20-22


def test_stage_spans_read_completed_stages_only(tmp_path) -> None:
    log = tmp_path / "events"
    log.write_text("\n".join(json.dumps(e) for e in [
        {"Event": "SparkListenerStageSubmitted", "Stage Info": {"Stage Name": "x"}},
        {"Event": "SparkListenerStageCompleted", "Stage Info": {"Stage Name": "parquet at x", "Submission Time": 100,
                                                                "Completion Time": 250, "Number of Tasks": 4}},
        {"Event": "SparkListenerStageCompleted", "Stage Info": {"Stage Name": "skipped"}},
    ]))
    assert stage_spans(log) == [{"name": "parquet at x", "start": 100, "end": 250, "tasks": 4}]
