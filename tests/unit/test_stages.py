"""Deals carried out in stages, and collapse risk by kind and size (sim/model/staging.py,
sim/model/deals.py): stage counts and quotas, slips, cancellations, slices by category,
deals and stages counted apart, people counted on the day they cross."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.negotiation import Transfer
from sim.model.prisoners import PrisonerTable
from sim.model.simulation import Simulation
from sim.model.staging import (
    category_rank,
    collapse_risk,
    deal_kind,
    stage_count,
    stage_quota,
)
from sim.results.targets import DealHistory, Target, target_statistics
from sim.results.trace import format_story
from sim.scenario.loading import loads_scenario

# one 300-for-300 deal agreed on day 0 directly (a proposes, b accepts at once), then nothing
SWAP = """\
name: swap
start_date: 2025-01-01
horizon: 60
seed: 1
parties:
  - id: a
    direct_channels: [b]
    initiative: {{dist: fixed, value: 0.5}}
    strategy: conceder
    reservation: 0.0
    norms: {{one_for_one: true}}
  - id: b
    initiative: null
    strategy: conceder
    reservation: 0.0
    norms: {{one_for_one: true}}
holdings:
  - {{holder: a, nationality: b, count: 300, wounded_share: {wounded}}}
  - {{holder: b, nationality: a, count: 300, wounded_share: {wounded}}}
negotiation:
  collapse: 0.0
  preparation: {{dist: fixed, value: 2}}
  cooldown: {{dist: fixed, value: 1000}}
  direct_delay: {{dist: fixed, value: 0.1}}
  stages: {stages}
timeline:
  - {{at: 1, set: {{negotiation.frozen: true}}, note: only the first talks}}
