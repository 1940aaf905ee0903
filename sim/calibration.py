"""``pxsim calibrate``: fit scenario parameters to an observed exchange history by ABC.

The steps, each in its own function:

1. ``plan_calibration``: parse ``--fit PATH=LOW:HIGH`` (uniform priors), read the observations
   (``sim.observed``), draw ``points`` Latin-hypercube points from the prior box and validate
   every point's scenario (``sim.sweep.plan_sweep``) before anything runs.
2. ``simulate``: run every point for replications ``0 .. K-1`` at the same seed (common random
   numbers: points differ by their parameters, not by their draws) and keep only each run's
   target statistics (``sim.targets``). Work goes out in tasks of a few points on the usual
   backends; each finished task is one ``sims/part-*.npz`` written atomically, so an
   interrupted fit resumes where it stopped (``--resume``).
3. ``analyse``: rejection ABC with an Epanechnikov kernel over the selected targets
   (``sim.abc``): posterior weights per point, the fitted value of each parameter (posterior
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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import abc
from sim.designs import DesignError, ParamSpec
from sim.errors import ScenarioError
from sim.observed import Observations, load_observations
from sim.schema import Scenario
from sim.store import RunStore, atomic_write_bytes
from sim.target_runs import StatsData, StatsTask, run_stats
from sim.targets import Target, observed_vector, stat_groups, stat_names

if TYPE_CHECKING:
    import pandas as pd

    from sim.sweep import SweepPlan

ESTIMATES = ("median", "mean", "best")
FILES = (
    "fitted.yaml",
    "fit.csv",
    "posterior.csv",
    "targets.csv",
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
    scenario_text: str | None  # the scenario file's text (to write fitted.yaml with comments)

    @property
    def specs(self) -> tuple[ParamSpec, ...]:
        return self.sweep.design.specs

    @property
    def targets(self) -> list[Target]:
        return self.observations.targets


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
) -> CalibrationPlan:
    """Validate everything (fit ranges, observations, every point's scenario) up front."""
    from sim.designs import parse_params
    from sim.sweep import plan_sweep

    if not fit:
        raise DesignError("calibrate needs at least one --fit PATH=LOW:HIGH", source="--fit")
    if estimate not in ESTIMATES:
        raise DesignError(f"expected one of {', '.join(ESTIMATES)}", source="--estimate")
    if not 0 < accept <= 1:
        raise DesignError(f"expected a share in (0, 1], got {accept:g}", source="--accept")
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
    text = Path(scenario).read_text(encoding="utf-8")
    return CalibrationPlan(
        plan, obs, selected, int(replications), accept, estimate, int(check_replications), text
    )


def group_size(points: int) -> int:
    """Points per task: about 64 tasks in all (never depends on the workers)."""
    return max(1, math.ceil(points / 64))


# --------------------------------------------------------------------------- results
@dataclass
class CalibrationReport:
    out: Path
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
    from sim.runner import identity_of

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
            "observed": plan.observations.source,
            "observed_hash": plan.observations.digest(),
            "statistics": stat_names(plan.targets),
        },
    )


def simulate(
    plan: CalibrationPlan,
    out: str | Path,
    *,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = False,
) -> tuple[np.ndarray, int, int, str, int]:
    """Statistics of every point and replication, (P, K, m); resumable. Returns
    (stats, tasks run, tasks reused, backend name, workers)."""
    from sim.backends import make_backend
    from sim.runner import Progress, interrupt_on_sigterm

    des = plan.sweep.design
    n, k = des.points, plan.replications
    size = group_size(n)
    store = CalibrationStore(out)
    store.open(_identity(plan, size), resume=resume, force=force)
    store.clean_temporaries()
    done = store.parts()
    groups = [list(range(a, min(a + size, n))) for a in range(0, n, size)]
    todo = [g for g in groups if g[0] not in done]
    targets = tuple(plan.targets)
    tasks = [
        StatsTask(tuple((i, plan.sweep.scenarios[i]) for i in g), plan.sweep.seed, 0, k, targets)
        for g in todo
    ]
    bar = Progress(n * k, progress, f"{plan.sweep.base.name} calibrate")
    bar.update(sum(len(g) for g in groups if g[0] in done) * k)
    name, nworkers = "none", 0
    try:
        if tasks:
            engine = make_backend(backend, workers, scheduler, n_tasks=len(tasks))
            name, nworkers = engine.name, engine.workers

            def on_result(data: StatsData) -> None:
                store.write_part(data)
                bar.update(data.n)

            try:
                with interrupt_on_sigterm():
                    engine.run(tasks, on_result, fn=run_stats)
            finally:
                engine.close()
    finally:
        bar.close()
    stats = store.read_all(n, k, len(stat_names(targets)))
    return stats, len(tasks), len(groups) - len(tasks), name, nworkers


