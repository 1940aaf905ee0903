"""pxsim against closed-form theory on stripped-down scenarios.

Tolerances: stochastic checks compare a simulated mean with theory using the standard error
over seeded replications (|sim - theory| < 4 SE, a false alarm about 1 in 16,000); the
concession check is deterministic (fixed relay delays) and must land within one round.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.experiments.experiment import run_one, run_replications
from sim.scenario.loading import loads_scenario
from sim.scenario.strategies import agreement_time


def _quiet_world(rate: float, horizon: float, hazard: float = 0.0, batch: str = "") -> str:
    """Two parties that never negotiate; a captures b at `rate` incidents/day."""
    return f"""
name: theory
start_date: 2025-01-01
horizon: {horizon}
parties:
  - {{id: a, initiative: null}}
  - {{id: b, initiative: null}}
capture_streams:
  - id: ab
    captor: a
    nationality: b
    rate: {rate}
    {batch}
captivity:
  death_hazard: {{healthy: {hazard}, wounded: {hazard}}}
"""


def _outcome(scn_text: str, n: int, key: str, seed: int = 11) -> np.ndarray:
    scn = loads_scenario(scn_text)
    batch = run_replications(scn, seed, n)
    return np.array([r.outcomes[key] for r in batch.runs], dtype=float)


def test_poisson_capture_count_mean_and_variance() -> None:
    lam, horizon, n = 2.0, 200.0, 400
    x = _outcome(_quiet_world(lam, horizon), n, "captured")
    expected = lam * horizon
    se = math.sqrt(expected / n)
    assert abs(x.mean() - expected) < 4 * se
    # variance of a Poisson count equals its mean: the ratio's sd is about sqrt(2/(n-1))
    assert abs(x.var(ddof=1) / expected - 1.0) < 4 * math.sqrt(2 / (n - 1))


def test_batches_multiply_the_capture_rate() -> None:
    lam, horizon, n = 1.0, 100.0, 300
    batch = "batch: {dist: poisson, mean: 2, shift: 1}"
    x = _outcome(_quiet_world(lam, horizon, batch=batch), n, "captured")
    # compound Poisson: mean lam*T*E[B], variance lam*T*E[B^2] with B = 1 + Poisson(2)
    eb, eb2 = 3.0, 2.0 + 9.0
    se = math.sqrt(lam * horizon * eb2 / n)
    assert abs(x.mean() - lam * horizon * eb) < 4 * se


def test_self_destruction_thins_captures() -> None:
    text = _quiet_world(3.0, 100.0).replace("rate: 3.0", "rate: 3.0\n    self_destruct: 0.25")
    scn = loads_scenario(text)
    batch = run_replications(scn, 5, 200)
    taken = np.array([r.outcomes["captured"] for r in batch.runs], dtype=float)
    died = np.array([r.outcomes["died_avoiding_capture"] for r in batch.runs], dtype=float)
    assert abs(taken.mean() - 225.0) < 4 * math.sqrt(225.0 / 200)
    assert abs(died.mean() - 75.0) < 4 * math.sqrt(75.0 / 200)


def test_held_with_death_hazard_and_no_exchanges() -> None:
    lam, h, horizon, n = 1.0, 0.01, 200.0, 400
    text = _quiet_world(lam, horizon, hazard=h)
    held = _outcome(text, n, "held_at_end")
    died = _outcome(text, n, "died")
    expected_held = lam * (1 - math.exp(-h * horizon)) / h
    expected_died = lam * horizon - expected_held
    # held at T is Poisson (thinned Poisson process); died is Poisson too
    assert abs(held.mean() - expected_held) < 4 * math.sqrt(expected_held / n)
    assert abs(died.mean() - expected_died) < 4 * math.sqrt(expected_died / n)


def test_littles_law_days_held_vs_mean_number_held() -> None:
    """Time-average number held = capture rate × mean time held. Accounting (exact) on each
    run, and the steady-state version L = λ/h, W = 1/h on a long horizon."""
    lam, h, horizon = 2.0, 0.02, 2000.0
    scn = loads_scenario(_quiet_world(lam, horizon, hazard=h))
    ls, ws = [], []
    for rep in range(40):
        res = run_one(scn, 3, rep)
        series = res.held_series[("a", "b")]
        grid = res.grid
        # integral of N(t) over [0, T] from the daily step function (held at whole days)
        area = float(np.sum(series[:-1] * np.diff(grid)))
        captured = res.outcomes["captured"]
        w = res.outcomes["mean_days_held"]
        # exact identity up to the daily discretisation of N(t)
        assert area == pytest.approx(captured * w, rel=0.02)
        ls.append(area / horizon)
        ws.append(w)
    # steady state (the first ~5/h days are a warm-up, a small bias at T = 2000)
    assert np.mean(ls) == pytest.approx(lam / h, rel=0.05)
    assert np.mean(ws) == pytest.approx(1 / h, rel=0.05)


def _concession_world(strategy: str, e: float, reservation: float, deadline: float) -> str:
    return f"""
