"""Remains of the dead (sim/scenario/remains.py, sim/model/remains_ledger.py,
sim/model/remains.py): stocks and their additions, handovers with deals and apart from them,
hand-computed counts, conservation, and never a remains count among the people."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.model.simulation import Simulation
from sim.results.targets import DealHistory, Target, target_statistics
from sim.results.trace import format_story
from sim.scenario.loading import loads_scenario

# one 300-for-300 exchange on day 2.6 (a proposes at day 0.5, b accepts, 2 days to hand over)
SWAP = """\
name: remains
start_date: 2025-01-01
horizon: 100
seed: 1
parties:
  - id: a
    direct_channels: [b]
    initiative: {dist: fixed, value: 0.5}
    strategy: conceder
    reservation: 0.0
    norms: {one_for_one: true}
  - id: b
    initiative: null
    strategy: conceder
    reservation: 0.0
    norms: {one_for_one: true}
  - {id: c, initiative: null}
holdings:
  - {holder: a, nationality: b, count: 300}
  - {holder: b, nationality: a, count: 300}
negotiation:
  collapse: 0.0
  preparation: {dist: fixed, value: 2}
  cooldown: {dist: fixed, value: 1000}
  direct_delay: {dist: fixed, value: 0.1}
timeline:
  - {at: 1, set: {negotiation.frozen: true}, note: only the first talks}
"""

REMAINS = """\
remains:
  - id: a_holds_b
    holder: a
    nationality: b
    initial: 101
    with_deals: 0.5
    returns: {at: [20, 2025-02-10], share: 0.5}
  - id: b_holds_a
    holder: b
    nationality: a
    initial: 40
    with_deals: 1.0
  - id: b_holds_c
    holder: b
    nationality: c
    initial: 7
    with_deals: 1.0
