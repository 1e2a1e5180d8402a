"""The early warnings' thresholds come from the environment (GOVERNANCE_*), with defaults,
and a nonsense threshold stops the platform at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from cases.warnings.rules import Thresholds
from mediation.settings import load_settings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDIATION_DATA_DIR", str(tmp_path))
    assert load_settings().governance_thresholds == Thresholds()
    assert load_settings().governance_regulator_email == ""
    monkeypatch.setenv("GOVERNANCE_SURGE_FACTOR", "2.5")
    monkeypatch.setenv("GOVERNANCE_SURGE_FLOOR", "20")
    monkeypatch.setenv("GOVERNANCE_SURGE_WEEKS", "6")
    monkeypatch.setenv("GOVERNANCE_RESPONSE_RATE", "0.6")
    monkeypatch.setenv("GOVERNANCE_RESPONSE_MINIMUM", "15")
    monkeypatch.setenv("GOVERNANCE_RESPONSE_DAYS", "14")
    monkeypatch.setenv("GOVERNANCE_BURST_FILINGS", "30")
    monkeypatch.setenv("GOVERNANCE_BURST_HOURS", "24")
    monkeypatch.setenv("GOVERNANCE_REGULATOR_EMAIL", " scjgj@changning.example ")
    settings = load_settings()
    assert settings.governance_thresholds == Thresholds(
        surge_factor=2.5,
        surge_floor=20,
        surge_weeks=6,
        response_rate_below=0.6,
        response_minimum_asked=15,
        response_days=14,
        burst_filings=30,
        burst_hours=24,
    )
    assert settings.governance_regulator_email == "scjgj@changning.example"


def test_nonsense_stops_start_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDIATION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GOVERNANCE_RESPONSE_RATE", "1.5")
    with pytest.raises(ValueError, match="GOVERNANCE_RESPONSE"):
        load_settings()
