"""The fault knobs are declared once (sample_api/settings.py): server fields, SAMPLE_API_* and flags agree."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sample_api.server import ServerConfig, build_parser, make_server
from sample_api.settings import Faults, SampleApiSettings, faults_from


def test_every_knob_is_a_flag_a_variable_and_a_server_field(monkeypatch) -> None:
    flags = {opt for action in build_parser()._actions for opt in action.option_strings}
    for name in Faults.model_fields:
        assert f"--{name.replace('_', '-')}" in flags, name
        assert name in ServerConfig.model_fields, name
        monkeypatch.setenv(f"SAMPLE_API_{name.upper()}", "1")
    assert all(value in (1, True) for value in SampleApiSettings().model_dump().values())


def test_a_flag_wins_over_its_variable_and_the_rest_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("SAMPLE_API_FAULT_RATE", "0.5")
    monkeypatch.setenv("SAMPLE_API_QUOTA_RETRY_AFTER", "60")
    args = build_parser().parse_args(["--fault-rate", "0.2", "--float-integers"])
    faults = SampleApiSettings(**faults_from(args))
    assert (faults.fault_rate, faults.quota_retry_after, faults.float_integers, faults.slow_rate) == (0.2, 60, True, 0.0)
    api = make_server(2, 1, **faults.model_dump())
    try:
        assert (api.config.fault_rate, api.config.quota_retry_after) == (0.2, 60)
    finally:
        api._server.server_close()


def test_a_misspelt_or_out_of_range_knob_is_refused() -> None:
    with pytest.raises(ValidationError):
        make_server(2, 1, fault_rte=0.1)
    with pytest.raises(ValidationError):
        SampleApiSettings(slow_rate=1.5)
