"""Proper scores of a forecast against what happened: pure numpy.

A forecast is an ensemble of samples (a 1-D array of simulated values: pxsim's runs, or draws
of a baseline) and the truth is one observed value ``y``. Every score here is negatively
oriented (smaller is better) and *proper* (Gneiting & Raftery 2007, "Strictly proper scoring
rules, prediction, and estimation", JASA 102:359-378): no forecaster can expect a better score
by reporting something other than what they believe.

* **Coverage** of the central interval at ``level`` (50 %, 90 %): does it hold ``y``? Not a
  score but a calibration check: over many forecasts the share covered should be ``level``.
* **Interval score** of the central interval ``[lo, hi]`` at ``level``, α = 1 − level
  (Gneiting & Raftery 2007 §6.2; Bracher, Ray, Gneiting & Reich 2021, "Evaluating epidemic
  forecasts in an interval format", PLoS Comput Biol 17:e1008618)::

      IS_α = (hi − lo) + (2/α)(lo − y)·1{y < lo} + (2/α)(y − hi)·1{y > hi}

  width, plus a penalty for a miss growing with the distance and with the confidence claimed.
* **CRPS**, the continuous ranked probability score, in its energy form
  ``CRPS(F, y) = E|X − y| − ½ E|X − X'|`` with X, X' independent draws of F (Gneiting &
  Raftery 2007, eq. 21). For the empirical distribution of n samples both expectations are
  exact sums; sorted, ``Σ_ij |x_i − x_j| = 2 Σ_i (2i − n − 1) x_(i)``, so it costs
  O(n log n) rather than O(n²). It is in the units of the forecast quantity (people, days)
  and reduces to the absolute error for a point forecast.

  The *fair* variant divides the pair sum by n(n − 1) instead of n² (Ferro 2014, "Fair scores
  for ensemble forecasts", QJRMS 140:1917-1923; Zamo & Naveau 2018, Math Geosci 50:209-234):
  it is an unbiased estimate of the CRPS of the distribution the ensemble was drawn from,
  where the plain estimator is the CRPS of the ensemble itself and exceeds it on average by
  E|X − X'|/(2n). Use it (or equal ensemble sizes) when ensembles of different sizes, or an
  ensemble and an exact score, are compared.
* **Exact CRPS of a count distribution** (Czado, Gneiting & Held 2009, "Predictive model
  assessment for count data", Biometrics 65:1254-1261; Wei & Held 2014, Test 23:787-805):
  with support on 0, 1, 2, … and integer y, ``CRPS = Σ_k (F(k) − 1{y ≤ k})²``; summed until
  F is 1 to within 1e-12. Given for the negative binomial and the Poisson, so a baseline
  count can be scored without sampling noise.

``skill(model, baseline) = 1 − model/baseline`` (the usual skill score of a negatively
oriented mean score): 1 is perfect, 0 no better than the baseline, negative worse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
TAIL_TOLERANCE = 1e-12
MAX_SUPPORT = 50_000_000


def _samples(samples: npt.ArrayLike) -> np.ndarray:
    """``samples`` as a 1-D float array: non-empty and finite, or ValueError."""
    x = np.asarray(samples, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"samples must be 1-D, got shape {x.shape}")
    if not len(x):
        raise ValueError("no samples")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples must be finite")
    return x


def _alpha(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return 1.0 - level


def quantile_interval(samples: npt.ArrayLike, level: float) -> tuple[float, float]:
    """The central interval holding ``level`` of the samples: their (1 − level)/2 and
    (1 + level)/2 quantiles (numpy's default linear interpolation between order statistics)."""
    alpha = _alpha(level)
    lo, hi = np.quantile(_samples(samples), [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def covers(samples: npt.ArrayLike, y: float, level: float) -> bool:
    """Whether the central ``level`` interval of the samples holds ``y`` (ends included)."""
    lo, hi = quantile_interval(samples, level)
    return lo <= y <= hi


def interval_score(lo: float, hi: float, y: float, level: float) -> float:
    """Interval score of the central ``level`` interval ``[lo, hi]`` for the outcome ``y``."""
    alpha = _alpha(level)
    if hi < lo:
        raise ValueError(f"interval ends reversed: [{lo}, {hi}]")
    below = (2 / alpha) * (lo - y) if y < lo else 0.0
    above = (2 / alpha) * (y - hi) if y > hi else 0.0
    return float(hi - lo + below + above)


def crps_sample(samples: npt.ArrayLike, y: float, *, fair: bool = False) -> float:
    """CRPS of the ensemble ``samples`` for the outcome ``y``, ``E|X − y| − ½E|X − X'|``.

    ``fair=True`` gives Ferro's unbiased variant (needs at least two samples)."""
    x = np.sort(_samples(samples))
    n = len(x)
    if fair and n < 2:
        raise ValueError("the fair CRPS needs at least two samples")
    ranks = np.arange(1, n + 1, dtype=float)
    pair_sum = 2.0 * float(np.dot(2 * ranks - n - 1, x))  # Σ_ij |x_i − x_j|
    pairs = n * (n - 1) if fair else n * n
    return float(np.mean(np.abs(x - y))) - pair_sum / (2 * pairs)


def crps_integer(cdf: npt.ArrayLike, y: float) -> float:
    """CRPS of a distribution on 0, 1, 2, … given by ``cdf[k] = F(k)`` for k = 0 … K, taken to
    be 1 beyond K, for the outcome ``y``.

    The exact integral of ``(F(x) − 1{y ≤ x})²`` over the real line, F being a step function:
    for integer y ≥ 0 it is ``Σ_k (F(k) − 1{y ≤ k})²``; a fractional or negative y is
    integrated exactly too."""
    f = np.asarray(cdf, dtype=float)
    if f.ndim != 1 or not len(f):
        raise ValueError("cdf must be a non-empty 1-D array")
    k = np.arange(len(f), dtype=float)
    # share of [k, k+1) where x ≥ y, i.e. where the step of the outcome is 1
    above = np.clip(k + 1 - y, 0.0, 1.0)
    inside = float(np.sum((1 - above) * f**2 + above * (f - 1) ** 2))
    below_zero = max(0.0, -y)  # F = 0 and the outcome's step is 1 on [y, 0)
    beyond = max(0.0, y - len(f))  # F = 1 and the outcome's step is 0 on [K + 1, y)
    return inside + below_zero + beyond


def negbin_pmf(mean: float, dispersion: float, upto: int) -> np.ndarray:
    """P(N = k) for k = 0 … ``upto`` of a negative binomial with this mean and dispersion
    (size) r: variance ``mean + mean²/r``; ``dispersion=inf`` is the Poisson.

    Computed in logs by the ratio recursion, so large means neither underflow nor overflow."""
    if mean < 0 or not math.isfinite(mean):
        raise ValueError(f"mean must be finite and non-negative, got {mean}")
    if not dispersion > 0:
        raise ValueError(f"dispersion must be positive, got {dispersion}")
    k = np.arange(1, upto + 1, dtype=float)
    if mean == 0:
        pmf = np.zeros(upto + 1)
        pmf[0] = 1.0
        return pmf
    if math.isinf(dispersion):
        log_p0 = -mean
        log_ratio = np.log(mean / k)
    else:
        r = dispersion
        log_p0 = -r * math.log1p(mean / r)
        log_ratio = np.log((k - 1 + r) / k) + (math.log(mean) - math.log(r + mean))
    return np.asarray(np.exp(log_p0 + np.concatenate([[0.0], np.cumsum(log_ratio)])))


def _tail_bound(last: float, upto: int, mean: float, dispersion: float) -> float:
    """An upper bound on P(N > upto) given ``last`` = P(N = upto): past the mode the ratios
    P(k + 1)/P(k) are at most ρ, so the tail is at most a geometric series ``last·ρ/(1 − ρ)``."""
    if math.isinf(dispersion):
        rho = mean / (upto + 1)
    else:
        q = mean / (dispersion + mean)
        rho = (upto + dispersion) / (upto + 1) * q if dispersion >= 1 else q
    return last * rho / (1 - rho) if rho < 1 else math.inf


def negbin_cdf(mean: float, dispersion: float, y: float = 0.0) -> np.ndarray:
    """``F(k)`` for k = 0 … K, K at least ``y`` and far enough that ``1 − F(K) < 1e-12``
    (bounded by :func:`_tail_bound`); normalised to end at 1, which also absorbs the rounding
    of the recursion."""
    sd = math.sqrt(mean + (0.0 if math.isinf(dispersion) else mean * mean / dispersion))
    upto = max(math.ceil(max(y, 0.0)), math.ceil(mean + 12 * sd) + 16)
    while True:
        pmf = negbin_pmf(mean, dispersion, upto)
        if _tail_bound(float(pmf[-1]), upto, mean, dispersion) < TAIL_TOLERANCE:
            break
        if upto > MAX_SUPPORT:
            raise ValueError(f"negative binomial ({mean}, {dispersion}) tail too heavy to sum")
        upto *= 2
    cdf = np.cumsum(pmf)
    return np.asarray(np.minimum(cdf / cdf[-1], 1.0))


def crps_negbin(mean: float, dispersion: float, y: float) -> float:
    """Exact CRPS of a negative binomial (mean, dispersion r; ``inf`` = Poisson) for ``y``."""
    return crps_integer(negbin_cdf(mean, dispersion, y), y)


def crps_poisson(mean: float, y: float) -> float:
    """Exact CRPS of a Poisson of this mean for ``y``."""
    return crps_negbin(mean, math.inf, y)


@dataclass(frozen=True)
class Score:
    """One forecast scored against its outcome."""

    observed: float
    coverage50: bool
    coverage90: bool
    interval50: float  # interval score of the central 50 % interval
    interval90: float
    crps: float
    q05: float
    q25: float
    q50: float
    q75: float
    q95: float


def score_samples(samples: npt.ArrayLike, y: float, *, fair: bool = False) -> Score:
    """Coverage and interval score at 50 % and 90 %, CRPS and quantiles of an ensemble."""
    x = _samples(samples)
    q05, q25, q50, q75, q95 = (float(v) for v in np.quantile(x, QUANTILES))
    return Score(
        observed=float(y),
        coverage50=q25 <= y <= q75,
        coverage90=q05 <= y <= q95,
        interval50=interval_score(q25, q75, y, 0.5),
        interval90=interval_score(q05, q95, y, 0.9),
        crps=crps_sample(x, y, fair=fair),
        q05=q05,
        q25=q25,
        q50=q50,
        q75=q75,
        q95=q95,
    )


@dataclass(frozen=True)
class Summary:
    """Means over a set of scored forecasts (NaN when there are none)."""

    n: int
    coverage50: float  # share of outcomes inside the 50 % interval
    coverage90: float
    interval50: float
    interval90: float
    crps: float


def summarise(scores: Sequence[Score]) -> Summary:
    """Mean coverage and mean scores of ``scores``."""
    if not scores:
        nan = float("nan")
        return Summary(0, nan, nan, nan, nan, nan)

    def mean(values: list[float]) -> float:
        return float(np.mean(values))

    return Summary(
        n=len(scores),
        coverage50=mean([float(s.coverage50) for s in scores]),
        coverage90=mean([float(s.coverage90) for s in scores]),
        interval50=mean([s.interval50 for s in scores]),
        interval90=mean([s.interval90 for s in scores]),
        crps=mean([s.crps for s in scores]),
    )


def skill(model: float, baseline: float) -> float:
    """Skill score ``1 − model/baseline`` of a mean score against the baseline's: NaN when
    the baseline scores 0 (a perfect baseline leaves nothing to improve on)."""
    if baseline == 0:
        return float("nan")
    return 1.0 - model / baseline
