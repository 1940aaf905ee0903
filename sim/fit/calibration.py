"""``pxsim calibrate``: fit scenario parameters to an observed exchange history by ABC.

The steps, each in its own function:

1. ``plan_calibration``: parse ``--fit PATH=LOW:HIGH`` (uniform priors), read the observations
   (``sim.fit.observed``), draw ``points`` Latin-hypercube points from the prior box and validate
   every point's scenario (``sim.experiments.sweep.plan_sweep``) before anything runs.
2. ``simulate``: run every point for replications ``0 .. K-1`` at the same seed (common random
   numbers: points differ by their parameters, not by their draws) and keep only each run's
   target statistics (``sim.results.targets``). Work goes out in tasks of a few points on the usual
   backends; each finished task is one ``sims/part-*.npz`` written atomically, so an
   interrupted fit resumes where it stopped (``--resume``).
3. ``analyse``: rejection ABC with an Epanechnikov kernel over the selected targets
   (``sim.fit.abc``): posterior weights per point, the fitted value of each parameter (posterior
   median by default) and 90% credible intervals.
4. ``check``: run the fitted scenario (``check_replications`` runs) and compare each observed
   statistic with the simulated 90% band; draw the figure.

Output directory: ``fitted.yaml`` (the scenario with the fitted values, comments kept),
``fit.csv`` (per parameter), ``posterior.csv`` (per point: parameters, weight), ``targets.csv``
(per statistic: observed vs simulated band at the fit), ``fit.png``/``fit.svg`` (bands against
the observed points; posterior marginals), ``calibration.json`` (what was done, with figures)
and ``run.json`` + ``sims/`` (what resuming needs).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.errors import ScenarioError
from sim.experiments.designs import DesignError, ParamSpec
from sim.experiments.store import RunStore, atomic_write_bytes
from sim.fit import abc
from sim.fit.observed import Observations, load_observations
from sim.fit.target_runs import StatsData, StatsTask, run_stats, run_stats_tasks
from sim.results.targets import Target, observed_vector, stat_groups, stat_names
from sim.scenario.schema import Scenario
from sim.text import text_table

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiments.sweep import SweepPlan

ESTIMATES = ("median", "mean", "best")
MATCHES = ("runs", "mean")
FILES = (
    "fitted.yaml",
    "fit.csv",
    "posterior.csv",
    "targets.csv",
    "prediction.csv",
    "fit.png",
    "fit.svg",
    "calibration.json",
)
BAND = (0.05, 0.95)


# --------------------------------------------------------------------------- planning
@dataclass
class CalibrationPlan:
    sweep: SweepPlan
    observations: Observations
    selected: list[str]  # target ids in the distance
    replications: int
    accept: float
    estimate: str
    check_replications: int
    scenario_text: str | None
    rounds: int = 1
    match: str = "runs"  # "runs": every replication against the record; "mean": their mean
    predictions: list[Target] = field(
        default_factory=list
    )  # unobserved: predicted only  # the scenario file's text (to write fitted.yaml with comments)

    @property
    def specs(self) -> tuple[ParamSpec, ...]:
        return self.sweep.design.specs

    @property
    def targets(self) -> list[Target]:
        return self.observations.targets

    @property
    def fixed(self) -> dict[str, Any]:
        """The ``--set`` values every point shares."""
        from sim.scenario.paths import parse_override

        return dict(parse_override(o) for o in self.sweep.overrides)

    @property
    def all_targets(self) -> list[Target]:
        """The observed targets, then the predicted quantities (the statistics' layout)."""
        return [*self.observations.targets, *self.predictions]


def _fit_error(exc: ScenarioError) -> ScenarioError:
    """Sweep messages name ``--param``; here the flag is ``--fit``."""
    source = exc.source
    if source and source.startswith("--param"):
        source = "--fit" + source[len("--param") :]
    detail = exc.detail.replace("--param ", "--fit ")
    return DesignError(detail, source=source, line=exc.line, field=exc.field)


def plan_calibration(
    scenario: str | Path,
    observed: str | Path,
    fit: Sequence[str] | Mapping[str, Any],
    *,
    targets: Sequence[str] | None = None,
    points: int = 400,
    replications: int = 8,
    seed: int | None = None,
    overrides: Sequence[str] | Mapping[str, Any] = (),
    accept: float = 0.05,
    estimate: str = "median",
    check_replications: int = 200,
    rounds: int = 1,
    match: str = "runs",
    predict: Sequence[str] = (),
) -> CalibrationPlan:
    """Validate everything (fit ranges, observations, every point's scenario) up front."""
    from sim.experiments.designs import parse_params
    from sim.experiments.sweep import plan_sweep

    if not fit:
        raise DesignError("calibrate needs at least one --fit PATH=LOW:HIGH", source="--fit")
    if estimate not in ESTIMATES:
        raise DesignError(f"expected one of {', '.join(ESTIMATES)}", source="--estimate")
    if not 0 < accept <= 1:
        raise DesignError(f"expected a share in (0, 1], got {accept:g}", source="--accept")
    if rounds < 1:
        raise DesignError(f"expected 1 or more, got {rounds}", source="--rounds")
    if match not in MATCHES:
        raise DesignError(f"expected one of {', '.join(MATCHES)}", source="--match")
    try:
        for spec in parse_params(fit):
            if spec.kind != "range" or spec.steps is not None:
                raise spec.error("calibrate fits numeric ranges: expected PATH=LOW:HIGH")
        plan = plan_sweep(
            scenario, fit, design="lhs", points=points, seed=seed, overrides=overrides
        )
    except DesignError as exc:
        raise _fit_error(exc) from None
    base = plan.base
    obs = load_observations(observed, base.start_date, base.party_ids)
    for t in obs.targets:
        late = [d for d, day in zip(t.dates, t.days, strict=True) if day > base.horizon]
        if late:
            raise ScenarioError(
                f"target {t.id!r} is observed on {late[0]}, after the scenario's horizon "
                f"({base.horizon:g} days from {base.start_date}); drop it or extend the horizon",
                source=obs.source,
            )
    selected = [t.id for t in obs.select(targets)]
    predictions = prediction_targets(base, predict)
    text = Path(scenario).read_text(encoding="utf-8")
    return CalibrationPlan(
        plan,
        obs,
        selected,
        int(replications),
        accept,
        estimate,
        int(check_replications),
        text,
        int(rounds),
        match,
        predictions,
    )


def prediction_targets(base: Scenario, predict: Sequence[str]) -> list[Target]:
    """Deals and people returned to each party in every ``LABEL=FIRST:LAST`` period."""
    from sim.fit.forecast import parse_period

    out: list[Target] = []
    for text in predict:
        p = parse_period(text)
        first = float((p.first - base.start_date).days - 1)
        last = float((p.last - base.start_date).days)
        if first < -1 or last > base.horizon:
            raise ScenarioError(
                f"period {p.label} ({p.first}..{p.last}) is not within the simulated days "
                f"({base.start_date} + {base.horizon:g} days); to predict beyond the record, "
                "extend the horizon, e.g. --set horizon=" + p.last.isoformat(),
                source=f"--predict {text}",
            )
        dates = (f"{p.first}-1", p.last.isoformat())
        out.append(Target(f"{p.label}:deals", "cumulative_deals", days=(first, last), dates=dates))
        out += [
            Target(
                f"{p.label}:returned_{q}",
                "cumulative_returned",
                party=q,
                days=(first, last),
                dates=dates,
            )
            for q in base.party_ids
        ]
    return out


def group_size(points: int) -> int:
    """Points per task: about 64 tasks in all (never depends on the workers)."""
    return max(1, math.ceil(points / 64))


# --------------------------------------------------------------------------- results
@dataclass
class CalibrationReport:
    out: Path | None  # None when the fit ran in a temporary directory
    fit: pd.DataFrame
    posterior: pd.DataFrame
    targets: pd.DataFrame
    summary: dict[str, Any]
    fitted: Scenario
    tasks_run: int
    tasks_reused: int
    seconds: float
    backend: str
    workers: int


def _identity(plan: CalibrationPlan, size: int) -> dict[str, Any]:
    from sim.experiments.runner import identity_of

    des = plan.sweep.design
    return identity_of(
        plan.sweep.base,
        plan.sweep.seed,
        size,
        kind="calibration",
        extra={
            "fit": [s.text for s in des.specs],
            "points": des.points,
            "design_hash": des.digest(),
            "replications_per_point": plan.replications,
            "rounds": plan.rounds,
            "accept": plan.accept,
            "targets": plan.selected,
            "observed": plan.observations.source,
            "observed_hash": plan.observations.digest(),
            "statistics": stat_names(plan.all_targets),
            "match": plan.match,
        },
    )


def round_scenarios(plan: CalibrationPlan, values: list[dict[str, Any]], r: int) -> list[Scenario]:
    """Validated scenarios for a round's points (round 0's were validated by the plan)."""
    if r == 0:
        return plan.sweep.scenarios
    from sim.scenario.loading import loads_scenario

    fixed = plan.fixed
    text = plan.scenario_text or ""
    label = plan.sweep.source or "<scenario>"
    out = []
    for i, v in enumerate(values):
        try:
            out.append(loads_scenario(text, {**fixed, **v}, source=label))
        except ScenarioError as exc:
            shown = ", ".join(f"{k}={x}" for k, x in v.items())
            raise DesignError(
                f"{exc.detail} (round {r}, point {i}: {shown})",
                source=exc.source,
                line=exc.line,
                field=exc.field,
            ) from None
    return out


@dataclass
class Runner:
    """Runs rounds of points on a backend into the store, with one progress bar."""

    plan: CalibrationPlan
    store: CalibrationStore
    backend: str
    workers: int | None
    scheduler: str | None
    bar: Any
    run: int = 0
    reused: int = 0
    name: str = "none"
    nworkers: int = 0

    def stats(self, r: int, scenarios: list[Scenario]) -> np.ndarray:
        """Statistics of every point and replication of round ``r``, (P, K, m)."""
        from sim.experiments.backends import run_tasks

        n, k = len(scenarios), self.plan.replications
        size = group_size(n)
        done = self.store.parts(r)
        groups = [list(range(a, min(a + size, n))) for a in range(0, n, size)]
        targets = tuple(self.plan.all_targets)
        seed = self.plan.sweep.seed
        tasks = [
            StatsTask(tuple((i, scenarios[i]) for i in g), seed, 0, k, targets)
            for g in groups
            if g[0] not in done
        ]
        self.bar.update(sum(len(g) for g in groups if g[0] in done) * k)
        self.run += len(tasks)
        self.reused += len(groups) - len(tasks)

        def on_result(data: StatsData) -> None:
            self.store.write_part(r, data)
            self.bar.update(data.n)

        if tasks:
            self.name, self.nworkers = run_tasks(
                tasks,
                on_result,
                fn=run_stats,
                backend=self.backend,
                workers=self.workers,
                scheduler=self.scheduler,
            )
        return self.store.read_round(r, n, k, len(stat_names(targets)))


class CalibrationStore(RunStore):
    """A ``RunStore`` directory whose chunks are ``sims/rR/part-PPPPPP.npz`` statistics."""

    def parts(self, r: int) -> set[int]:
        d = self.out / "sims" / f"r{r}"
        if not d.exists():
            return set()
        return {int(p.stem.split("-")[1]) for p in d.glob("part-*.npz")}

    def finished_count(self) -> int:
        return len(list((self.out / "sims").glob("r*/part-*.npz")))

    def write_part(self, r: int, data: StatsData) -> None:
        buf = io.BytesIO()
        np.savez(buf, points=data.points, stats=data.stats)
        name = f"part-{int(data.points[0]):06d}.npz"
        atomic_write_bytes(self.out / "sims" / f"r{r}" / name, buf.getvalue())

    def read_round(self, r: int, n: int, k: int, m: int) -> np.ndarray:
        stats = np.full((n, k, m), np.nan)
        seen = np.zeros(n, dtype=bool)
        for p in sorted((self.out / "sims" / f"r{r}").glob("part-*.npz")):
            with np.load(p) as z:
                idx = z["points"]
                stats[idx] = z["stats"]
                seen[idx] = True
        if not seen.all():
            raise RuntimeError(f"{self.out}: {int((~seen).sum())} point(s) have no statistics")
        return stats

    def clear(self) -> None:
        import shutil

        super().clear()
        shutil.rmtree(self.out / "sims", ignore_errors=True)
        shutil.rmtree(self.out / "check", ignore_errors=True)
        for name in FILES:
            (self.out / name).unlink(missing_ok=True)

    def clean_temporaries(self) -> None:
        super().clean_temporaries()
        for tmp in (self.out / "sims").glob("r*/.*.tmp"):
            tmp.unlink(missing_ok=True)


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
    from sim.experiments.designs import get_path
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


# --------------------------------------------------------------------------- the fitted scenario
def fitted_scenario(plan: CalibrationPlan, fitted: Mapping[str, Any]) -> tuple[Scenario, str]:
    """The scenario at the fitted values (and the fixed ``--set`` values), and its YAML: the
    original file with those values replaced and its comments kept, under a header saying how
    it was fitted. Falls back to the resolved scenario if the edit cannot be verified."""
    from sim.scenario.loading import loads_scenario, resolved_yaml, scenario_hash
    from sim.scenario.yaml_edit import edit_yaml
    from sim.version import __version__

    values = {**plan.fixed, **fitted}
    label = plan.sweep.source or "<scenario>"
    text = plan.scenario_text or resolved_yaml(plan.sweep.base)
    scn = loads_scenario(text, values, source=label)
    lines = [
        f"# Calibrated by pxsim {__version__} `calibrate` on {dt.date.today().isoformat()} from "
        f"{label}",
        f"# against {plan.observations.source} (targets: {', '.join(plan.selected)}):",
        f"# ABC, {plan.sweep.design.points} prior points x {plan.replications} replications, "
        f"seed {plan.sweep.seed}, acceptance {plan.accept:g}, fitted = posterior {plan.estimate}.",
    ]
    for path, value in fitted.items():
        lines.append(f"#   {path}: {value}")
    header = "\n".join(lines) + "\n"
    try:
        edited = edit_yaml(text, values)
        same = scenario_hash(loads_scenario(edited, source=label)) == scenario_hash(scn)
    except (ScenarioError, ValueError):
        same = False
    if not same:
        edited = resolved_yaml(scn)
        header += "# (written as the resolved scenario: the original file could not be edited)\n"
    return scn, header + edited


# --------------------------------------------------------------------------- the check run
@dataclass
class Check:
    """The fitted scenario's simulated statistics, curves and samples."""

    stats: np.ndarray  # (N, m)
    grid: np.ndarray  # days
    curves: dict[str, np.ndarray]  # target id -> (N, grid)
    samples: dict[str, list[np.ndarray]]  # target id -> per run


def check(
    plan: CalibrationPlan,
    scn: Scenario,
    *,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    progress: bool = False,
) -> Check:
    """Run the fitted scenario ``check_replications`` times (same seed)."""
    from sim.experiments.chunks import plan_chunks

    n = plan.check_replications
    grid = np.arange(0.0, math.floor(scn.horizon) + 1.0)
    targets = tuple(plan.targets)
    tasks = [
        StatsTask(((0, scn),), plan.sweep.seed, a, b, targets, grid=grid, samples=True)
        for a, b in plan_chunks(0, n, max(1, math.ceil(n / 16)))
    ]
    ordered = run_stats_tasks(
        tasks,
        backend=backend,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        desc=f"{scn.name} check",
    )
    stats = np.concatenate([p.stats[0] for p in ordered])
    curves = {
        t.id: np.concatenate([p.curves[t.id] for p in ordered]) for t in targets if t.cumulative
    }
    samples = {
        t.id: [s for p in ordered for s in p.samples[t.id]] for t in targets if not t.cumulative
    }
    return Check(stats, grid, curves, samples)


def target_table(plan: CalibrationPlan, chk: Check) -> list[dict[str, Any]]:
    """Per statistic: observed, the fitted scenario's median and 90% band, inside or not."""
    rows = []
    col = 0
    for t in plan.targets:
        obs = t.observed_stats()
        for j, name in enumerate(t.stat_names):
            sim = chk.stats[:, col]
            sim = sim[np.isfinite(sim)]
            lo, med, hi = np.quantile(sim, (BAND[0], 0.5, BAND[1])) if len(sim) else (np.nan,) * 3
            rows.append(
                {
                    "target": t.id,
                    "statistic": name,
                    "kind": t.kind,
                    "used_in_fit": t.id in plan.selected,
                    "observed": float(obs[j]),
                    "simulated_median": float(med),
                    "simulated_05": float(lo),
                    "simulated_95": float(hi),
                    "inside_90": bool(lo <= obs[j] <= hi),
                    "runs_defined": len(sim),
                }
            )
            col += 1
    return rows


# --------------------------------------------------------------------------- the whole fit
def calibrate(
    plan: CalibrationPlan,
    out: str | Path,
    *,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = False,
) -> CalibrationReport:
    """Simulate (resumably), fit, check and write every file of the output directory."""
    import pandas as pd

    from sim.experiments.runner import Progress
    from sim.experiments.store import atomic_write_text, csv_text
    from sim.present.calibration_plots import calibration_figure
    from sim.present.plots import save

    t0 = time.perf_counter()
    out = Path(out)
    des = plan.sweep.design
    n = des.points
    store = CalibrationStore(out)
    store.open(_identity(plan, group_size(n)), resume=resume, force=force)
    store.clean_temporaries()
    bar = Progress(
        plan.rounds * n * plan.replications, progress, f"{plan.sweep.base.name} calibrate"
    )
    runner = Runner(plan, store, backend, workers, scheduler, bar)
    keep, _, _ = _selection(plan)
    rounds: list[Round] = []
    try:
        values = list(des.values)
        for r in range(plan.rounds):
            if r:
                values = propose(plan, rounds[-1], n, r)
            stats = runner.stats(r, round_scenarios(plan, values, r))
            if r == 0:  # distances are scaled by the spread under the prior, in every round
                used = stats[..., keep]
                scale = abc.robust_scale(point_means(used) if plan.match == "mean" else used)
            rounds.append(weigh(plan, r, values, stats, scale, rounds[-1] if rounds else None))
    finally:
        bar.close()
    final = rounds[-1]
    fitted, fit_rows = posterior_table(plan, final)
    scn, text = fitted_scenario(plan, fitted)
    chk = check(plan, scn, workers=workers, backend=backend, scheduler=scheduler, progress=progress)
    fit = pd.DataFrame(fit_rows)
    posterior = pd.concat(
        [
            pd.DataFrame(
                {
                    "round": rd.index,
                    "point": np.arange(len(rd.values)),
                    **{sp.path: [v[sp.path] for v in rd.values] for sp in des.specs},
                    "weight": rd.weights,
                    "accepted": rd.accepted,
                    "distance_median": np.median(rd.distance, axis=1),
                }
            )
            for rd in rounds
        ],
        ignore_index=True,
    )
    targets = pd.DataFrame(target_table(plan, chk))
    prediction = pd.DataFrame(prediction_table(plan, rounds[0], final))
    if len(prediction):
        atomic_write_text(out / "prediction.csv", csv_text(prediction))
    atomic_write_text(out / "fitted.yaml", text)
    atomic_write_text(out / "fit.csv", csv_text(fit))
    atomic_write_text(out / "posterior.csv", csv_text(posterior))
    atomic_write_text(out / "targets.csv", csv_text(targets))
    last = posterior[posterior["round"] == final.index]
    fig = calibration_figure(plan.targets, chk, targets, last, fit, plan.sweep.base)
    save(fig, out / "fit", formats=("png", "svg"))
    cum = targets[targets["kind"].str.startswith("cumulative")]
    seconds = round(time.perf_counter() - t0, 1)
    summary: dict[str, Any] = {
        "scenario": plan.sweep.base.name,
        "source": plan.sweep.source,
        "observed": plan.observations.source,
        "targets": plan.selected,
        "fit": [s.text for s in des.specs],
        "points": des.points,
        "replications_per_point": plan.replications,
        "seed": plan.sweep.seed,
        "accept": plan.accept,
        "rounds": [
            {
                "round": rd.index,
                "epsilon": rd.epsilon,
                "effective_sample_size": round(rd.ess, 1),
                "points_with_weight": int((rd.weights > 0).sum()),
            }
            for rd in rounds
        ],
        "epsilon": final.epsilon,
        "effective_sample_size": final.ess,
        "points_with_weight": int((final.weights > 0).sum()),
        "estimate": plan.estimate,
        "fitted": fitted,
        "check_replications": plan.check_replications,
        "match": plan.match,
        "prediction": prediction.to_dict("records"),
        "inside_90": {
            t: [int(g["inside_90"].sum()), len(g)] for t, g in targets.groupby("target", sort=False)
        },
        "cumulative_inside_90": [int(cum["inside_90"].sum()), len(cum)],
        "seconds": seconds,
    }
    atomic_write_text(out / "calibration.json", json.dumps(summary, indent=2, default=_json) + "\n")
    return CalibrationReport(
        out,
        fit,
        posterior,
        targets,
        summary,
        scn,
        runner.run,
        runner.reused,
        seconds,
        runner.name,
        runner.nworkers,
    )


def _json(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(type(v).__name__)


def format_report(report: CalibrationReport) -> str:
    """What the command prints: the fit per parameter and the check per target."""
    s = report.summary
    lines = [
        f"{s['scenario']}: ABC over {s['points']} prior points x {s['replications_per_point']} "
        f"replications, seed {s['seed']} (common random numbers); targets: "
        f"{', '.join(s['targets'])}",
    ]
    for rd in s["rounds"]:
        lines.append(
            f"round {rd['round']}: tolerance {rd['epsilon']:.3g} (acceptance {s['accept']:g}), "
            f"effective sample size {rd['effective_sample_size']:.0f} of "
            f"{rd['points_with_weight']} weighted points"
        )
    lines.append("")
    header = ["parameter", "prior", "before", "fitted", "90% credible"]
    rows = []
    for _, r in report.fit.iterrows():
        before = r["before"]
        rows.append(
            [
                str(r["parameter"]),
                f"{r['prior_low']:g}–{r['prior_high']:g}",
                ""
                if before is None or (isinstance(before, float) and math.isnan(before))
                else f"{before:g}",
                f"{r['fitted']:g}",
                f"{r['credible_05']:.3g}–{r['credible_95']:.3g}",
            ]
        )
    lines.append(text_table(header, rows))
    lines.append("")
    lines.append(
        f"fitted scenario, {report.fitted.name} x {s['check_replications']} runs: observed "
        "statistics inside the simulated 90% band"
    )
    trows = []
    for target, g in report.targets.groupby("target", sort=False):
        used = "fit" if bool(g["used_in_fit"].iloc[0]) else "compared"
        worst = g.loc[(~g["inside_90"]).to_numpy()]
        miss = ", ".join(
            f"{r['statistic'].split('@')[-1].split(':')[-1]} obs {r['observed']:g} vs "
            f"{r['simulated_05']:g}–{r['simulated_95']:g}"
            for _, r in worst.head(3).iterrows()
        )
        trows.append([str(target), used, f"{int(g['inside_90'].sum())}/{len(g)}", miss])
    lines.append(text_table(["target", "role", "inside", "misses (first 3)"], trows))
    if s["prediction"]:
        lines.append("")
        lines.append(
            "predicted (posterior predictive: the final round's runs weighted by how closely "
            "their history matched the record; prior: round 0 unweighted)"
        )
        prow = [
            [
                str(r["period"]),
                str(r["quantity"]),
                f"{r['median']:,.0f}",
                f"{r['p05']:,.0f}–{r['p95']:,.0f}",
                f"{r['prior_median']:,.0f} ({r['prior_p05']:,.0f}–{r['prior_p95']:,.0f})",
            ]
            for r in s["prediction"]
        ]
        lines.append(
            text_table(
                ["period", "quantity", "median", "90% interval", "prior: median (90%)"], prow
            )
        )
    reused = f", {report.tasks_reused} reused" if report.tasks_reused else ""
    lines.append(
        f"{report.tasks_run} task(s) run{reused} on {report.backend} ({report.workers} "
        f"worker(s)); {report.seconds:.1f} s in all"
    )
    return "\n".join(lines)


def run_calibration(
    scenario: str | Path,
    observed: str | Path,
    fit: Sequence[str] | Mapping[str, Any],
    *,
    out: str | Path | None = None,
    targets: Sequence[str] | None = None,
    points: int = 400,
    replications: int = 8,
    rounds: int = 1,
    match: str = "runs",
    predict: Sequence[str] = (),
    accept: float = 0.05,
    estimate: str = "median",
    check_replications: int = 200,
    seed: int | None = None,
    overrides: Sequence[str] | Mapping[str, Any] = (),
    workers: int | None = None,
    backend: str = "local",
    resume: bool = False,
    force: bool = False,
    progress: bool = False,
) -> CalibrationReport:
    """``sim.calibrate``: what ``pxsim calibrate`` does, into ``out`` (or a temporary directory,
    removed afterwards: the report keeps the tables). ``fit`` is ``['PATH=LOW:HIGH', ...]`` or
    ``{PATH: (LOW, HIGH)}``. In a script, call it under ``if __name__ == "__main__":``."""
    import tempfile

    plan = plan_calibration(
        scenario,
        observed,
        fit,
        targets=targets,
        points=points,
        replications=replications,
        seed=seed,
        overrides=overrides,
        accept=accept,
        estimate=estimate,
        check_replications=check_replications,
        rounds=rounds,
        match=match,
        predict=predict,
    )
    kw: dict[str, Any] = dict(workers=workers, backend=backend, progress=progress)
    if out is not None:
        return calibrate(plan, out, resume=resume, force=force, **kw)
    with tempfile.TemporaryDirectory(prefix="pxsim-calibrate-") as tmp:
        report = calibrate(plan, tmp, **kw)
    report.out = None
    return report