name: concession
start_date: 2025-01-01
horizon: 400
parties:
  - id: a
    values: {{own: 1.0, chip: 1.0}}
    strategy: {{name: {strategy}, e: {e}}}
    reservation: {reservation}
    deadline: {deadline}
    accepts_losses: true
    initiative: {{dist: fixed, value: 1}}
    direct_channels: [b]
  - id: b
    values: {{own: 1.0, chip: 1.0}}
    strategy: {{name: {strategy}, e: {e}}}
    reservation: {reservation}
    deadline: {deadline}
    accepts_losses: true
    initiative: null
holdings:
  - {{holder: a, nationality: b, count: 1000}}
  - {{holder: b, nationality: a, count: 1000}}
negotiation:
  direct_delay: {{dist: fixed, value: 1}}
  breakdown_risk: 0
  max_rounds: 10000
  cooldown: {{dist: fixed, value: 1000}}
  collapse: 0
"""


@pytest.mark.parametrize(
    ("strategy", "e", "r"),
    [("linear", 1.0, 0.0), ("linear", 1.0, 0.2), ("boulware", 0.5, 0.0), ("conceder", 2.0, 0.1)],
)
def test_two_time_dependent_agents_agree_when_the_formula_says(
    strategy: str, e: float, r: float
) -> None:
    """Own value = chip value makes the deal a linear split (u_a + u_b = 1); agents with
    u(t) = 1 - (1-r)(t/T)^(1/e) agree at t* = T (1/(2(1-r)))^e, within one round."""
    deadline = 100.0
    scn = loads_scenario(_concession_world(strategy, e, r, deadline))
    res = run_one(scn, 1, 0, keep_events=True)
    opened = next(t for t, kind, _ in res.events if kind == "open")
    agreed = next(t for t, kind, _ in res.events if kind == "agreed")
    t_star = agreement_time(deadline, r, e)
    assert t_star <= agreed - opened <= t_star + 2.0  # one round = one offer and its reply


def test_no_deal_below_the_no_deal_value_without_accepts_losses() -> None:
    """Own value = chip value: every deal is a loss for one side, so rational parties (the
    default) never agree, however far they concede."""
    text = _concession_world("linear", 1.0, 0.0, 100.0).replace("accepts_losses: true", "")
    res = run_one(loads_scenario(text), 1, 0, keep_events=True)
    assert res.outcomes["deals"] == 0
    assert "agreed" not in [k for _, k, _ in res.events]


def test_hardliners_never_agree() -> None:
    text = _concession_world("linear", 1.0, 0.0, 100.0).replace(
        "strategy: {name: linear, e: 1.0}", "strategy: hardliner"
    )
    res = run_one(loads_scenario(text), 1, 0, keep_events=True)
    kinds = [k for _, k, _ in res.events]
    assert "agreed" not in kinds and "deadline" in kinds
