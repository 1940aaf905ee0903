"""sim/questions.py: first transfer days, probabilities by day with binomial intervals, and
the fates of one nationality's prisoners, on hand-built events and on real runs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiments.experiment import run_replications
from sim.model.prisoners import DIED, HELD, IN_CUSTODY, REPATRIATED, RESETTLED
from sim.model.records import LifeTable, RunResult
from sim.results import questions
from sim.scenario.loading import load_scenario

EVENTS: list[tuple[float, str, dict[str, Any]]] = [
    (5.0, "offer", {"transfers": [("ukraine", "dprk", "dprk", 1)]}),  # offered, not moved
    (9.0, "executed", {"deal": 1, "transfers": [("ukraine", "russia", "russia", 10)]}),
    (20.0, "collapsed", {"deal": 2}),
    # a line that moved nobody (the prisoner had died) does not count
    (30.0, "executed", {"deal": 3, "transfers": [("ukraine", "dprk", "dprk", 0)]}),
    (40.0, "executed", {"deal": 4, "transfers": [("ukraine", "dprk", "south_korea", 2)]}),
    (
        55.5,
        "executed",
        {
            "deal": 5,
            "transfers": [
                ("ukraine", "dprk", "dprk", 1),
                ("russia", "ukraine", "ukraine", 3),
            ],
        },
    ),
    (70.0, "executed", {"deal": 6, "transfers": [("ukraine", "dprk", "dprk", 2)]}),
]


def test_first_transfer_day_counts_only_executed_nonzero_lines() -> None:
    assert questions.first_transfer_day(EVENTS, "dprk") == 55.5
    assert questions.first_transfer_day(EVENTS, "dprk", "dprk") == 55.5
    assert questions.first_transfer_day(EVENTS, "dprk", "south_korea") == 40.0
    assert questions.first_transfer_day(EVENTS, "russia") == 9.0
    assert questions.first_transfer_day(EVENTS, "ukraine") == 55.5
    assert math.isnan(questions.first_transfer_day(EVENTS, "russia", "south_korea"))
    assert math.isnan(questions.first_transfer_day([], "dprk"))
    # order of the list does not matter
    assert questions.first_transfer_day(list(reversed(EVENTS)), "dprk") == 55.5


def test_transfers_lists_moved_prisoners() -> None:
    t = questions.transfers(EVENTS, "dprk")
    assert list(t["day"]) == [40.0, 55.5, 70.0]
    assert list(t["destination"]) == ["south_korea", "dprk", "dprk"]
    assert list(t["count"]) == [2, 1, 2]
    assert len(questions.transfers(EVENTS)) == 5
    assert list(questions.transfers([]).columns) == [
        "day",
        "deal",
        "holder",
        "nationality",
        "destination",
        "count",
    ]


def test_probability_by_counts_runs_and_matches_scipy_intervals() -> None:
    first = [10.0, 100.0, math.nan, 200.0, 91.0, math.nan, 400.0, 5.0]
    by = questions.probability_by([91, 182, 365], first)
    assert list(by["happened"]) == [3, 4, 5]  # day 91 itself counts
    assert list(by["runs"]) == [8, 8, 8]
    assert list(by["p"]) == [3 / 8, 4 / 8, 5 / 8]
    for method in ("wilson", "exact"):
        by = questions.probability_by([91, 182, 365], first, method=method)
        for k, low, high in zip(by["happened"], by["ci_low"], by["ci_high"], strict=True):
            ci = stats.binomtest(int(k), 8).proportion_ci(0.95, method=method)
            assert low == pytest.approx(ci.low, abs=1e-12)
            assert high == pytest.approx(ci.high, abs=1e-12)


@pytest.mark.parametrize("method", ["wilson", "exact"])
@pytest.mark.parametrize(("k", "n"), [(0, 500), (500, 500), (1, 3), (37, 500), (0, 1)])
def test_binomial_interval_edges_match_scipy(method: questions.Method, k: int, n: int) -> None:
    low, high = questions.binomial_interval(k, n, 0.95, method)
    ci = stats.binomtest(k, n).proportion_ci(0.95, method=method)
    assert float(low) == pytest.approx(ci.low, abs=1e-12)
    assert float(high) == pytest.approx(ci.high, abs=1e-12)
    assert 0.0 <= float(low) <= k / n <= float(high) <= 1.0


def test_binomial_interval_without_runs_and_bad_method() -> None:
    low, high = questions.binomial_interval(0, 0)
    assert np.isnan(low) and np.isnan(high)
    with pytest.raises(ValueError, match="wilson"):
        questions.binomial_interval(1, 2, method="bayes")  # type: ignore[arg-type]


def test_share_without_is_the_complement() -> None:
    first = [3.0, math.nan, 7.0, 7.0]
    s = questions.share_without(first, [0, 3, 6, 7, 10])
    assert list(s["without"]) == [4, 3, 3, 1, 1]
    assert list(s["share"]) == [1.0, 0.75, 0.75, 0.25, 0.25]
    by = questions.probability_by([0, 3, 6, 7, 10], first)
    assert np.allclose(s["ci_low"], 1 - by["ci_high"])
    assert np.allclose(s["ci_high"], 1 - by["ci_low"])


def test_paired_difference_uses_per_run_differences() -> None:
    a = [10.0, math.nan, 50.0, math.nan, 300.0, 20.0]
    b = [12.0, 80.0, math.nan, math.nan, 100.0, 20.0]
    d = questions.paired_difference(a, b, 182)
    assert d["p_a"] == pytest.approx(3 / 6) and d["p_b"] == pytest.approx(4 / 6)
    assert (d["only_a"], d["only_b"], d["runs"]) == (1.0, 2.0, 6.0)
    per_run = np.array([0, 1, -1, 0, 1, 0], dtype=float)
    half = stats.norm.ppf(0.975) * per_run.std(ddof=1) / math.sqrt(6)
    assert d["diff"] == pytest.approx(1 / 6)
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((1 / 6 - half, 1 / 6 + half))
    same = questions.paired_difference(a, a, 365)
    assert (same["diff"], same["ci_low"], same["ci_high"]) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="paired"):
        questions.paired_difference(a, b[:-1], 365)


def hand_built_run(replication: int = 0) -> RunResult:
    """Six DPRK prisoners (two categories): one sent home in a deal, two handed to South
    Korea, one given asylum by Ukraine, one died, one still held."""

    def table(entered: int) -> LifeTable:
        return LifeTable(np.array([entered]), np.array([0]), np.array([0]))

    party = {"repatriated_home": 0, "own_died": 0, "own_still_held": 0}
    return RunResult(
        scenario="hand",
        seed=1,
        replication=replication,
        horizon=365.0,
        outcomes={},
        parties=[
            {"party": "ukraine", **party},
            {"party": "dprk", "repatriated_home": 1, "own_died": 1, "own_still_held": 1},
        ],
        grid=np.arange(366.0),
        held_series={},
        repatriated_series={},
        events=EVENTS[:-1],  # one DPRK soldier home (day 55.5), two to South Korea (day 40)
        talks=[],
        deals=[],
        life_tables={
            ("dprk", "soldier"): table(5),
            ("dprk", "officer"): table(1),
            ("ukraine", "soldier"): table(100),
        },
    )


def test_fates_of_a_hand_built_run() -> None:
    run = hand_built_run()
    f = questions.fates(run, "dprk")
    assert f == {
        "total": 6,
        "repatriated_by_deal": 1,
        "repatriated_other": 0,
        "resettled_by_holder": 1,
        "resettled_by_deal": 2,
        "died": 1,
        "held": 1,
        "in_custody": 0,
    }
    assert sum(f[k] for k in questions.FATES) == f["total"]
    with pytest.raises(KeyError, match="south_korea"):
        questions.fates(run, "south_korea")


def test_fates_table_and_summary() -> None:
    runs = [hand_built_run(r) for r in range(2)]
    runs[1].events = []  # no deals at all: nobody moved by deal; all resettled by the holder
    table = questions.fates_table(runs, "dprk")
    assert list(table["replication"]) == [0, 1]
    assert table["first_day"].iloc[0] == 55.5 and math.isnan(table["first_day"].iloc[1])
    assert list(table["repatriated_by_deal"]) == [1, 0]
    assert list(table["repatriated_other"]) == [0, 1]
    assert list(table["resettled_by_holder"]) == [1, 3]
    sk = questions.fates_table(runs, "dprk", "south_korea")
    assert sk["first_day"].iloc[0] == 40.0
    summary = questions.fates_summary(table).set_index("fate")
    assert summary.loc["total", "mean_per_run"] == 6.0
    assert summary.loc["resettled_by_holder", "share"] == pytest.approx(4 / 12)
    assert summary.loc["died", "mean_per_run"] == 1.0
    assert summary.loc[list(questions.FATES), "share"].sum() == pytest.approx(1.0)
    both = questions.fates_summary(
        pd.concat([table.assign(variant="a"), table.assign(variant="b")], ignore_index=True)
    )
    assert list(both["variant"].unique()) == ["a", "b"]
    assert len(both) == 2 * (len(questions.FATES) + 1)


def test_on_real_runs_agrees_with_the_prisoner_table(kursk_path: Path) -> None:
    ack = ["parties.russia.acknowledges.dprk=true", "parties.dprk.acknowledges.dprk=true"]
    scn = load_scenario(kursk_path, ack)
    batch = run_replications(scn, 2025, 4, keep_events=True, keep_prisoners=True)
    ids = scn.party_ids
    dprk, sk = ids.index("dprk"), ids.index("south_korea")
    seen_home = 0
    for run in batch.runs:
        p = run.prisoners
        mine = (p["nat"] == dprk) & (p["t_cap"] <= run.horizon)
        fate, by_deal = p["fate"], p["t_deal"] == p["t_exit"]
        expected = {
            "total": int(mine.sum()),
            "repatriated_by_deal": int((mine & (fate == REPATRIATED) & by_deal).sum()),
            "repatriated_other": int((mine & (fate == REPATRIATED) & ~by_deal).sum()),
            "resettled_by_holder": int((mine & (fate == RESETTLED) & ~by_deal).sum()),
            "resettled_by_deal": int((mine & (fate == RESETTLED) & by_deal).sum()),
            "died": int((mine & (fate == DIED)).sum()),
            "held": int((mine & (fate == HELD)).sum()),
            "in_custody": int((mine & (fate == IN_CUSTODY)).sum()),
        }
        assert questions.fates(run, "dprk") == expected
        home = mine & (fate == REPATRIATED) & by_deal
        first = questions.first_transfer_day(run, "dprk")
        if home.any():
            seen_home += 1
            assert first == pytest.approx(float(p["t_deal"][home].min()))
        else:
            assert math.isnan(first)
        to_sk = mine & (fate == RESETTLED) & by_deal & (p["dest"] == sk)
        first_sk = questions.first_transfer_day(run, "dprk", "south_korea")
        assert (not to_sk.any() and math.isnan(first_sk)) or first_sk == pytest.approx(
            float(p["t_deal"][to_sk].min())
        )
    assert seen_home > 0, "pick replications where a DPRK soldier goes home"
    # ... and the same from the run without the prisoner table
    light = run_replications(scn, 2025, 4, keep_events=True)
    assert questions.fates_table(light.runs, "dprk").equals(
        questions.fates_table(batch.runs, "dprk")
    )
