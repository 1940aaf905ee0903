"""ABC arithmetic, and a closed-form check: the posterior of a normal mean."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.fit import abc


def test_robust_scale_is_mad_then_sd_then_one() -> None:
    stats = np.array([[1.0, 5.0, 2.0], [2.0, 5.0, 2.0], [3.0, 5.0, 2.0], [4.0, 5.0, 9.0]])
    scale = abc.robust_scale(stats)
    assert scale[0] == pytest.approx(1.4826 * 1.0)  # median 2.5, |dev| 1.5 .5 .5 1.5 -> 1
    assert scale[1] == 1.0  # constant
    assert scale[2] == pytest.approx(np.std([2, 2, 2, 9]))  # MAD 0 -> sd


def test_each_target_weighs_once_whatever_its_number_of_statistics() -> None:
    observed = np.zeros(4)
    scale = np.ones(4)
    groups = np.array([0, 0, 0, 1])
    # target 0 off by 1 in all three statistics, target 1 off by 1: mean squares 1 + 1
    d = abc.distances(np.array([1.0, 1.0, 1.0, 1.0]), observed, scale, groups)
    assert d == pytest.approx(np.sqrt(2.0))
    d_nan = abc.distances(np.array([np.nan, 0, 0, 0]), observed, scale, groups)
    assert d_nan == np.inf


def test_tolerance_kernel_and_acceptance() -> None:
    d = np.array([[0.0, 1.0], [2.0, 3.0], [np.inf, 4.0]])
    eps = abc.tolerance(d, 0.5)
    assert eps == pytest.approx(2.0)
    w = abc.kernel_weights(d, eps)
    assert w.tolist() == pytest.approx([(1 + 0.75) / 2, 0.0, 0.0])
    assert abc.acceptance(d, eps).tolist() == [1.0, 0.5, 0.0]


@given(
    st.lists(st.floats(-100, 100), min_size=1, max_size=30),
    st.floats(0.01, 0.99),
)
def test_weighted_quantile_with_equal_weights_is_within_the_sample(
    values: list[float], q: float
) -> None:
    v = np.array(values)
    got = abc.weighted_quantile(v, np.ones(len(v)), [q])[0]
    assert v.min() <= got <= v.max()


def test_weighted_quantile_follows_weights() -> None:
    v = np.array([1.0, 2.0, 3.0])
    assert abc.weighted_quantile(v, np.array([0.0, 1.0, 0.0]), [0.1, 0.9]).tolist() == [2.0, 2.0]
    assert abc.effective_size(np.array([1.0, 1.0, 0.0, 0.0])) == pytest.approx(2.0)


def test_posterior_of_a_normal_mean_matches_theory() -> None:
    """x_1..x_n ~ N(mu, 1), flat prior on mu: the posterior is N(xbar, 1/n). ABC on the
    sufficient statistic xbar with a small tolerance recovers its mean and spread."""
    rng = np.random.default_rng(7)
    n, mu_true = 25, 1.3
    xbar_obs = rng.normal(mu_true, 1, n).mean()
    points, reps = 4000, 4
    mu = rng.uniform(-2, 4, points)
    sims = mu[:, None] + rng.normal(0, 1 / np.sqrt(n), (points, reps))  # xbar of each simulation
    stats = sims[..., None]
    d = abc.distances(stats, np.array([xbar_obs]), abc.robust_scale(stats), np.array([0]))
    w = abc.kernel_weights(d, abc.tolerance(d, 0.02))
    w = w / w.sum()
    post_mean = abc.weighted_mean(mu, w)
    post_sd = np.sqrt(abc.weighted_mean((mu - post_mean) ** 2, w))
    assert post_mean == pytest.approx(xbar_obs, abs=0.04)
    assert post_sd == pytest.approx(1 / np.sqrt(n), rel=0.2)
    lo, hi = abc.weighted_quantile(mu, w, [0.05, 0.95])
    assert hi - lo == pytest.approx(2 * 1.6449 / np.sqrt(n), rel=0.2)