class CalibrationStore(RunStore):
    """A ``RunStore`` directory whose chunks are ``sims/part-PPPPPP.npz`` statistics."""

    def parts(self) -> set[int]:
        d = self.out / "sims"
        if not d.exists():
            return set()
        return {int(p.stem.split("-")[1]) for p in d.glob("part-*.npz")}

    def finished_count(self) -> int:
        return len(self.parts())

    def write_part(self, data: StatsData) -> None:
        buf = io.BytesIO()
        np.savez(buf, points=data.points, stats=data.stats)
        atomic_write_bytes(
            self.out / "sims" / f"part-{int(data.points[0]):06d}.npz", buf.getvalue()
        )

    def read_all(self, n: int, k: int, m: int) -> np.ndarray:
        stats = np.full((n, k, m), np.nan)
        seen = np.zeros(n, dtype=bool)
        for p in sorted((self.out / "sims").glob("part-*.npz")):
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
        d = self.out / "sims"
        if d.exists():
            for tmp in d.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- analysis
@dataclass
class Posterior:
    """ABC on the simulated statistics: per point weight and acceptance; the fitted values."""

    weights: np.ndarray  # (P,) normalised
    accepted: np.ndarray  # (P,) share of replications within epsilon
    distance: np.ndarray  # (P, K)
    epsilon: float
    scale: np.ndarray  # (m,)
    fitted: dict[str, Any]  # path -> value written to the scenario
    table: list[dict[str, Any]]  # fit.csv rows

    @property
    def ess(self) -> float:
        return abc.effective_size(self.weights)


def analyse(plan: CalibrationPlan, stats: np.ndarray) -> Posterior:
    """Rejection ABC with the selected targets; the fitted value of every parameter."""
    targets = plan.targets
    keep = np.isin(
        stat_groups(targets), [i for i, t in enumerate(targets) if t.id in plan.selected]
    )
    sel = [t for t in targets if t.id in plan.selected]
    sim = stats[..., keep]
    obs = observed_vector(sel)
    scale = abc.robust_scale(sim)
    d = abc.distances(sim, obs, scale, stat_groups(sel))
    eps = abc.tolerance(d, plan.accept)
    w = abc.kernel_weights(d, eps)
    if w.sum() <= 0:
        raise ScenarioError(
            "no simulation came within the tolerance (every statistic undefined?); widen the "
            "--fit ranges or check the targets",
            source="--accept",
        )
    w = w / w.sum()
    des = plan.sweep.design
    base = plan.sweep.base
    from sim.designs import get_path
    from sim.scenario import resolved_dict

    resolved = resolved_dict(base)
    best = int(np.argmax(w))
    fitted: dict[str, Any] = {}
    rows = []
    for spec in des.specs:
        values = np.array([des.values[i][spec.path] for i in range(des.points)], dtype=float)
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
    return Posterior(w, abc.acceptance(d, eps), d, eps, scale, fitted, rows)


def _plain(v: Any) -> Any:
    return v if isinstance(v, int | float | str | bool) or v is None else None


