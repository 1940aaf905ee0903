"""Approximate Bayesian computation (ABC) on simulated summary statistics: pure numpy.

Given statistics simulated at P parameter points drawn from the prior, K replications each
(``stats``, shape (P, K, m)) and the observed statistics (m,):

* every statistic is scaled by its robust spread over all simulations (MAD × 1.4826; the
  standard deviation if the MAD is 0), so counts in thousands and gaps in days weigh alike;
* the distance of one simulation is ``sqrt(sum over targets of the mean squared scaled error
  of the target's statistics)``: each target counts once, however many statistics it has
  (a series of 20 dates does not drown a single count);
* the tolerance ε is the ``accept`` quantile of all P × K distances;
* a point's weight is the Epanechnikov kernel ``1 − (d/ε)²`` (0 beyond ε) averaged over its
  K replications: an estimate of the ABC likelihood at that point (Beaumont, Zhang & Balding
  2002, with several simulations per point). With a uniform prior sampled evenly the
  normalised weights are the posterior.

A simulation whose statistics are undefined (NaN, e.g. too few deals for a gap) has
distance +inf and is never accepted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAD_TO_SD = 1.4826


def robust_scale(stats: np.ndarray) -> np.ndarray:
    """Per-statistic spread of ``stats`` (..., m) over all leading axes."""
    flat = stats.reshape(-1, stats.shape[-1])
    out = np.ones(flat.shape[1])
    for j in range(flat.shape[1]):
        col = flat[:, j]
        col = col[np.isfinite(col)]
        if len(col) < 2:
            continue
        mad = MAD_TO_SD * float(np.median(np.abs(col - np.median(col))))
        sd = float(np.std(col))
        out[j] = mad if mad > 0 else (sd if sd > 0 else 1.0)
    return out


def distances(
    stats: np.ndarray, observed: np.ndarray, scale: np.ndarray, groups: np.ndarray
) -> np.ndarray:
    """Distance of every simulation (all axes but the last) from ``observed``."""
    z2 = ((stats - observed) / scale) ** 2
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    total = np.zeros(stats.shape[:-1])
    for g in range(n_groups):
        total = total + z2[..., groups == g].mean(axis=-1)
    d = np.sqrt(total)
    return np.where(np.isfinite(d), d, np.inf)


def tolerance(d: np.ndarray, accept: float) -> float:
    """The ``accept`` quantile of the finite distances."""
    if not 0 < accept <= 1:
        raise ValueError("accept must be in (0, 1]")
    finite = d[np.isfinite(d)]
    if not len(finite):
        return float("inf")
    return float(np.quantile(finite, accept))


def kernel(d: np.ndarray, eps: float) -> np.ndarray:
    """The Epanechnikov kernel ``1 − (d/ε)²`` of every distance (0 beyond ε); with ε = 0 an
    exact match weighs 1, and with no finite ε nothing weighs."""
    if not np.isfinite(eps):
        return np.zeros(d.shape)
    if eps <= 0:
        return (d <= eps).astype(float)
    u = d / eps
    return np.where(u <= 1, 1 - u**2, 0.0)


def kernel_weights(d: np.ndarray, eps: float) -> np.ndarray:
    """Kernel weights averaged over the last axis (replications): shape (P,)."""
    return np.asarray(kernel(d, eps).mean(axis=-1))


def acceptance(d: np.ndarray, eps: float) -> np.ndarray:
    """Share of each point's replications within ε."""
    return np.asarray(np.mean(d <= eps, axis=-1))


def effective_size(w: np.ndarray) -> float:
    """Kish's effective sample size of weights ``w``."""
    s = float(w.sum())
    return 0.0 if s <= 0 else s * s / float((w * w).sum())


def weighted_quantile(values: np.ndarray, weights: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF, with midpoint
    interpolation between sorted values)."""
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    keep = w > 0
    v, w = v[keep], w[keep]
    if not len(v):
        return np.full(len(qs), np.nan)
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.asarray(qs, float), cum, v)


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    s = float(weights.sum())
    return float("nan") if s <= 0 else float((values * weights).sum() / s)
