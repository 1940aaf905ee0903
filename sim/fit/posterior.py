"""From simulated statistics to a posterior (ABC): distances to the record scaled by their
spread under the prior, Epanechnikov kernel weights, ABC-PMC proposals for later rounds
(Beaumont et al. 2009), the posterior table and the posterior-predictive counts. The
kernels and distances themselves are pure functions in ``sim.fit.abc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.errors import ScenarioError
from sim.experiments.params import ParamSpec
from sim.fit import abc
from sim.fit.plan import CalibrationPlan
from sim.results.targets import observed_vector, stat_groups, stat_names

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- analysis
@dataclass
class Round:
    """One population of points: their parameter values, statistics and ABC weights."""

    index: int
    values: list[dict[str, Any]]  # per point: path -> value
    unit: np.ndarray  # (P, D) the values scaled to [0, 1] over the prior box
    distance: np.ndarray  # (P, K)
    epsilon: float
    weights: np.ndarray  # (P,) normalised
    accepted: np.ndarray  # (P,) share of replications within epsilon
    stats: np.ndarray  # (P, K, m) every statistic, observed targets then predictions
    run_weights: np.ndarray  # (P, K) normalised: each simulation's posterior weight

    @property
    def ess(self) -> float:
        return abc.effective_size(self.weights)


def _selection(plan: CalibrationPlan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(which statistics are used, the observed vector, the target group of each)."""
    targets = plan.targets
    chosen = [i for i, t in enumerate(targets) if t.id in plan.selected]
    keep = np.isin(stat_groups(plan.all_targets), chosen)
    sel = [targets[i] for i in chosen]
    return keep, observed_vector(sel), stat_groups(sel)


def unit_values(specs: Sequence[ParamSpec], values: list[dict[str, Any]]) -> np.ndarray:
    lo = np.array([s.low for s in specs])
    hi = np.array([s.high for s in specs])
    raw = np.array([[float(v[s.path]) for s in specs] for v in values])
    return (raw - lo) / (hi - lo)


def weigh(
    plan: CalibrationPlan,
    r: int,
    values: list[dict[str, Any]],
    stats: np.ndarray,
    scale: np.ndarray,
    previous: Round | None,
) -> Round:
    """ABC weights of one round. Round 0 samples the prior; later rounds are importance
    sampled from the previous population (ABC-PMC, Beaumont et al. 2009): weight = kernel /
    sum_j w_j N(theta; theta_j, 2 Cov), the prior being flat over the box."""
    keep, obs, groups = _selection(plan)
    reps = stats.shape[1]
    if plan.match == "mean":
        d = abc.distances(point_means(stats[..., keep]), obs, scale, groups)[:, None]
    else:
        d = abc.distances(stats[..., keep], obs, scale, groups)
    eps = abc.tolerance(d, plan.accept)
    if previous is not None:
        eps = min(eps, previous.epsilon)
    kernel = abc.kernel(d, eps)  # (P, 1 or K): each simulation's kernel
    unit = unit_values(plan.specs, values)
    q = proposal_density(previous, unit) if previous is not None else np.ones(len(values))
    per_run = np.broadcast_to(kernel / q[:, None], (len(values), reps))
    if per_run.sum() <= 0:
        raise ScenarioError(
            "no simulation came within the tolerance (every statistic undefined?); widen the "
            "--fit ranges or check the targets",
            source="--accept",
        )
    w = per_run.mean(axis=1)
    accepted = np.broadcast_to(d <= eps, (len(values), reps)).mean(axis=1)
    return Round(
        r,
        values,
        unit,
        np.broadcast_to(d, (len(values), reps)),
        eps,
        w / w.sum(),
        accepted,
        stats,
        per_run / per_run.sum(),
    )


def point_means(stats: np.ndarray) -> np.ndarray:
    """Each point's mean statistics over its replications (NaN where none is defined)."""
    with np.errstate(invalid="ignore"):
        n = np.isfinite(stats).sum(axis=1)
        total = np.where(np.isfinite(stats), stats, 0.0).sum(axis=1)
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _kernel_cov(prev: Round) -> np.ndarray:
    """Twice the weighted covariance of the previous population (unit coordinates)."""
    cov = np.atleast_2d(np.cov(prev.unit.T, aweights=np.maximum(prev.weights, 1e-300)))
    cov = 2.0 * cov + 1e-9 * np.eye(cov.shape[0])
    return cov


