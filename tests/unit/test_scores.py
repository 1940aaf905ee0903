"""sim/fit/scores.py: CRPS, interval score and coverage against hand-computed and closed-form
values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.fit import scores


def normal_crps(mu: float, sigma: float, y: float) -> float:
    """Closed form for N(mu, sigma²) (Gneiting & Raftery 2007, eq. 5)."""
    z = (y - mu) / sigma
    cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    pdf = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    return sigma * (z * (2 * cdf - 1) + 2 * pdf - 1 / math.sqrt(math.pi))


@pytest.mark.parametrize("fair", [False, True])
@pytest.mark.parametrize(("x", "y"), [(3.0, 3.0), (3.0, 7.5), (-2.0, 4.0), (120.0, 0.0)])
def test_crps_of_a_point_mass_is_the_absolute_error(x: float, y: float, fair: bool) -> None:
    assert scores.crps_sample(np.full(10, x), y, fair=fair) == pytest.approx(abs(x - y))
    assert scores.crps_sample([x], y) == pytest.approx(abs(x - y))


def test_crps_of_a_large_normal_sample_matches_the_closed_form() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(2.0, 3.0, size=200_000)
    for y in (2.0, -1.0, 9.0):
        expected = normal_crps(2.0, 3.0, y)
        assert scores.crps_sample(x, y) == pytest.approx(expected, abs=0.02)
        assert scores.crps_sample(x, y, fair=True) == pytest.approx(expected, abs=0.02)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30),
    st.floats(-1e3, 1e3),
)
def test_sorted_crps_equals_the_pairwise_sums(xs: list[float], y: float) -> None:
    x = np.array(xs)
    pairs = np.abs(x[:, None] - x[None, :]).sum()
    n = len(x)
    plain = np.mean(np.abs(x - y)) - pairs / (2 * n * n)
    fair = np.mean(np.abs(x - y)) - pairs / (2 * n * (n - 1))
    assert scores.crps_sample(x, y) == pytest.approx(plain, abs=1e-6)
    assert scores.crps_sample(x, y, fair=True) == pytest.approx(fair, abs=1e-6)
    assert scores.crps_sample(x, y, fair=True) >= -1e-9


def test_fair_crps_is_below_the_plain_one_by_half_the_mean_spread_over_n() -> None:
    x = np.array([0.0, 2.0])  # E|X - X'| over the ensemble = 1, over distinct pairs = 2
    assert scores.crps_sample(x, 1.0) == pytest.approx(1.0 - 0.5)
    assert scores.crps_sample(x, 1.0, fair=True) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="two samples"):
        scores.crps_sample([1.0], 0.0, fair=True)


def test_bad_samples_are_refused() -> None:
    for bad in ([], [1.0, np.nan], [[1.0, 2.0]]):
        with pytest.raises(ValueError):
            scores.crps_sample(bad, 0.0)


def test_interval_score_hand_computed() -> None:
    # [2, 8]: width 6; at 90 % alpha = 0.1, a miss costs 20 per unit; at 50 %, 4 per unit
    assert scores.interval_score(2, 8, 5, 0.9) == pytest.approx(6.0)
    assert scores.interval_score(2, 8, 2, 0.9) == pytest.approx(6.0)  # ends count as inside
    assert scores.interval_score(2, 8, 0, 0.9) == pytest.approx(6 + 20 * 2)
    assert scores.interval_score(2, 8, 10, 0.9) == pytest.approx(6 + 20 * 2)
    assert scores.interval_score(2, 8, 10, 0.5) == pytest.approx(6 + 4 * 2)
    assert scores.interval_score(4, 4, 1, 0.8) == pytest.approx(10 * 3)
    with pytest.raises(ValueError):
        scores.interval_score(8, 2, 5, 0.9)
    with pytest.raises(ValueError):
        scores.interval_score(2, 8, 5, 1.0)


def test_quantile_interval_and_coverage() -> None:
    x = np.arange(101.0)  # quantile q is exactly 100 q
    assert scores.quantile_interval(x, 0.9) == pytest.approx((5.0, 95.0))
    assert scores.quantile_interval(x, 0.5) == pytest.approx((25.0, 75.0))
    assert scores.covers(x, 5.0, 0.9)
    assert scores.covers(x, 95.0, 0.9)
    assert not scores.covers(x, 96.0, 0.9)
    assert not scores.covers(x, 80.0, 0.5)


def test_coverage_of_a_calibrated_forecast_is_its_level() -> None:
    rng = np.random.default_rng(5)
    ensemble = rng.normal(size=4000)
    outcomes = rng.normal(size=2000)
    for level in (0.5, 0.9):
        share = np.mean([scores.covers(ensemble, y, level) for y in outcomes])
        assert share == pytest.approx(level, abs=0.04)


def test_score_samples_on_a_known_ensemble() -> None:
    s = scores.score_samples(np.arange(101.0), 90.0)
    assert (s.q05, s.q25, s.q50, s.q75, s.q95) == pytest.approx((5, 25, 50, 75, 95))
    assert s.observed == 90.0
    assert s.coverage90 and not s.coverage50
    assert s.interval90 == pytest.approx(90.0)
    assert s.interval50 == pytest.approx(50 + 4 * 15)
    assert s.crps == pytest.approx(scores.crps_sample(np.arange(101.0), 90.0))


def test_summarise_and_skill() -> None:
    a = scores.score_samples(np.arange(101.0), 90.0)
    b = scores.score_samples(np.arange(101.0), 50.0)
    summary = scores.summarise([a, b])
    assert summary.n == 2
    assert summary.coverage50 == 0.5
    assert summary.coverage90 == 1.0
    assert summary.interval50 == pytest.approx((a.interval50 + b.interval50) / 2)
    assert summary.crps == pytest.approx((a.crps + b.crps) / 2)
    empty = scores.summarise([])
    assert empty.n == 0 and math.isnan(empty.crps)
    assert scores.skill(5.0, 10.0) == pytest.approx(0.5)
    assert scores.skill(10.0, 10.0) == 0.0
    assert scores.skill(15.0, 10.0) == pytest.approx(-0.5)
    assert scores.skill(0.0, 10.0) == 1.0
    assert math.isnan(scores.skill(1.0, 0.0))


def test_exact_integer_crps_of_a_point_mass() -> None:
    at_two = np.array([0.0, 0.0, 1.0])  # F(0), F(1), F(2): all mass on 2
    assert scores.crps_integer(at_two, 2) == 0.0
    assert scores.crps_integer(at_two, 0) == pytest.approx(2.0)
    assert scores.crps_integer(at_two, 7) == pytest.approx(5.0)  # beyond the given support
    assert scores.crps_integer(at_two, 2.5) == pytest.approx(0.5)  # fractional outcome
    assert scores.crps_integer(at_two, -1.0) == pytest.approx(3.0)
    assert scores.crps_poisson(0.0, 4) == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("mean", "dispersion", "y"),
    [(4.3, math.inf, 7), (4.3, math.inf, 0), (10.0, 2.0, 3), (2.5, 0.7, 12)],
)
def test_exact_count_crps_matches_the_sample_estimator(
    mean: float, dispersion: float, y: int
) -> None:
    rng = np.random.default_rng(7)
    if math.isinf(dispersion):
        x = rng.poisson(mean, size=200_000)
    else:
        x = rng.negative_binomial(dispersion, dispersion / (dispersion + mean), size=200_000)
    exact = scores.crps_negbin(mean, dispersion, y)
    assert scores.crps_sample(x, y, fair=True) == pytest.approx(exact, rel=0.01)


def test_negbin_pmf_moments_and_poisson_limit() -> None:
    pmf = scores.negbin_pmf(6.0, 1.5, 400)
    k = np.arange(401)
    assert pmf.sum() == pytest.approx(1.0)
    assert (k * pmf).sum() == pytest.approx(6.0)
    assert (k**2 * pmf).sum() - 36.0 == pytest.approx(6.0 + 36.0 / 1.5)
    # huge mean: computed in logs, no underflow
    assert scores.negbin_pmf(5000.0, math.inf, 10000).sum() == pytest.approx(1.0)
    assert scores.crps_negbin(5.0, 1e9, 2) == pytest.approx(scores.crps_poisson(5.0, 2), rel=1e-6)
