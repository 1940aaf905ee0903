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


# --------------------------------------------------------------------------- 2022–2025
RECORD_2025 = ROOT / "docs" / "calibration" / "ua_ru_2022_2025"
SCENARIO_2025 = ROOT / "scenarios" / "ua_ru_2022_2025.yaml"
OBSERVED_2025 = ROOT / "seeds" / "observed_ua_ru_2022_2025.yaml"


def test_2025_scenario_values_are_the_fitted_values() -> None:
    summary = json.loads((RECORD_2025 / "calibration.json").read_text())
    fitted = summary["fitted"]
    resolved = resolved_dict(load_scenario(SCENARIO_2025))
    assert len(fitted) == 9
    # the format hazards and the stage and size parameters are among them
    assert {
        "formats.istanbul.transitions.0.hazard",
        "formats.istanbul.transitions.1.hazard",
        "negotiation.stages.count.mean",
    } <= set(fitted)
    for path, value in fitted.items():
        assert get_path(resolved, path) == pytest.approx(value), path
    text = SCENARIO_2025.read_text()
    marked = [ln for ln in text.splitlines() if "# CALIBRATED" in ln and ln.split("#")[0].strip()]
    assert len(marked) == 9
    # no date of 2025 triggers anything: the Istanbul track opens by its fitted hazard only
    scn = load_scenario(SCENARIO_2025)
    assert all(t.at is None for f in scn.formats if f.id == "istanbul" for t in f.transitions)
    new_year = (pd.Timestamp("2025-01-01").date() - scn.start_date).days
    assert max(c.at for c in scn.timeline) <= new_year


@pytest.mark.slow
def test_2025_fit_resimulated_covers_the_record_as_the_readme_says() -> None:
    """Re-simulate the shipped fitted scenario (400 runs, its own seed) against the record and
    check what the README claims: all 22 observed running totals of people returned and all 17
    exchange counts inside the simulated 90% band, 2025's included (the issue's bar: at least
    90% of the running totals, every 2025 running total and exchange count)."""
    import numpy as np

    from sim.experiments.options import Execution
    from sim.fit.observed import load_observations
    from sim.fit.plan import BAND
    from sim.fit.target_runs import StatsTask, run_stats_tasks

    scn = load_scenario(SCENARIO_2025)
    obs = load_observations(OBSERVED_2025, scn.start_date, scn.party_ids)
    targets = tuple(obs.targets)
    tasks = [StatsTask(((0, scn),), scn.seed, a, a + 25, targets) for a in range(0, 400, 25)]
    parts = run_stats_tasks(tasks, execution=Execution(workers=2, progress=False))
    stats = np.concatenate([p.stats[0] for p in parts])
    assert stats.shape[0] == 400
    rows = []
    col = 0
    for t in targets:
        observed = t.observed_stats()
        for j, name in enumerate(t.stat_names):
            sim = stats[:, col]
            lo, hi = np.quantile(sim[np.isfinite(sim)], BAND)
            rows.append((t.id, t.kind, name, bool(lo <= observed[j] <= hi)))
            col += 1
    table = pd.DataFrame(rows, columns=["target", "kind", "statistic", "inside"])
    returned = table[table["target"] == "returned"]
    assert len(returned) == 22
    assert returned["inside"].all(), returned[~returned["inside"]]
    deals = table[table["target"] == "deals"]
    assert len(deals) == 17
    assert deals["inside"].all(), deals[~deals["inside"]]
    in_2025 = table[
        table["target"].isin(["returned", "deals", "stages"])
        & table["statistic"].str.contains("@2025-")
    ]
    assert len(in_2025) == 13  # 5 running totals, 5 exchange counts, 3 stage counts
    assert in_2025["inside"].all(), in_2025[~in_2025["inside"]]
    # the running totals, fitted or compared, and the exchange counts: as the README says
    cumulative = table[table["kind"].str.startswith("cumulative")]
    assert cumulative["inside"].mean() >= 0.9