def proposal_density(prev: Round, unit: np.ndarray) -> np.ndarray:
    """sum_j w_j N(u; u_j, Sigma) for every row of ``unit`` (up to a constant)."""
    cov = _kernel_cov(prev)
    inv = np.linalg.inv(cov)
    live = prev.weights > 0
    centres, w = prev.unit[live], prev.weights[live]
    out = np.empty(len(unit))
    for i, u in enumerate(unit):
        diff = u - centres
        out[i] = float((w * np.exp(-0.5 * np.einsum("ij,jk,ik->i", diff, inv, diff))).sum())
    return np.maximum(out, 1e-300)


def propose(plan: CalibrationPlan, prev: Round, n: int, r: int) -> list[dict[str, Any]]:
    """``n`` points for round ``r``: previous points drawn by weight, moved by a Gaussian
    kernel, redrawn until inside the prior box. Seeded by (seed, round): a resumed fit
    proposes the same points."""
    from sim.model.streams import stable_key

    rng = np.random.Generator(
        np.random.PCG64(
            np.random.SeedSequence([plan.sweep.seed, stable_key(f"calibrate:round:{r}")])
        )
    )
    chol = np.linalg.cholesky(_kernel_cov(prev))
    dim = prev.unit.shape[1]
    chosen: list[np.ndarray] = []
    while len(chosen) < n:
        j = rng.choice(len(prev.weights), size=n, p=prev.weights)
        u = prev.unit[j] + rng.standard_normal((n, dim)) @ chol.T
        inside = np.all((u >= 0) & (u <= 1), axis=1)
        chosen.extend(u[inside][: n - len(chosen)])
    specs = plan.specs
    out = []
    for u in chosen:
        point = {}
        for s, x in zip(specs, u, strict=True):
            value, _ = s.at(s.low + float(x) * (s.high - s.low))
            point[s.path] = value
        out.append(point)
    return out


def prediction_table(plan: CalibrationPlan, first: Round, final: Round) -> list[dict[str, Any]]:
    """Each predicted quantity's posterior predictive distribution: the final round's
    simulations weighted by how closely their history matched the record, against the prior
    predictive (round 0, unweighted)."""
    rows: list[dict[str, Any]] = []
    col = len(stat_names(plan.targets))
    w = final.run_weights.ravel()
    for t in plan.predictions:
        post = (final.stats[..., col + 1] - final.stats[..., col]).ravel()
        prior = (first.stats[..., col + 1] - first.stats[..., col]).ravel()
        label, what = t.id.split(":", 1)
        q05, med, q95 = abc.weighted_quantile(post, w, (0.05, 0.5, 0.95))
        rows.append(
            {
                "period": label,
                "quantity": what,
                "first_day": t.days[0] + 1,
                "last_day": t.days[1],
                "mean": abc.weighted_mean(post, w),
                "median": med,
                "p05": q05,
                "p95": q95,
                "share_zero": float(w[post == 0].sum()),
                "prior_median": float(np.median(prior)),
                "prior_p05": float(np.quantile(prior, 0.05)),
                "prior_p95": float(np.quantile(prior, 0.95)),
                "effective_runs": abc.effective_size(w),
            }
        )
        col += 2
    return rows


def posterior_table(
    plan: CalibrationPlan, final: Round
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The fitted value of every parameter (``plan.estimate``) and the fit.csv rows."""
    from sim.experiments.params import get_path
    from sim.scenario.loading import resolved_dict

    resolved = resolved_dict(plan.sweep.base)
    w = final.weights
    best = int(np.argmax(w))
    fitted: dict[str, Any] = {}
    rows = []
    for spec in plan.specs:
        values = np.array([v[spec.path] for v in final.values], dtype=float)
        q05, med, q95 = abc.weighted_quantile(values, w, (0.05, 0.5, 0.95))
        mean = abc.weighted_mean(values, w)
        raw = {"median": med, "mean": mean, "best": values[best]}[plan.estimate]
        value, _ = spec.at(float(raw))
        if not spec.integer:
            value = float(f"{value:.4g}")
        fitted[spec.path] = value
        rows.append(
            {
                "parameter": spec.path,
                "prior_low": spec.low,
                "prior_high": spec.high,
                "before": _plain(get_path(resolved, spec.path)),
                "fitted": value,
                "posterior_mean": mean,
                "posterior_median": med,
                "credible_05": q05,
                "credible_95": q95,
                "shrinkage": 1 - (q95 - q05) / (0.9 * (spec.high - spec.low)),
            }
        )
    return fitted, rows


def _plain(v: Any) -> Any:
    return v if isinstance(v, int | float | str | bool) or v is None else None