"""


def run(stages: str, wounded: float = 0.0, seed: int = 1):  # type: ignore[no-untyped-def]
    scn = loads_scenario(SWAP.format(stages=stages, wounded=wounded))
    return scn, Simulation(scn, seed, 0, check_invariants=True, keep_prisoners=True).run()


def stage_events(res) -> list[tuple[float, dict]]:  # type: ignore[no-untyped-def,type-arg]
    return [(t, d) for t, k, d in res.events if k == "stage"]


# --------------------------------------------------------------------------- pure functions
def tr(holder: int, nat: int, dest: int) -> Transfer:
    return Transfer(holder, nat, dest, resettle=dest != nat)


def test_kinds_of_deal() -> None:
    assert deal_kind([tr(0, 1, 1), tr(1, 0, 0)]) == "exchange"
    assert deal_kind([tr(0, 1, 1)]) == "release"
    assert deal_kind([tr(0, 2, 3)]) == "asylum"
    assert deal_kind([tr(0, 2, 3), tr(0, 1, 1)]) == "release"


def test_collapse_risk_by_kind_then_size_then_default() -> None:
    scn = loads_scenario(
        SWAP.format(stages="null", wounded=0).replace(
            "  collapse: 0.0\n",
            "  collapse: 0.1\n  collapse_by_size: [{at_least: 100, collapse: 0.3},"
            " {at_least: 500, collapse: 0.5}]\n  guarantee_factor: 0.5\n",
        )
    )
    neg = scn.negotiation
    assert collapse_risk(neg, 1, "asylum", False) == 0.0  # the default for asylum transfers
    assert collapse_risk(neg, 50, "exchange", False) == 0.1
    assert collapse_risk(neg, 100, "exchange", False) == 0.3
    assert collapse_risk(neg, 700, "release", False) == 0.5
    assert collapse_risk(neg, 700, "release", True) == 0.25


@pytest.mark.parametrize(
    ("drawn", "size", "k"), [(3.0, 600, 3), (2.6, 600, 3), (0.2, 9, 1), (9, 4, 4)]
)
def test_stage_count_is_rounded_and_bounded(drawn: float, size: int, k: int) -> None:
    assert stage_count(drawn, size) == k


def test_stage_quotas_share_what_is_left_evenly() -> None:
    left, quotas = 10, []
    for stages_left in (3, 2, 1):
        q = stage_quota(left, stages_left)
        quotas.append(q)
        left -= q
    assert quotas == [4, 3, 3] and left == 0


def test_category_rank_follows_the_order_and_puts_others_last() -> None:
    table = PrisonerTable(2)
    table.categories = ["soldier", "officer", "civilian"]
    n = 5
    table.append(
        {
            "cat": np.array([0, 1, 2, 0, 2]),
            "wounded": np.array([False, False, False, True, False]),
            "young": np.array([False, True, False, False, False]),
            "t_cap": np.zeros(n),
        }
    )
    rows = np.arange(n)
    rank = category_rank(["civilian", "wounded", "young"], table, rows)
    assert rank.tolist() == [3, 2, 0, 1, 0]


# --------------------------------------------------------------------------- in a run
def test_a_large_deal_goes_in_three_daily_stages() -> None:
    scn, res = run("{count: {dist: fixed, value: 3}, gap: {dist: fixed, value: 1}}")
    stages = stage_events(res)
    assert [d["stage"] for _, d in stages] == [1, 2, 3]
    days = [t for t, _ in stages]
    assert np.allclose(np.diff(days), 1.0)
    moved = [sum(n for *_, n in d["transfers"]) for _, d in stages]
    assert moved == [200, 200, 200]  # 100 each way per stage
    out = res.outcomes
    assert (out["deals"], out["stages"], out["exchanged"]) == (1, 3, 600)
    # the record counts the deal once and its stages three times; people count as they cross
    hist = DealHistory.of(res)
    assert len(hist.days) == 1 and len(hist.stage_days) == 3
    on = (float(np.floor(days[0])), float(np.floor(days[1])))
    returned = Target("r", "cumulative_returned", party="a", days=on, dates=("d1", "d2"))
    assert target_statistics(returned, hist).tolist() == [100.0, 200.0]
    swaps = Target("s", "cumulative_stages", days=on, dates=("d1", "d2"))
    assert target_statistics(swaps, hist).tolist() == [1.0, 2.0]
    deals = Target("d", "cumulative_deals", days=on, dates=("d1", "d2"))
    assert target_statistics(deals, hist).tolist() == [0.0, 0.0]  # done at the third stage
    story = format_story(scn, res)
    assert "stage 2 of 3: a frees 100 b; b frees 100 a" in story


def test_small_deals_go_at_once() -> None:
    _, res = run("{min_size: 1000, count: {dist: fixed, value: 3}}")
    assert stage_events(res) == [] and res.outcomes["stages"] == res.outcomes["deals"] == 1


def test_every_stage_after_the_first_may_slip() -> None:
    _, res = run(
        "{count: {dist: fixed, value: 3}, gap: {dist: fixed, value: 1},"
        " slip: 1.0, slip_delay: {dist: fixed, value: 4}}"
    )
    days = [t for t, _ in stage_events(res)]
    assert np.allclose(np.diff(days), 5.0) and res.outcomes["stages_slipped"] == 2


def test_the_rest_of_a_deal_can_be_cancelled() -> None:
    _, res = run("{count: {dist: fixed, value: 3}, cancel: 1.0}")
    assert len(stage_events(res)) == 1
    out = res.outcomes
    assert (out["deals"], out["stages"], out["deals_cut_short"], out["exchanged"]) == (1, 1, 1, 200)
    assert out["held_at_end"] == 400  # the rest stays held


def test_by_category_the_wounded_go_first() -> None:
    _, res = run(
        "{count: {dist: fixed, value: 3}, by: category, order: [wounded]}", wounded=0.2, seed=3
    )
    p = res.prisoners
    first = min(t for t, _ in stage_events(res))
    moved = p["t_deal"] <= 1e9
    wounded = p["wounded"][moved]
    in_first = p["t_deal"][moved] == first
    # about 60 wounded on each side, fewer than a stage's 100: all of them go in the first stage
    assert 20 < wounded.sum() < 200
    assert np.all(in_first[wounded])


def test_staged_deals_conserve_people_at_every_event() -> None:
    scn = loads_scenario(
        SWAP.format(
            stages="{count: {dist: fixed, value: 4}, gap: {dist: exponential, mean: 2}, "
            "slip: 0.5, cancel: 0.2}",
            wounded=0.1,
        )
        + "captivity:\n  death_hazard: {healthy: 0.01, wounded: 0.05}\n"
    )
    for r in range(8):
        sim = Simulation(scn, 5, r, check_invariants=True)
        res = sim.run()  # the census is checked at every event
        assert res.outcomes["stages"] >= res.outcomes["deals"]
        assert res.outcomes["initial_held"] == 600


def test_a_deal_still_in_stages_at_the_horizon_keeps_what_it_moved() -> None:
    """Stages 5 days apart from day 2.6: by the horizon (day 8) two of three are done. The
    deal is not executed yet (Ukraine numbers an exchange when it is done), but the people of
    its first two stages are home, in every count that counts people."""
    text = SWAP.format(
        stages="{count: {dist: fixed, value: 3}, gap: {dist: fixed, value: 5}}", wounded=0
    ).replace("horizon: 60", "horizon: 10")
    scn = loads_scenario(text)
    res = Simulation(scn, 1, 0, check_invariants=True).run()
    out = res.outcomes
    assert (out["deals"], out["stages"], out["exchanged"]) == (0, 2, 400)
    (deal,) = res.deals
    assert deal["outcome"] == "in_stages" and deal["moved"] == 400 and len(deal["stages"]) == 2
    hist = DealHistory.of(res)
    returned = Target("r", "cumulative_returned", party="a", days=(9.0,), dates=("d",))
    assert target_statistics(returned, hist).tolist() == [200.0]
    assert res.channels["direct"] == {"talks": 1, "deals": 0, "collapsed": 0, "moved": 400}


def test_the_first_transfer_is_the_first_stage() -> None:
    from sim.results.questions import first_transfer_day, transfers

    _, res = run("{count: {dist: fixed, value: 3}, gap: {dist: fixed, value: 1}}")
    days = [t for t, _ in stage_events(res)]
    assert first_transfer_day(res, "b") == days[0]
    moved = transfers(res, "b")
    assert moved["day"].tolist() == days and moved["count"].tolist() == [100, 100, 100]
