"""sim/results.py: summaries with Student-t intervals, frames, the outcome table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiments.experiment import run_replications
from sim.model.records import OUTCOME_COLUMNS
from sim.results.summary import (
    MAIN_METRICS,
    QUANTILES,
    format_table,
    parties_frame,
    runs_frame,
    summarise,
    summary_frame,
    timeseries_frame,
)
from sim.scenario.loading import loads_scenario

SCENARIO = """\
name: results_test
start_date: 2025-01-01
horizon: 90
parties:
  - id: blue
    direct_channels: [red]
    strategy: conceder
    reservation: 0.2
    initiative: {dist: exponential, mean: 15}
  - id: red
    strategy: conceder
    reservation: 0.2
    initiative: {dist: exponential, mean: 20}
holdings:
  - {holder: red, nationality: blue, count: 30, captured: 2024-10-01}
capture_streams:
  - id: blue_takes_red
    captor: blue
    nationality: red
    rate: 0.3
    batch: {dist: geometric, mean: 2}
  - id: red_takes_blue
    captor: red
    nationality: blue
    rate: 0.2
captivity:
  death_hazard: {healthy: 0.001}
"""


@pytest.fixture(scope="module")
def batch():
    return run_replications(loads_scenario(SCENARIO), seed=3, replications=8)


# ------------------------------------------------------------------------- summarise
def test_summarise_matches_scipy_t_interval() -> None:
    v = np.array([3.0, 7.5, 1.25, 9.0, 4.0, 6.5, 2.0])
    s = summarise(v)
    n = len(v)
    mean = v.mean()
    sem = v.std(ddof=1) / math.sqrt(n)
    lo, hi = stats.t.interval(0.95, df=n - 1, loc=mean, scale=sem)
    assert s["n"] == n
    assert s["mean"] == pytest.approx(mean)
    assert s["sd"] == pytest.approx(np.std(v, ddof=1))
    assert s["ci_low"] == pytest.approx(lo, rel=1e-12)
    assert s["ci_high"] == pytest.approx(hi, rel=1e-12)
    # against stats.sem too, and a hand t quantile for df = 6 (2.446912)
    assert s["ci_high"] - mean == pytest.approx(2.446912 * stats.sem(v), rel=1e-6)


def test_summarise_quantiles() -> None:
    v = np.arange(101, dtype=float)  # quantiles of 0..100 are exactly 5, 50, 95
    s = summarise(v)
    assert (s["p05"], s["p50"], s["p95"]) == (5.0, 50.0, 95.0)


def test_summarise_ignores_nans_and_counts_n() -> None:
    v = np.array([np.nan, 10.0, np.nan, 12.0, 14.0])
    s = summarise(v)
    assert s["n"] == 3
    assert s["mean"] == pytest.approx(12.0)
    assert s["sd"] == pytest.approx(2.0)
    lo, hi = stats.t.interval(0.95, df=2, loc=12.0, scale=2.0 / math.sqrt(3))
    assert lo > 0  # not affected by the clipping at zero below
    assert (s["ci_low"], s["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert s["p50"] == 12.0


def test_summarise_interval_of_non_negative_outcomes_clipped_at_zero() -> None:
    # counts and durations cannot have a negative mean: the t interval is cut at 0 (this
    # never drops a true mean >= 0, so coverage is unchanged); the upper end is untouched
    v = np.array([0.0, 1.0, 0.0, 0.0, 4.0])
    s = summarise(v)
    lo, hi = stats.t.interval(0.95, df=4, loc=v.mean(), scale=stats.sem(v))
    assert lo < 0
    assert s["ci_low"] == 0.0
    assert s["ci_high"] == pytest.approx(hi)
    # data with negative values keep the plain t interval
    w = v - 1.0
    s = summarise(w)
    lo, hi = stats.t.interval(0.95, df=4, loc=w.mean(), scale=stats.sem(w))
    assert (s["ci_low"], s["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))


def test_summarise_all_missing() -> None:
    s = summarise(np.array([np.nan, np.nan]))
    assert s["n"] == 0
    assert all(math.isnan(s[k]) for k in ("mean", "sd", "ci_low", "ci_high", "p05", "p50", "p95"))


def test_summarise_single_value_and_constant() -> None:
    s = summarise(np.array([5.0]))
    assert s["n"] == 1 and s["mean"] == 5.0 and s["sd"] == 0.0
    assert s["ci_low"] == s["ci_high"] == 5.0
    s = summarise(np.full(4, 2.5))
    assert s["sd"] == 0.0 and s["ci_low"] == s["ci_high"] == 2.5


# ------------------------------------------------------------------------- frames
def test_runs_frame_one_row_per_replication(batch) -> None:
    runs = runs_frame(batch)
    assert list(runs.columns) == ["scenario", "replication", "seed", *OUTCOME_COLUMNS]
    assert list(runs["replication"]) == list(range(8))
    assert set(runs["seed"]) == {3}
    assert set(runs["scenario"]) == {"results_test"}
    for r, row in zip(batch.runs, runs.itertuples(index=False), strict=True):
        assert row.captured == r.outcomes["captured"]
        assert row.deals == r.outcomes["deals"]
    assert (runs["initial_held"] == 30).all()


def test_parties_frame(batch) -> None:
    parties = parties_frame(batch)
    assert len(parties) == 8 * 2
    assert list(parties.columns[:3]) == ["scenario", "replication", "party"]
    runs = runs_frame(batch)
    # party accounting adds up to the run totals
    by_rep = parties.groupby("replication")
    np.testing.assert_array_equal(by_rep["held"].sum().to_numpy(), runs["held_at_end"].to_numpy())
    np.testing.assert_array_equal(
        by_rep["died_in_custody"].sum().to_numpy(), runs["died"].to_numpy()
    )


def test_summary_frame_columns_and_values(batch) -> None:
    runs = runs_frame(batch)
    summ = summary_frame(runs)
    assert list(summ.columns) == [
        "metric",
        "mean",
        "sd",
        "ci_low",
        "ci_high",
        "p05",
        "p50",
        "p95",
        "n",
    ]
    assert list(summ["metric"]) == list(OUTCOME_COLUMNS)
    row = summ.set_index("metric").loc["captured"]
    v = runs["captured"].to_numpy(dtype=float)
    lo, hi = stats.t.interval(0.95, df=len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    assert row["mean"] == pytest.approx(v.mean())
    assert row["ci_low"] == pytest.approx(lo) and row["ci_high"] == pytest.approx(hi)
    assert row["n"] == 8
    fdd = summ.set_index("metric").loc["first_deal_day"]
    assert fdd["n"] == runs["first_deal_day"].notna().sum()
    assert 0 < fdd["n"] < 8  # this seed has a run without a deal: n counts only the others


def test_summary_frame_subset_of_metrics() -> None:
    runs = pd.DataFrame({"x": [1.0, 2.0, np.nan], "y": [0.0, 0.0, 0.0]})
    summ = summary_frame(runs, ["y", "x"])
    assert list(summ["metric"]) == ["y", "x"]
    assert list(summ["n"]) == [3, 2]


def test_format_table_lists_metrics(batch) -> None:
    summ = summary_frame(runs_frame(batch))
    table = format_table(summ)
    lines = table.splitlines()
    assert lines[0].split()[0] == "metric"
    assert "95% CI of mean" in lines[0]
    body = lines[2:]
    assert [ln.split()[0] for ln in body] == list(MAIN_METRICS)
    captured = next(ln for ln in body if ln.startswith("captured"))
    assert captured.split()[-1] == "8"  # n


def test_format_table_no_run_had_one() -> None:
    runs = pd.DataFrame({"first_deal_day": [np.nan, np.nan], "deals": [0.0, 0.0]})
    table = format_table(
        summary_frame(runs, ["first_deal_day", "deals"]), ["first_deal_day", "deals"]
    )
    fdd = next(ln for ln in table.splitlines() if ln.startswith("first_deal_day"))
    assert "no run had one" in fdd
    assert fdd.split()[-1] == "0"


def test_format_table_number_formatting() -> None:
    runs = pd.DataFrame({"captured": [1000.0, 3000.0], "died": [1.0, 2.0]})
    table = format_table(summary_frame(runs, ["captured", "died"]), ["captured", "died"])
    assert "2,000" in table  # thousands separators for large numbers
    assert "1.50" in table  # two decimals for small numbers


def test_timeseries_frame_columns_and_monotone_repatriated(batch) -> None:
    ts = timeseries_frame(batch)
    q_cols = [f"p{round(q * 100):02d}" for q in QUANTILES]
    assert q_cols == ["p05", "p25", "p50", "p75", "p95"]
    assert list(ts.columns) == ["day", "date", "series", "holder", "nationality", "mean", *q_cols]
    assert set(ts["series"]) == {"held", "repatriated_cumulative"}
    grid = batch.runs[0].grid
    held = ts[ts["series"] == "held"]
    assert set(zip(held["holder"], held["nationality"], strict=True)) == {
        ("red", "blue"),
        ("blue", "red"),
    }
    rep = ts[ts["series"] == "repatriated_cumulative"]
    assert set(rep["nationality"]) == {"blue", "red"}
    for _nat, g in rep.groupby("nationality"):
        assert len(g) == len(grid)
        for col in ["mean", *q_cols]:
            assert (np.diff(g[col].to_numpy()) >= 0).all(), col
        # quantiles are ordered
        qs = g[q_cols].to_numpy()
        assert (np.diff(qs, axis=1) >= 0).all()
    # day 0 is the start date, and held at day 0 equals the initial holding
    first = held[(held["holder"] == "red") & (held["day"] == 0)].iloc[0]
    assert first["date"] == "2025-01-01"
    assert first["mean"] == 30 and first["p05"] == 30
    # the mean column equals the mean across runs
    blue_rep = rep[rep["nationality"] == "blue"]["mean"].to_numpy()
    expect = np.mean([r.repatriated_series["blue"] for r in batch.runs], axis=0)
    np.testing.assert_allclose(blue_rep, expect)
    # the last grid point's p50 is the median of final repatriated counts
    final = np.array([r.repatriated_series["blue"][-1] for r in batch.runs])
    assert blue_rep[-1] == pytest.approx(final.mean())
    assert rep[rep["nationality"] == "blue"]["p50"].iloc[-1] == pytest.approx(np.median(final))


def test_timeseries_repatriated_reaches_run_total(batch) -> None:
    for r in batch.runs:
        total = sum(int(s[-1]) for s in r.repatriated_series.values())
        assert total == r.outcomes["repatriated"]