# --------------------------------------------------------------------------- the fitted scenario
def fitted_scenario(plan: CalibrationPlan, fitted: Mapping[str, Any]) -> tuple[Scenario, str]:
    """The scenario at the fitted values (and the fixed ``--set`` values), and its YAML: the
    original file with those values replaced and its comments kept, under a header saying how
    it was fitted. Falls back to the resolved scenario if the edit cannot be verified."""
    from sim import __version__
    from sim.scenario import loads_scenario, parse_override, resolved_yaml, scenario_hash
    from sim.yaml_edit import edit_yaml

    fixed = dict(parse_override(o) for o in plan.sweep.overrides)
    values = {**fixed, **fitted}
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
    from sim.backends import make_backend
    from sim.chunks import plan_chunks
    from sim.runner import Progress, interrupt_on_sigterm

    n = plan.check_replications
    grid = np.arange(0.0, math.floor(scn.horizon) + 1.0)
    targets = tuple(plan.targets)
    tasks = [
        StatsTask(((0, scn),), plan.sweep.seed, a, b, targets, grid=grid, samples=True)
        for a, b in plan_chunks(0, n, max(1, math.ceil(n / 16)))
    ]
    parts: dict[int, StatsData] = {}
    bar = Progress(n, progress, f"{scn.name} check")
    engine = make_backend(backend, workers, scheduler, n_tasks=len(tasks))

    def on_result(data: StatsData) -> None:
        parts[data.start] = data
        bar.update(data.n)

    try:
        with interrupt_on_sigterm():
            engine.run(tasks, on_result, fn=run_stats)
    finally:
        engine.close()
        bar.close()
    ordered = [parts[k] for k in sorted(parts)]
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

    from sim.calibration_plots import calibration_figure
    from sim.plots import save
    from sim.store import atomic_write_text, csv_text

    t0 = time.perf_counter()
    out = Path(out)
    stats, run, reused, name, nworkers = simulate(
        plan,
        out,
        workers=workers,
        backend=backend,
        scheduler=scheduler,
        resume=resume,
        force=force,
        progress=progress,
    )
    post = analyse(plan, stats)
    scn, text = fitted_scenario(plan, post.fitted)
    chk = check(plan, scn, workers=workers, backend=backend, scheduler=scheduler, progress=progress)
    des = plan.sweep.design
    fit = pd.DataFrame(post.table)
    posterior = pd.DataFrame(
        {
            "point": np.arange(des.points),
            **{s.path: [des.values[i][s.path] for i in range(des.points)] for s in des.specs},
            "weight": post.weights,
            "accepted": post.accepted,
            "distance_median": np.median(post.distance, axis=1),
        }
    )
    targets = pd.DataFrame(target_table(plan, chk))
    atomic_write_text(out / "fitted.yaml", text)
    atomic_write_text(out / "fit.csv", csv_text(fit))
    atomic_write_text(out / "posterior.csv", csv_text(posterior))
    atomic_write_text(out / "targets.csv", csv_text(targets))
    fig = calibration_figure(plan.targets, chk, targets, posterior, fit, plan.sweep.base)
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
        "epsilon": post.epsilon,
        "effective_sample_size": post.ess,
        "points_with_weight": int((post.weights > 0).sum()),
        "estimate": plan.estimate,
        "fitted": post.fitted,
        "check_replications": plan.check_replications,
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
        run,
        reused,
        seconds,
        name,
        nworkers,
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
        f"tolerance {s['epsilon']:.3g} (acceptance {s['accept']:g}); effective sample size "
        f"{s['effective_sample_size']:.0f} of {s['points_with_weight']} weighted points",
        "",
    ]
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
    lines.append(_table(header, rows))
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
    lines.append(_table(["target", "role", "inside", "misses (first 3)"], trows))
    reused = f", {report.tasks_reused} reused" if report.tasks_reused else ""
    lines.append(
        f"{report.tasks_run} task(s) run{reused} on {report.backend} ({report.workers} "
        f"worker(s)); {report.seconds:.1f} s in all"
    )
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in out)
