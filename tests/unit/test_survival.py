"""Kaplan–Meier from life tables (sim/survival.py): against scipy, delayed entry, medians."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.experiments.options import Execution
from sim.experiments.runner import run_to_dir
from sim.results.survival import captivity_tables, kaplan_meier, median_days
from sim.scenario.loading import loads_scenario


def test_matches_scipy_kaplan_meier_and_log_log_interval() -> None:
    rng = np.random.default_rng(7)
    days = rng.integers(0, 60, 500)
    event = rng.random(500) < 0.6
    km = kaplan_meier(
        np.bincount(np.zeros(500, dtype=int), minlength=60),
        np.bincount(days[event], minlength=60),
        np.bincount(days[~event], minlength=60),
    )
    # scipy on the individual data (exits within day d happen at d + 0.5)
    res = stats.ecdf(stats.CensoredData(uncensored=days[event] + 0.5, right=days[~event] + 0.5))
    ci = res.sf.confidence_interval(method="log-log")
    for d in (3, 17, 30, 55):
        assert km.survival[d] == pytest.approx(res.sf.evaluate(d + 0.75), rel=1e-12)
        assert km.ci_low[d] == pytest.approx(ci.low.evaluate(d + 0.75), rel=1e-9)
        assert km.ci_high[d] == pytest.approx(ci.high.evaluate(d + 0.75), rel=1e-9)


def test_delayed_entry_counts_late_entrants_only_from_their_entry() -> None:
    # two prisoners from day 0 (exit at 2 and 5); one enters at day 3 (held 3 days already)
    # and exits at day 4 of captivity
    km = kaplan_meier(
        np.array([2, 0, 0, 1]), np.array([0, 0, 1, 0, 1, 1]), np.array([0, 0, 0, 0, 0, 0])
    )
    assert list(km.at_risk[:6]) == [2, 2, 2, 2, 2, 1]
    assert km.survival[2] == pytest.approx(0.5)
    assert km.survival[4] == pytest.approx(0.25)
    assert km.survival[5] == pytest.approx(0.0)


def test_median_days_held_matches_exponential_exits() -> None:
    """No exchanges, death hazard h: time in captivity ~ exponential, median ln 2 / h."""
    h = 0.01
    scn = loads_scenario(f"""
name: km
start_date: 2025-01-01
horizon: 1000
parties:
  - {{id: a, initiative: null}}
  - {{id: b, initiative: null}}
capture_streams:
  - {{id: ab, captor: a, nationality: b, rate: 2}}
captivity:
  death_hazard: {{healthy: {h}}}
""")
    batch_out = run_to_dir(scn, _tmp(), seed=1, replications=20, execution=Execution(workers=1))
    import pandas as pd

    med = pd.read_csv(batch_out.out / "captivity.csv").set_index(["nationality", "category"])
    row = med.loc[("b", "all")]
    assert row["prisoners"] > 30_000
    assert (
        row["median_ci_low"] <= math.log(2) / h + 1 and row["median_ci_high"] >= math.log(2) / h - 1
    )
    assert abs(row["median_days"] - math.log(2) / h) <= 2


def test_captivity_tables_by_category_and_overall() -> None:
    life = {
        ("x", "soldier"): np.array([[10, 0], [5, 5], [0, 0]]),
        ("x", "officer"): np.array([[4, 0, 0], [0, 0, 2], [0, 0, 2]]),
    }
    curves, medians = captivity_tables(life)
    m = medians.set_index("category")
    assert m.loc["all", "prisoners"] == 14 and m.loc["all", "exited"] == 12
    assert m.loc["soldier", "median_days"] == 0.0
    assert set(curves["group"]) == {"x all", "x officer", "x soldier"}
    assert median_days(curves[curves.group == "x officer"].reset_index(drop=True))[0] == 2.0


def _tmp():  # type: ignore[no-untyped-def]
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="pxsim-km-"))
