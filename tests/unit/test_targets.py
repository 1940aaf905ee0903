"""Target statistics of one run: cumulative counts by date, sizes and gaps by quantiles."""

from __future__ import annotations

import numpy as np

from sim.model.records import RunResult
from sim.results.targets import (
    DealHistory,
    Target,
    observed_vector,
    run_statistics,
    stat_groups,
    stat_names,
    target_statistics,
)


def _result(deals: list[dict]) -> RunResult:
    return RunResult(
        scenario="t",
        seed=1,
        replication=0,
        horizon=100.0,
        outcomes={},
        parties=[],
        grid=np.arange(3.0),
        held_series={},
        repatriated_series={},
        events=[],
        talks=[],
        deals=deals,
    )


def test_a_deal_during_the_observation_day_counts_for_that_date() -> None:
    hist = DealHistory.of(_result([_deal(10.6, 3, 3), _deal(11.2, 4, 4)]))
    deals = Target("d", "cumulative_deals", days=(9, 10, 11), dates=("p", "q", "r"))
    assert target_statistics(deals, hist).tolist() == [0, 1, 2]
    sizes = Target("s", "sizes", party="a", window=(0, 10), quantiles=(1.0,))
    assert target_statistics(sizes, hist).tolist() == [3]


def _deal(day: float, to_a: int, to_b: int, outcome: str = "executed") -> dict:
    return {
        "outcome": outcome,
        "day": day,
        "transfers": [("b", "a", "a", to_a), ("a", "b", "b", to_b)],
    }


DEALS = [_deal(30, 5, 4), _deal(10, 10, 10), _deal(20, 0, 0, "collapsed"), _deal(50, 7, 0)]


def test_history_keeps_executed_deals_in_day_order() -> None:
    hist = DealHistory.of(_result(DEALS))
    assert hist.days.tolist() == [10, 30, 50]
    assert hist.to("a").tolist() == [10, 5, 7]
    assert hist.to("b").tolist() == [10, 4, 0]
    assert hist.to("nobody").tolist() == [0, 0, 0]


def test_cumulative_counts_include_the_observation_day() -> None:
    hist = DealHistory.of(_result(DEALS))
    days = (0, 10, 29, 30, 99)
    returned = Target("r", "cumulative_returned", party="a", days=days, dates=tuple("vwxyz"))
    deals = Target("d", "cumulative_deals", days=(9, 10, 50), dates=("p", "q", "r"))
    assert target_statistics(returned, hist).tolist() == [0, 10, 10, 15, 22]
    assert target_statistics(deals, hist).tolist() == [0, 1, 3]


def test_sizes_and_gaps_use_the_window_and_quantiles() -> None:
    hist = DealHistory.of(_result(DEALS))
    sizes = Target("s", "sizes", party="b", window=(0, 40), quantiles=(0.0, 0.5, 1.0))
    # deals at 10 and 30 give b 10 and 4; the deal at 50 is outside and gives b nothing
    assert target_statistics(sizes, hist).tolist() == [4, 7, 10]
    gaps = Target("g", "gaps", window=(10, 50), quantiles=(0.5, 1.0))
    assert target_statistics(gaps, hist).tolist() == [20, 20]


def test_too_few_deals_give_nan() -> None:
    hist = DealHistory.of(_result([_deal(10, 1, 1)]))
    gaps = Target("g", "gaps")
    assert np.isnan(target_statistics(gaps, hist)).all()
    empty = Target("s", "sizes", party="a", window=(20, 30))
    assert np.isnan(target_statistics(empty, hist)).all()


def test_vector_layout_names_and_groups() -> None:
    ts = [
        Target(
            "r",
            "cumulative_returned",
            party="a",
            days=(10, 30),
            dates=("2025-01-11", "2025-01-31"),
            observed=(8, 20),
        ),
        Target("s", "sizes", party="a", observed=(1, 2, 3, 4, 5), quantiles=(0.25, 0.5, 1.0)),
    ]
    assert stat_names(ts) == ["r@2025-01-11", "r@2025-01-31", "s:q25", "s:q50", "s:max"]
    assert stat_groups(ts).tolist() == [0, 0, 1, 1, 1]
    assert observed_vector(ts).tolist() == [8, 20, 2, 3, 5]
    stats = run_statistics(_result(DEALS), ts)
    assert stats.tolist() == [10, 15, 6.0, 7.0, 10]  # sizes to a: 5, 7, 10
