"""Every shipped scenario loads, runs with the census checked at every event, and matches its
golden results at a fixed seed.

Golden results pin the model's behaviour: any change to the model or a scenario that moves a
number fails here. If the change is intended, regenerate with
``PXSIM_REGEN_GOLDEN=1 python -m pytest tests/scenarios`` and commit the new golden file
together with the change (the diff shows what moved).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from sim.experiments.experiment import run_replications
from sim.model.simulation import Simulation
from sim.scenario.loading import load_scenario
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = [*sorted((ROOT / "scenarios").glob("*.yaml")), ROOT / "benchmarks" / "two_party.yaml"]
GOLDEN = Path(__file__).with_name("golden.json")
SEED, REPS = 20250113, 3


def _golden() -> dict[str, list[dict[str, float]]]:
    return json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_runs_with_conservation_at_every_event(path: Path) -> None:
    scn = load_scenario(path)
    sim = Simulation(scn, SEED, 0, check_invariants=True)
    res = sim.run()
    assert len(sim.census_log) > 10
    o = res.outcomes
    assert o["initial_held"] + o["captured"] == (
        o["repatriated"] + o["resettled"] + o["died"] + o["held_at_end"] + o["in_custody_at_end"]
    )
    assert o["remains_initial"] + o["remains_added"] == (
        o["remains_repatriated"] + o["remains_held_at_end"]
    )


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_golden_results(path: Path) -> None:
    scn = load_scenario(path)
    batch = run_replications(scn, SEED, REPS)
    got = [r.outcomes for r in batch.runs]
    golden = _golden()
    key = str(path.relative_to(ROOT))
    if os.environ.get("PXSIM_REGEN_GOLDEN"):
        golden[key] = got
        GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
        pytest.skip("golden results regenerated")
    assert key in golden, f"no golden results for {key}; regenerate (see module docstring)"
    for rep, (want, have) in enumerate(zip(golden[key], got, strict=True)):
        for metric, value in want.items():
            h = have[metric]
            same = (math.isnan(value) and math.isnan(h)) or h == pytest.approx(value, rel=1e-9)
            assert same, f"{key} replication {rep}: {metric} = {h}, golden {value}"


def test_kursk_seed_case_story(kursk_scenario: Scenario) -> None:
    """The seed case behaves as its facts say: Russia refuses the DPRK exchange while it does
    not acknowledge the troops, and background swaps with Ukraine go on via the UAE."""
    batch = run_replications(kursk_scenario, SEED, 20, keep_events=True)
    refused = sum(r.outcomes["talks_refused"] for r in batch.runs)
    dprk_home = sum(
        p["repatriated_home"] for r in batch.runs for p in r.parties if p["party"] == "dprk"
    )
    assert refused > 0
    assert dprk_home == 0
    assert sum(r.outcomes["deals"] for r in batch.runs) > 20