"""


def run(text: str, seed: int = 1, rep: int = 0, **overrides):  # type: ignore[no-untyped-def]
    scn = loads_scenario(text, overrides)
    sim = Simulation(scn, seed, rep, check_invariants=True, keep_prisoners=True)
    return scn, sim, sim.run()


def test_hand_computed_handovers_with_a_deal_and_on_dates() -> None:
    """With the deal (day 2.6): a hands half of 101 (50.5, rounded to 51) of b's dead, b all 40
    of a's; c is no party to the deal, so b keeps c's 7. On day 20, a hands half of the 50 left
    (25); on 2025-02-10 (day 40), half of 25 (12.5, rounded to 13); 12 remain."""
    scn, _, res = run(SWAP + REMAINS)
    o = res.outcomes
    assert (o["remains_initial"], o["remains_added"]) == (148, 0)
    assert o["remains_repatriated"] == 51 + 40 + 25 + 13
    assert o["remains_held_at_end"] == 12 + 7
    assert o["remains_handovers"] == 3  # the deal's (both ways at once), day 20, day 40
    rows = {r["party"]: r for r in res.parties}
    assert (rows["a"]["remains_given"], rows["a"]["remains_received"]) == (89, 40)
    assert (rows["b"]["remains_given"], rows["b"]["remains_received"]) == (40, 89)
    assert rows["c"]["remains_received"] == 0
    moved = [(t, d["transfers"]) for t, k, d in res.events if k == "remains"]
    assert moved == [
        (pytest.approx(2.6), [("a", "b", 51), ("b", "a", 40)]),
        (20.0, [("a", "b", 25)]),
        (40.0, [("a", "b", 13)]),
    ]
    deal = next(d for d in res.deals if d["outcome"] == "executed")
    assert deal["remains"] == [("a", "b", 51), ("b", "a", 40)]
    story = format_story(scn, res)
    assert "with deal #1: a hands over 51 b remains; b hands over 40 a remains" in story
    assert "repatriation of remains: a hands over 25 b remains" in story


def test_remains_are_never_counted_as_people() -> None:
    """The same run with and without remains: every count of people, every deal's transfers
    and the calibration targets of people returned are identical."""
    _, _, with_ = run(SWAP + REMAINS)
    _, _, without = run(SWAP)
    people = [k for k in with_.outcomes if not k.startswith("remains_")]
    assert {k: with_.outcomes[k] for k in people} == {k: without.outcomes[k] for k in people}
    assert with_.outcomes["exchanged"] == 600 and with_.outcomes["repatriated"] == 600
    for a, b in zip(with_.parties, without.parties, strict=True):
        keep = [k for k in a if not k.startswith("remains_")]
        assert [str(a[k]) for k in keep] == [str(b[k]) for k in keep]  # nan ratios alike
    assert [d["transfers"] for d in with_.deals] == [d["transfers"] for d in without.deals]
    returned = Target("r", "cumulative_returned", party="b", days=(90.0,), dates=("d",))
    assert target_statistics(returned, DealHistory.of(with_)).tolist() == [300.0]
    for k in with_.repatriated_series:
        assert np.array_equal(with_.repatriated_series[k], without.repatriated_series[k])


def test_additions_are_a_poisson_process_and_the_stock_is_conserved() -> None:
    """2 bodies a day for 100 days: about 200 added (within 4 sd of the Poisson count, pooled
    over 10 runs: 2,000 ± 179); every one either handed over or still held."""
    text = SWAP + "remains:\n  - {id: r, holder: a, nationality: b, added: 2, with_deals: 1}\n"
    scn = loads_scenario(text)
    total = 0
    for rep in range(10):
        sim = Simulation(scn, 3, rep, check_invariants=True)
        o = sim.run().outcomes
        assert o["remains_added"] == o["remains_repatriated"] + o["remains_held_at_end"]
        total += o["remains_added"]
    assert abs(total - 2000) < 4 * math.sqrt(2000)


def test_a_change_of_rate_redraws_additions_from_the_change() -> None:
    """No additions until day 50, then 5 a day: every addition falls after day 50."""
    text = (
        SWAP.replace("timeline:\n", "timeline:\n  - {at: 50, set: {remains.r.added: 5}}\n")
        + "remains:\n  - {id: r, holder: a, nationality: b}\n"
    )
    _, sim, res = run(text)
    added = sim.remains.stocks[0].added
    assert len(added) == res.outcomes["remains_added"] > 150
    assert added.min() > 50.0


def test_random_repatriations_of_remains() -> None:
    """Handovers at 0.05 a day for 100 days, each of all that is held: about 5 handovers."""
    text = SWAP + (
        "remains:\n  - {id: r, holder: a, nationality: b, initial: 10, added: 1,"
        " returns: {rate: 0.05}}\n"
    )
    counts = [run(text, 2, rep)[2].outcomes["remains_handovers"] for rep in range(20)]
    assert abs(np.mean(counts) - 5.0) < 4 * math.sqrt(5.0 / 20)


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"remains.a_holds_b.holder": "x"}, "remains.a_holds_b.holder", "party 'x' is not defined"),
        (
            {"remains.a_holds_b.nationality": "a"},
            "remains.a_holds_b.nationality",
            "a party does not hold its own dead ('a')",
        ),
        ({"remains.a_holds_b.initial": -1}, "remains.a_holds_b.initial", ">= 0"),
        ({"remains.a_holds_b.with_deals": 1.5}, "remains.a_holds_b.with_deals", "<= 1"),
        (
            {"remains.a_holds_b.returns.at": [200]},
            "remains.a_holds_b.returns.at[0]",
            "expected a day between 0 and the horizon (100), got 200",
        ),
        ({"remains.a_holds_b.added": -2}, "remains.a_holds_b.added[0].per_day", ">= 0"),
        ({"remains.b_holds_a.id": "a_holds_b"}, "remains.a_holds_b.id", "used twice"),
    ],
)
def test_bad_remains_are_one_clear_error(change: dict, field: str, expected: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ScenarioError) as info:
        loads_scenario(SWAP + REMAINS, change, source="r.yaml")
    exc = info.value
    assert exc.field == field, str(exc)
    assert expected in exc.detail, str(exc)


def test_a_remains_error_names_its_line() -> None:
    text = (SWAP + REMAINS).replace(
        "    holder: b\n    nationality: a\n", "    holder: b\n    nationality: b\n"
    )
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text, source="r.yaml")
    assert str(info.value).startswith("r.yaml:37: remains.b_holds_a.nationality:"), str(info.value)
