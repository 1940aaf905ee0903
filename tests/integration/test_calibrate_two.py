"""Calibration recovers two parameters at once, both of the new mechanisms: the opening hazard
of a negotiating format (how much of the time talks can happen: deals) and the mean number of
stages a deal is carried out in (stages per deal). Data made by the model at known values
(seed 99, not the calibration's seed); both 90% credible intervals must contain the truth and
be much narrower than the prior."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.api import calibrate_and_draw as calibrate
from sim.experiments.options import Execution
from sim.fit.plan import plan_calibration
from sim.model.simulation import Simulation
from sim.results.targets import DealHistory, by_end_of
from sim.scenario.loading import load_scenario

# Talks are possible only while the track is open; deals of two or more people go in stages.
TOY = """\
name: staged_track
start_date: 2025-01-01
horizon: 730
seed: 1
parties:
  - id: blue
    direct_channels: [red]
    norms: {one_for_one: true}
    initiative: {dist: exponential, mean: 10}
  - id: red
    norms: {one_for_one: true}
    initiative: {dist: exponential, mean: 20}
capture_streams:
  - {id: blue_takes_red, captor: blue, nationality: red, rate: 0.5, batch: {dist: fixed, value: 2}}
  - {id: red_takes_blue, captor: red, nationality: blue, rate: 0.5, batch: {dist: fixed, value: 2}}
negotiation:
  preparation: {dist: fixed, value: 3}
  collapse: 0.0
  stages: {min_size: 2, count: {dist: poisson, mean: 3, shift: 1}, gap: {dist: fixed, value: 1}}
formats:
  - id: track
    initial: closed
    states:
      - {id: closed, set: {negotiation.frozen: true}}
      - {id: open}
    transitions:
      - {from: closed, to: open, hazard: 0.05}
      - {from: open, to: closed, hazard: 0.1}
"""
HAZARD, STAGES = "formats.track.transitions.0.hazard", "negotiation.stages.count.mean"
TRUTH = {HAZARD: 0.05, STAGES: 3.0}
PRIOR = {HAZARD: (0.005, 0.2), STAGES: (0.0, 8.0)}
DATES = ["2025-06-30", "2025-12-31", "2026-06-30", "2026-12-31"]


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The toy scenario, and the mean deals and stages by each date over 40 runs at the truth."""
    d = tmp_path_factory.mktemp("two")
    scenario = d / "toy.yaml"
    scenario.write_text(TOY)
    scn = load_scenario(scenario)
    days = np.array([(pd.Timestamp(x).date() - scn.start_date).days for x in DATES], float)
    deals, stages = [], []
    for rep in range(40):
        hist = DealHistory.of(Simulation(scn, 99, rep, record_events=False).run())
        deals.append(by_end_of(hist.days, days))
        stages.append(by_end_of(hist.stage_days, days))

    def points(values: np.ndarray) -> str:
        return "\n".join(
            f"      - {{date: {x}, value: {v:.2f}}}" for x, v in zip(DATES, values, strict=True)
        )

    observed = d / "obs.yaml"
    observed.write_text(
        "name: synthetic\ntargets:\n"
        f"  - id: deals\n    kind: cumulative_deals\n    points:\n{points(np.mean(deals, 0))}\n"
        f"  - id: stages\n    kind: cumulative_stages\n    points:\n{points(np.mean(stages, 0))}\n"
    )
    return scenario, observed


def test_format_hazard_and_stage_count_are_recovered_together(
    record: tuple[Path, Path], tmp_path: Path
) -> None:
    scenario, observed = record
    fit = [f"{p}={lo}:{hi}" for p, (lo, hi) in PRIOR.items()]
    plan = plan_calibration(
        scenario,
        observed,
        fit,
        points=100,
        replications=5,
        rounds=2,
        match="runs",
        accept=0.1,
        check_replications=40,
    )
    rep = calibrate(plan, tmp_path / "out", execution=Execution(workers=2))
    rows = rep.fit.set_index("parameter")
    for path, truth in TRUTH.items():
        row = rows.loc[path]
        lo, hi = PRIOR[path]
        assert row["credible_05"] <= truth <= row["credible_95"], (path, row.to_dict())
        # the record narrows each parameter well below its flat prior
        assert row["credible_95"] - row["credible_05"] < 0.5 * (hi - lo), (path, row.to_dict())
        assert row["shrinkage"] > 0.4, (path, row.to_dict())
