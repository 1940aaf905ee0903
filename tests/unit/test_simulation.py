"""sim/model/simulation.py: one replication — reproducible from (seed, replication), its census
conserved at every event and moved only by what the events say, and a timeline change that
swaps the scenario in force on its day and redraws only what it alters."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

import numpy as np

from sim.model.prisoners import REPATRIATED
from sim.model.records import RunResult
from sim.model.simulation import Simulation
from sim.scenario.loading import loads_scenario
from sim.scenario.schema import Scenario

COUNTS = ("initial_held", "captured", "repatriated", "resettled", "died", "held")


def same_run(a: RunResult, b: RunResult) -> bool:
    outcomes = a.outcomes.keys() == b.outcomes.keys() and all(
        x == y or (x != x and y != y)  # NaN (no first deal) equals NaN
        for x, y in zip(a.outcomes.values(), b.outcomes.values(), strict=True)
    )
    series = a.held_series.keys() == b.held_series.keys() and all(
        np.array_equal(a.held_series[k], b.held_series[k]) for k in a.held_series
    )
    return outcomes and series and a.events == b.events and a.deals == b.deals


def test_same_seed_and_replication_same_run(toy_scenario: Scenario) -> None:
    a = Simulation(toy_scenario, 11, 3).run()
    b = Simulation(toy_scenario, 11, 3).run()
    assert (a.seed, a.replication, a.scenario) == (11, 3, "toy")
    assert a.outcomes["deals"] >= 1 and a.outcomes["captured"] > 0
    assert same_run(a, b)


def test_another_replication_or_seed_draws_other_numbers(toy_scenario: Scenario) -> None:
    base = Simulation(toy_scenario, 11, 3, keep_prisoners=True).run()
    for seed, rep in ((11, 4), (12, 3)):
        other = Simulation(toy_scenario, seed, rep, keep_prisoners=True).run()
        assert not same_run(base, other)
        # the capture times themselves differ, not only what was made of them
        assert not np.array_equal(
            np.sort(base.prisoners["t_cap"]), np.sort(other.prisoners["t_cap"])
        )


def test_the_scenario_seed_is_the_default(toy_scenario: Scenario) -> None:
    assert toy_scenario.seed == 3
    assert same_run(Simulation(toy_scenario, None, 1).run(), Simulation(toy_scenario, 3, 1).run())


def test_census_is_conserved_at_every_event(toy_scenario: Scenario) -> None:
    sim = Simulation(toy_scenario, 5, 0, check_invariants=True)
    res = sim.run()  # census() raises inside if conservation fails at any step
    log = sim.census_log
    assert len(log) > len(res.events) > 10  # one census per step, from day 0
    assert log[0][0] == 0.0
    times = [t for t, _ in log]
    assert times == sorted(times) and times[-1] <= toy_scenario.horizon
    for _, c in log:
        assert c["initial_held"] + c["captured"] == (
            c["repatriated"] + c["resettled"] + c["died"] + c["held"]
        )
    assert log[0][1]["initial_held"] == 40 and log[0][1]["held"] == 40
    # the census only moves forward: nobody comes back, nobody is captured twice
    for (_, a), (_, b) in pairwise(log):
        for k in ("captured", "repatriated", "resettled", "died"):
            assert b[k] >= a[k], k
    # deals are events, so the last census has everyone sent home by the horizon
    assert log[-1][1]["repatriated"] == res.outcomes["repatriated"] > 0


def test_only_executed_deals_send_people_home(toy_scenario: Scenario) -> None:
    """In the toy world nobody is released any other way: the census's repatriated count rises
    on exactly the days of executed deals, by the numbers they moved."""
    sim = Simulation(toy_scenario, 5, 1, check_invariants=True)
    res = sim.run()
    moved: dict[float, int] = defaultdict(int)
    for t, kind, d in res.events:
        if kind == "executed":
            moved[t] += sum(n for *_, n in d["transfers"])
    assert moved, "no deal was executed"
    rises: dict[float, int] = defaultdict(int)
    for (_, a), (t, b) in pairwise(sim.census_log):
        if b["repatriated"] != a["repatriated"]:
            rises[t] += b["repatriated"] - a["repatriated"]
    assert dict(rises) == dict(moved)
    assert sum(moved.values()) == res.outcomes["repatriated"] == res.outcomes["exchanged"]


def test_a_timeline_change_takes_effect_on_its_day(toy_scenario_text: str) -> None:
    day = 60.0
    changed = loads_scenario(
        toy_scenario_text,
        {"timeline": [{"at": day, "set": {"capture_streams.a_takes_b.rate": 0}}]},
    )
    plain = loads_scenario(toy_scenario_text)
    sim = Simulation(changed, 4, 2, keep_prisoners=True, check_invariants=True)
    res = sim.run()
    base = Simulation(plain, 4, 2, keep_prisoners=True).run()
    notes = [(t, d["note"]) for t, kind, d in res.events if kind == "timeline"]
    assert notes == [(day, "capture_streams.a_takes_b.rate=0")]
    # the phase in force after the change is the changed scenario; the run keeps its name
    assert sim.scn.capture_streams[0].rate != changed.capture_streams[0].rate
    assert sim.base is changed and res.scenario == "toy"

    def captures(r: RunResult, stream: int) -> np.ndarray:
        p = r.prisoners
        return np.sort(p["t_cap"][p["source"] == stream])

    # stream a_takes_b: the same captures until the change (common random numbers), none after
    before = captures(base, 0)[captures(base, 0) <= day]
    assert len(before) > 0 and (captures(base, 0) > day).any()
    np.testing.assert_array_equal(captures(res, 0), before)
    # the other stream is not redrawn
    np.testing.assert_array_equal(captures(res, 1), captures(base, 1))
    assert res.outcomes["captured"] < base.outcomes["captured"]
    assert set(res.prisoners["deal_fate"][np.isfinite(res.prisoners["t_deal"])]) <= {REPATRIATED}
