"""The shipped Russia–Ukraine scenario carries the values its calibration record says."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.experiments.params import get_path
from sim.scenario.loading import load_scenario, resolved_dict

ROOT = Path(__file__).parents[2]
RECORD = ROOT / "docs" / "calibration" / "ua_ru_2022_2024"
SCENARIO = ROOT / "scenarios" / "ua_ru_2022_2024.yaml"


def test_scenario_values_are_the_fitted_values() -> None:
    fitted = json.loads((RECORD / "calibration.json").read_text())["fitted"]
    resolved = resolved_dict(load_scenario(SCENARIO))
    assert len(fitted) == 8
    for path, value in fitted.items():
        assert get_path(resolved, path) == pytest.approx(value), path


def test_the_record_shows_a_fit_inside_the_bands_and_marks_the_scenario() -> None:
    targets = pd.read_csv(RECORD / "targets.csv")
    cumulative = targets[targets["kind"] == "cumulative_returned"]
    assert cumulative["inside_90"].mean() >= 0.8  # "at most observed dates"
    fit = pd.read_csv(RECORD / "fit.csv")
    assert (fit["credible_05"] <= fit["fitted"]).all() and (
        fit["fitted"] <= fit["credible_95"]
    ).all()
    text = SCENARIO.read_text()
    assert (
        sum(
            line.split("#")[0].strip() != "" for line in text.splitlines() if "# CALIBRATED" in line
        )
        == 8
    )
