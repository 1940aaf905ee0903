"""``pxsim backtest``: rolling-origin evaluation of pxsim's forecasts against the record.

At every origin (by default every six months), using only what was known then:

1. the scenario as it could have been written at the origin (``sim.fit.origin``: no timeline
   change or dated format transition after it), simulated to the end of the longest horizon;
2. the observations cut at the origin as they are read (``load_observations(before=...)``), so
   no later row can reach the fit, and the record of handovers cut the same way
   (``Record.before``) for the baselines;
3. ``points`` parameter sets drawn over the ``--fit`` box (Latin hypercube), ``replications``
   runs each, every run with its own random numbers (not common ones: the histories up to the
   origin must differ for the record to choose among them); every run is weighed by how well
   its history before the origin matches the record (ABC: the Epanechnikov kernel of its
   distance, ``sim.fit.abc``, with the tolerance at the ``accept`` quantile);
4. the forecast of each window ``[origin, origin + h months)`` is the weighted ensemble of
   those runs' futures: parameters from the posterior, formats that open and close by their
   fitted hazards, and the state at the origin (who holds whom) from histories that match the
   record. Each run is simulated once, from the start to the end of the longest window, so
   the history accepted up to the origin is the one continued past it;
5. the same windows forecast by the two rules of thumb (``sim.fit.baselines``: persistence of
   the last six months, climatology of the whole record), and every forecast scored against
   the record (``sim.fit.scores``: 50 % and 90 % coverage, interval scores, CRPS).

The work of one origin is one file (``origins/ORIGIN.json``), written when the origin is done:
an interrupted backtest resumes at the next origin. One worker pool serves every origin.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.atomic import atomic_write_text
from sim.errors import OutputDirError, ScenarioError
from sim.experiments.backends import backend_session
from sim.experiments.options import DEFAULT, Execution
from sim.fit import abc
from sim.fit.observed import load_observations
from sim.fit.origin import fit_at, scenario_at
from sim.fit.record import Record
from sim.fit.scores import QUANTILES, score_samples
from sim.fit.target_runs import StatsTask, run_stats_tasks
from sim.fit.windows import (
    Window,
    baseline_quantities,
    forecast_targets,
    model_quantities,
    quantity_names,
    record_quantities,
    window,
)
from sim.model.streams import stable_key
from sim.results.targets import stat_groups, stat_names
from sim.scenario.loading import loads_scenario
from sim.version import __version__

METHODS = ("pxsim", "persistence", "climatology")
ENSEMBLE = 2000  # samples per forecast (pxsim resampled by weight; baselines drawn)
MIN_WINDOW_DAYS = 182  # a sizes or gaps target cut at the origin is used if it spans this


@dataclass(frozen=True)
class BacktestPlan:
    scenario: str  # path
    text: str
    observations: str  # path
    record: Record
    fit: tuple[str, ...]
    origins: tuple[dt.date, ...]
    horizons: tuple[int, ...]  # months
    points: int = 200
    replications: int = 2
    accept: float = 0.1
    seed: int = 1
    targets: tuple[str, ...] | None = None  # calibration targets used (default: all)

    def identity(self) -> dict[str, Any]:
        """What the results depend on: a resumed backtest must have the same."""
        return {
            "pxsim": __version__,
            "scenario_hash": stable_key(self.text),
            "observations": self.observations,
            "record": self.record.source,
            "record_until": self.record.until,
            "fit": list(self.fit),
            "origins": [o.isoformat() for o in self.origins],
            "horizons": list(self.horizons),
            "points": self.points,
            "replications": self.replications,
            "accept": self.accept,
            "seed": self.seed,
            "targets": None if self.targets is None else list(self.targets),
        }


@dataclass(frozen=True)
class Ensemble:
    """pxsim's forecast at one origin: ``samples`` (ENSEMBLE, windows, quantities) drawn from
    the runs by their ABC weights, and how the fit went."""

    origin: dt.date
    windows: tuple[Window, ...]
    samples: np.ndarray
    fit: tuple[str, ...]
    fit_dropped: tuple[str, ...]
    targets: tuple[str, ...]
    epsilon: float
    effective_runs: float
    runs: int


def forecast_ensemble(
    plan: BacktestPlan,
    origin: dt.date,
    windows: Sequence[Window],
    scenario_file: Path,
    *,
    execution: Execution = DEFAULT,
    engine: Any = None,
) -> Ensemble:
    """Calibrate on the record before ``origin`` and forecast ``windows`` (any windows at or
    after it): steps 1–4 of the module docstring. The scenario as known at the origin is
    written to ``scenario_file`` (kept, for the record)."""
    from sim.experiments.sweep import plan_sweep

    start = plan.record.start
    until = start + dt.timedelta(days=int(max(w.hi for w in windows)))
    source = f"{plan.scenario} (as known at {origin})"
    text = scenario_at(plan.text, plan.scenario, origin, until)
    base = loads_scenario(text, source=source)
    atomic_write_text(scenario_file, f"# {source}, to {until}: written by pxsim backtest\n{text}")
    fit, dropped = fit_at(plan.fit, origin)
    obs = load_observations(plan.observations, start, base.party_ids, before=origin)
    calib = [
        t
        for t in obs.select(None)
        if (plan.targets is None or t.id in plan.targets) and _informative(t)
    ]
    if not calib:
        raise ScenarioError(f"nothing observed before the origin {origin}", source=obs.source)
    if not fit:
        raise ScenarioError(f"no --fit parameter exists at the origin {origin}", source="--fit")
    sweep = plan_sweep(scenario_file, fit, design="lhs", points=plan.points, seed=plan.seed)
    targets = tuple(calib) + tuple(forecast_targets(base.party_ids, windows))
    # every run its own replication (no common random numbers across points): the histories
    # up to the origin must differ for the record to choose among them
    k = plan.replications
    tasks = [
        StatsTask(((i, sweep.scenarios[i]),), plan.seed, i * k, (i + 1) * k, targets)
        for i in range(plan.points)
    ]
    parts = run_stats_tasks(tasks, execution=execution, desc=f"forecast {origin}", engine=engine)
    stats = np.concatenate([p.stats for p in parts])  # (P, K, m)
    m_calib = len(stat_names(calib))
    past, future = stats[..., :m_calib], stats[..., m_calib:]
    observed = np.concatenate([t.observed_stats() for t in calib])
    scale = abc.robust_scale(past)
    d = abc.distances(past, observed, scale, stat_groups(calib))
    eps = abc.tolerance(d, plan.accept)
    w = abc.kernel(d, eps).reshape(-1)
    if w.sum() <= 0:  # every accepted run exactly at the tolerance: they weigh alike
        w = (d <= eps).astype(float).reshape(-1)
    if w.sum() <= 0:
        raise ScenarioError(
            f"at the origin {origin} no run came within the tolerance", source="--accept"
        )
    rng = _rng(plan, origin, "pxsim")
    pick = rng.choice(len(w), size=ENSEMBLE, p=w / w.sum())
    model = model_quantities(future.reshape(-1, future.shape[-1]), base.party_ids, len(windows))
    return Ensemble(
        origin,
        tuple(windows),
        model[pick],
        tuple(fit),
        tuple(dropped),
        tuple(t.id for t in calib),
        float(eps),
        float(abc.effective_size(w)),
        len(w),
    )


def _rng(plan: BacktestPlan, origin: dt.date, what: str) -> np.random.Generator:
    key = stable_key(f"backtest:{origin}" if what == "pxsim" else f"backtest:{origin}:{what}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([plan.seed, key])))


def forecast_origin(
    plan: BacktestPlan,
    origin: dt.date,
    scenario_file: Path,
    *,
    execution: Execution = DEFAULT,
    engine: Any = None,
) -> dict[str, Any]:
    """Forecast every window of ``plan.horizons`` from ``origin`` (``forecast_ensemble``) and
    with the baselines, and score them; the result as plain data (``origins/ORIGIN.json``)."""
    t0 = time.perf_counter()
    record = plan.record
    windows = [window(record.start, origin, h) for h in plan.horizons]
    ens = forecast_ensemble(
        plan, origin, windows, scenario_file, execution=execution, engine=engine
    )
    rng = _rng(plan, origin, "baselines")
    rows = []
    for j, win in enumerate(windows):
        truth, why = record_quantities(record, win)
        ensembles = {
            "pxsim": ens.samples[:, j],
            "persistence": baseline_quantities(record, win, "persistence", ENSEMBLE, rng),
            "climatology": baseline_quantities(record, win, "climatology", ENSEMBLE, rng),
        }
        rows += _score_rows(origin, win, record.parties, truth, why, ensembles)
    return {
        "origin": origin.isoformat(),
        "windows": [{"months": w.months, "lo": w.lo, "hi": w.hi} for w in windows],
        "fit": list(ens.fit),
        "fit_dropped": list(ens.fit_dropped),
        "targets": list(ens.targets),
        "epsilon": ens.epsilon,
        "effective_runs": ens.effective_runs,
        "runs": ens.runs,
        "seconds": time.perf_counter() - t0,
        "rows": rows,
    }


def _informative(target: Any) -> bool:
    """Cumulative series always; a distribution (sizes, gaps) only over a window of at least
    ``MIN_WINDOW_DAYS`` once cut at the origin: over a few weeks most runs have too few deals
    for its quantiles, and a run whose statistic is undefined is never accepted."""
    if target.cumulative:
        return True
    lo, hi = target.window
    return bool(hi - max(lo, 0.0) + 1 >= MIN_WINDOW_DAYS)


def _score_rows(
    origin: dt.date,
    win: Window,
    parties: Sequence[str],
    truth: np.ndarray,
    why: list[str],
    ensembles: dict[str, np.ndarray],
) -> list[dict[str, Any]]:
    rows = []
    for q, name in enumerate(quantity_names(parties)):
        for method, ens in ensembles.items():
            x = ens[:, q]
            x = x[np.isfinite(x)]
            row: dict[str, Any] = {
                "origin": origin.isoformat(),
                "horizon_months": win.months,
                "quantity": name,
                "method": method,
                "observed": None if np.isnan(truth[q]) else float(truth[q]),
                "scored": bool(np.isfinite(truth[q])) and len(x) > 0,
                "not_scored_because": why[q] or ("" if len(x) else "no finite forecast"),
            }
            if row["scored"]:
                s = score_samples(x, float(truth[q]))
                row.update(q05=s.q05, q25=s.q25, q50=s.q50, q75=s.q75, q95=s.q95)
                row.update(
                    inside50=s.coverage50,
                    inside90=s.coverage90,
                    interval50=s.interval50,
                    interval90=s.interval90,
                    crps=s.crps,
                )
            elif len(x):  # nothing to score against: the forecast's quantiles only
                qs = np.quantile(x, QUANTILES)
                row.update(zip(("q05", "q25", "q50", "q75", "q95"), map(float, qs), strict=True))
            rows.append(row)
    return rows


def run_backtest(
    plan: BacktestPlan,
    out: str | Path,
    *,
    execution: Execution = DEFAULT,
    on_origin: Callable[[dict[str, Any], bool], None] | None = None,
) -> list[dict[str, Any]]:
    """Every origin of ``plan`` (those already in ``out/origins`` reused when resuming);
    returns the per-origin results in order. ``on_origin(result, reused)`` after each."""
    root = Path(out)
    store = root / "origins"
    _open(root, plan, execution)
    results: list[dict[str, Any]] = []
    with backend_session(execution, n_tasks=max(1, plan.points // 4)) as engine:
        for origin in plan.origins:
            path = store / f"{origin}.json"
            if path.exists():
                res = json.loads(path.read_text(encoding="utf-8"))
                results.append(res)
                if on_origin:
                    on_origin(res, True)
                continue
            res = forecast_origin(
                plan, origin, store / f"{origin}.scenario.yaml", execution=execution, engine=engine
            )
            atomic_write_text(path, json.dumps(res, indent=1) + "\n")
            results.append(res)
            if on_origin:
                on_origin(res, False)
    return results


def _open(root: Path, plan: BacktestPlan, execution: Execution) -> None:
    """Make or check the output directory: the same backtest resumes (``--resume``), a
    different one needs ``--force``."""
    ident = plan.identity()
    meta = root / "backtest_run.json"
    store = root / "origins"
    if root.exists() and not root.is_dir():
        raise OutputDirError(f"{root} exists and is not a directory")
    if meta.exists():
        old = json.loads(meta.read_text(encoding="utf-8"))
        same = old == ident
        if execution.force:
            for f in store.glob("*.json") if store.exists() else []:
                f.unlink()
        elif not same:
            raise OutputDirError(f"{root} holds a different backtest; use --force to replace it")
        elif not execution.resume and any(store.glob("*.json")):
            raise OutputDirError(
                f"{root} holds this backtest already; use --resume to continue it or --force "
                "to start again"
            )
    elif root.exists() and any(root.iterdir()) and not execution.force:
        raise OutputDirError(f"{root} is not empty and holds no backtest; use --force")
    store.mkdir(parents=True, exist_ok=True)
    atomic_write_text(meta, json.dumps(ident, indent=1) + "\n")
