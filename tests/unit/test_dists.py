"""sim/dists.py: sample means match ``mean()``, shapes of the count distributions, validation.

Tolerance for a sample mean over N = 200,000 draws: 5 standard errors (5 * sd / sqrt(N)) of
the distribution's theoretical sd; a correct sampler fails this about once in 3.5 million runs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from sim.scenario.dists import (
    DIST_NAMES,
    Dist,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    Geometric,
    Lognormal,
    Poisson,
    Uniform,
    fixed,
)

N = 200_000
ADAPTER: TypeAdapter = TypeAdapter(Dist)


def parse(data: dict) -> object:
    return ADAPTER.validate_python(data)


def rng(seed: int = 12345) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


# (spec, theoretical mean, theoretical sd) -- means and sds computed by hand from the parameters
CASES = [
    ({"dist": "fixed", "value": 3.5}, 3.5, 0.0),
    ({"dist": "exponential", "mean": 14}, 14.0, 14.0),
    ({"dist": "lognormal", "mean": 10, "sd": 5}, 10.0, 5.0),
    ({"dist": "gamma", "shape": 2, "mean": 6}, 6.0, math.sqrt(2) * 3.0),
    ({"dist": "uniform", "low": 2, "high": 8}, 5.0, 6 / math.sqrt(12)),
    ({"dist": "poisson", "mean": 4}, 4.0, 2.0),
    ({"dist": "poisson", "mean": 4, "shift": 1}, 5.0, 2.0),
    ({"dist": "geometric", "mean": 3}, 3.0, math.sqrt((1 - 1 / 3) / (1 / 3) ** 2)),
    (
        {"dist": "empirical", "values": [1, 2, 10]},
        13 / 3,
        math.sqrt(((1 + 4 + 100) / 3) - (13 / 3) ** 2),
    ),
    (
        {"dist": "empirical", "values": [0, 5, 20], "weights": [1, 2, 1]},
        0.25 * 0 + 0.5 * 5 + 0.25 * 20,
        math.sqrt(0.5 * 25 + 0.25 * 400 - 7.5**2),
    ),
]


@pytest.mark.parametrize(("spec", "mu", "sd"), CASES, ids=[str(c[0]) for c in CASES])
def test_mean_method_matches_theory(spec: dict, mu: float, sd: float) -> None:
    d = parse(spec)
    assert d.mean() == pytest.approx(mu, rel=1e-12)


@pytest.mark.parametrize(("spec", "mu", "sd"), CASES, ids=[str(c[0]) for c in CASES])
def test_sample_mean_close_to_mean(spec: dict, mu: float, sd: float) -> None:
    d = parse(spec)
    x = d.sample(rng(), N)
    assert x.shape == (N,)
    assert x.dtype == float
    tol = 5 * sd / math.sqrt(N) + 1e-12
    assert abs(x.mean() - d.mean()) <= tol, (x.mean(), d.mean(), tol)


@pytest.mark.parametrize(("spec", "mu", "sd"), CASES, ids=[str(c[0]) for c in CASES])
def test_sample_sd_close_to_theory(spec: dict, mu: float, sd: float) -> None:
    x = parse(spec).sample(rng(7), N)
    # 3% relative (sd estimates of these shapes have relative error well under 1% at N=200k)
    assert x.std(ddof=1) == pytest.approx(sd, rel=0.03, abs=1e-12)


def test_every_dist_name_is_covered() -> None:
    assert {c[0]["dist"] for c in CASES} == set(DIST_NAMES)


def test_seeded_sampling_is_reproducible() -> None:
    d = parse({"dist": "gamma", "shape": 0.7, "mean": 12})
    a = d.sample(rng(99), 1000)
    b = d.sample(rng(99), 1000)
    c = d.sample(rng(100), 1000)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_lognormal_parameters_are_of_the_value_not_its_log() -> None:
    d = Lognormal(dist="lognormal", mean=20.0, sd=30.0)
    mu, sigma = d._mu_sigma()
    # hand formulas: sigma^2 = ln(1 + (sd/mean)^2), mu = ln(mean) - sigma^2 / 2
    s2 = math.log(1 + (30 / 20) ** 2)
    assert sigma == pytest.approx(math.sqrt(s2))
    assert mu == pytest.approx(math.log(20) - s2 / 2)
    x = d.sample(rng(3), N)
    assert x.min() > 0
    # the log of the draws is normal(mu, sigma)
    lx = np.log(x)
    assert abs(lx.mean() - mu) < 5 * sigma / math.sqrt(N)
    assert lx.std() == pytest.approx(sigma, rel=0.01)
    # the value itself has the requested sd (high-variance shape: 5% relative)
    assert x.std() == pytest.approx(30.0, rel=0.05)


def test_geometric_is_at_least_one_and_integer() -> None:
    x = Geometric(dist="geometric", mean=2.5).sample(rng(), N)
    assert x.min() >= 1
    np.testing.assert_array_equal(x, np.round(x))
    assert abs(x.mean() - 2.5) < 5 * math.sqrt(1.5 * 2.5) / math.sqrt(N)
    # P(X = 1) = p = 1/mean
    assert (x == 1).mean() == pytest.approx(0.4, abs=5 * math.sqrt(0.24 / N))


def test_geometric_mean_one_is_always_one() -> None:
    x = Geometric(dist="geometric", mean=1).sample(rng(), 1000)
    np.testing.assert_array_equal(x, np.ones(1000))


def test_poisson_shift_is_added_to_every_draw() -> None:
    base = Poisson(dist="poisson", mean=2.0).sample(rng(5), 10_000)
    shifted = Poisson(dist="poisson", mean=2.0, shift=3).sample(rng(5), 10_000)
    np.testing.assert_array_equal(shifted, base + 3)
    assert shifted.min() >= 3
    assert Poisson(dist="poisson", mean=2.0, shift=3).mean() == 5.0


def test_poisson_mean_zero_shift_one_gives_ones() -> None:
    d = Poisson(dist="poisson", mean=0, shift=1)
    np.testing.assert_array_equal(d.sample(rng(), 500), np.ones(500))
    assert d.mean() == 1.0


def test_empirical_weights_give_frequencies() -> None:
    d = Empirical(dist="empirical", values=[1.0, 2.0, 3.0, 4.0], weights=[0, 1, 3, 6])
    x = d.sample(rng(11), N)
    assert set(np.unique(x)) == {2.0, 3.0, 4.0}  # zero weight never drawn
    for v, p in ((2.0, 0.1), (3.0, 0.3), (4.0, 0.6)):
        assert (x == v).mean() == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / N))
    assert d.mean() == pytest.approx(0.1 * 2 + 0.3 * 3 + 0.6 * 4)


def test_empirical_unweighted_is_uniform_over_values() -> None:
    d = Empirical(dist="empirical", values=[7.0, 7.0, 1.0])
    x = d.sample(rng(2), N)
    assert (x == 7.0).mean() == pytest.approx(2 / 3, abs=5 * math.sqrt(2 / 9 / N))
    assert d.mean() == pytest.approx(5.0)


def test_uniform_within_bounds_and_fixed_constant() -> None:
    x = Uniform(dist="uniform", low=3, high=4).sample(rng(), N)
    assert x.min() >= 3 and x.max() <= 4
    u = Uniform(dist="uniform", low=2, high=2)
    np.testing.assert_array_equal(u.sample(rng(), 10), np.full(10, 2.0))
    np.testing.assert_array_equal(Fixed(dist="fixed", value=4).sample(rng(), 3), [4.0, 4.0, 4.0])
    assert fixed(2.5) == Fixed(dist="fixed", value=2.5)


def test_sample_one_returns_a_float() -> None:
    v = Exponential(dist="exponential", mean=3).sample_one(rng())
    assert isinstance(v, float)
    assert v > 0


def test_tag_selects_class_and_mean_alias() -> None:
    expected = {
        "fixed": (Fixed, {"value": 1}),
        "exponential": (Exponential, {"mean": 1}),
        "lognormal": (Lognormal, {"mean": 1, "sd": 1}),
        "gamma": (Gamma, {"shape": 1, "mean": 1}),
        "uniform": (Uniform, {"low": 0, "high": 1}),
        "poisson": (Poisson, {"mean": 1}),
        "geometric": (Geometric, {"mean": 1}),
        "empirical": (Empirical, {"values": [1]}),
    }
    for tag, (cls, params) in expected.items():
        d = parse({"dist": tag, **params})
        assert type(d) is cls
    assert parse({"dist": "exponential", "mean": 14}).mean() == 14.0


def test_dists_are_frozen() -> None:
    d = parse({"dist": "exponential", "mean": 14})
    with pytest.raises(ValidationError):
        d.mean_ = 3.0  # type: ignore[misc]


BAD = [
    ({"dist": "normal", "mean": 1}, "tag"),
    ({"mean": 1}, "dist"),
    ({"dist": "fixed", "value": -1}, "greater than or equal"),
    ({"dist": "fixed", "value": 1, "extra": 2}, "extra"),
    ({"dist": "exponential", "mean": 0}, "greater than 0"),
    ({"dist": "exponential", "mean": -3}, "greater than 0"),
    ({"dist": "exponential"}, "mean"),
    ({"dist": "lognormal", "mean": 1, "sd": 0}, "greater than 0"),
    ({"dist": "lognormal", "mean": 0, "sd": 1}, "greater than 0"),
    ({"dist": "gamma", "shape": 0, "mean": 1}, "greater than 0"),
    ({"dist": "gamma", "shape": 1, "mean": -1}, "greater than 0"),
    ({"dist": "uniform", "low": 5, "high": 1}, "at least low"),
    ({"dist": "uniform", "low": -1, "high": 1}, "greater than or equal"),
    ({"dist": "poisson", "mean": -0.5}, "greater than or equal"),
    ({"dist": "poisson", "mean": 1, "shift": -1}, "greater than or equal"),
    ({"dist": "poisson", "mean": 1, "shift": 0.5}, "integer"),
    ({"dist": "geometric", "mean": 0.5}, "greater than or equal to 1"),
    ({"dist": "empirical", "values": []}, "at least 1"),
    ({"dist": "empirical", "values": [1, -2]}, ">= 0"),
    ({"dist": "empirical", "values": [1, 2], "weights": [1]}, "weights has 1 entries"),
    ({"dist": "empirical", "values": [1, 2], "weights": [1, -1]}, "not all zero"),
    ({"dist": "empirical", "values": [1, 2], "weights": [0, 0]}, "not all zero"),
    ({"dist": "exponential", "mean": "soon"}, "number"),
]


@pytest.mark.parametrize(("spec", "fragment"), BAD, ids=[str(b[0]) for b in BAD])
def test_bad_parameters_are_rejected(spec: dict, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse(spec)
    assert fragment in str(exc.value)
