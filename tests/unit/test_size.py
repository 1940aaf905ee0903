"""sim/scenario/size.py: a scenario whose run would not fit in memory is refused when it is
loaded, with the field that makes it large and the estimate; the limit can be raised."""

from __future__ import annotations

import pytest

from sim.errors import ScenarioError
from sim.scenario.loading import load_scenario, loads_scenario
from sim.scenario.size import (
    BYTES_PER_PRISONER,
    MAX_PRISONERS,
    expected_incidents,
    size_parts,
)

WORLD = """\
name: sized
start_date: 2025-01-01
horizon: 100
parties:
  - id: a
  - id: b
holdings:
  - {{holder: a, nationality: b, count: 500}}
capture_streams:
  - id: a_takes_b
    captor: a
    nationality: b
    rate: [{{from: 0, per_day: 2}}, {{from: 40, per_day: 0.5}}]
    batch: {{dist: geometric, mean: {batch}}}
"""


def test_the_estimate_is_holdings_plus_incidents_times_batches() -> None:
    scn = loads_scenario(WORLD.format(batch=3))
    stream = scn.capture_streams[0]
    assert expected_incidents(stream, 100.0) == 2 * 40 + 0.5 * 60  # 110 incidents
    parts = dict(size_parts(scn))
    assert parts[("holdings", 0, "count")] == 500
    assert parts[("capture_streams", "a_takes_b", "rate")] == pytest.approx(110 * 3)


def test_a_batch_of_a_trillion_is_refused_before_anything_runs() -> None:
    with pytest.raises(ScenarioError) as info:
        loads_scenario(WORLD.format(batch="1e12"), source="w.yaml")
    text = str(info.value)
    assert text.startswith("w.yaml:14: capture_streams.a_takes_b.batch: one run would hold about")
    assert "1.1e+14 prisoners" in text
    gigabytes = 1.1e14 * BYTES_PER_PRISONER / 1e9
    assert f"{gigabytes:.3g} GB" in text
    assert (
        f"the limit is {MAX_PRISONERS:,} prisoners a run" in text and "PXSIM_MAX_PRISONERS" in text
    )


def test_a_timeline_that_makes_it_large_is_refused_too() -> None:
    text = (
        WORLD.format(batch=3)
        + "timeline:\n  - {at: 50, set: {capture_streams.a_takes_b.batch.mean: 1e9}}\n"
    )
    with pytest.raises(ScenarioError, match="one run would hold about"):
        loads_scenario(text)


def test_the_limit_can_be_raised_for_a_large_study(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PXSIM_MAX_PRISONERS", "1e15")
    assert loads_scenario(WORLD.format(batch="1e12")).capture_streams[0].batch.mean() == 1e12
    monkeypatch.setenv("PXSIM_MAX_PRISONERS", "100")
    with pytest.raises(ScenarioError, match="the limit is 100 prisoners a run"):
        loads_scenario(WORLD.format(batch=3))
    monkeypatch.setenv("PXSIM_MAX_PRISONERS", "lots")
    with pytest.raises(ScenarioError, match="PXSIM_MAX_PRISONERS: expected a whole number"):
        loads_scenario(WORLD.format(batch=3))


def test_the_shipped_scenarios_are_far_below_the_limit(shipped_scenarios: list) -> None:  # type: ignore[type-arg]
    for path in shipped_scenarios:
        scn = load_scenario(path)
        assert sum(n for _, n in size_parts(scn)) < MAX_PRISONERS / 100, path
