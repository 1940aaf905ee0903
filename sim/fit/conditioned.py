"""``pxsim forecast --observed``: a forecast conditioned on the record up to its origin.

The plain forecast (``sim.fit.forecast``) draws parameters from a calibration's posterior and
simulates the whole history again for every run. This one is the method the backtest scores
(``sim.fit.backtest.forecast_ensemble``): at the origin (the day after the record, unless
given), parameters are drawn over the ``--fit`` ranges (or those of a calibration), every run
has its own random numbers, and every run is weighed by how well its history before the
origin matches the observations; the forecast is the weighted ensemble of the runs' futures.
So each simulated future carries a parameter set from the posterior, a format path from the
fitted format process and a state at the origin (who holds whom, which formats are open)
from a history that matches the record. The periods must start on or after the origin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ScenarioError
from sim.experiments.options import DEFAULT, Execution
from sim.experiments.params import DesignError
from sim.fit.backtest import ENSEMBLE, BacktestPlan, forecast_ensemble
from sim.fit.backtest_plan import fit_of_calibration
from sim.fit.forecast import ForecastResult, summarise_runs
from sim.fit.observed import load_observations
from sim.fit.periods import Period
from sim.fit.record import Record
from sim.fit.windows import Window, quantity_names
from sim.scenario.loading import load_scenario


def _no_record(start: dt.date, parties: Sequence[str]) -> Record:
    """The conditioned forecast reads the observations, not a handover record."""
    empty = np.empty(0)
    none = np.empty((0, len(parties)))
    return Record("", start, tuple(parties), empty, none, empty, none, -1.0)


def conditioned_forecast(
    scenario: str | Path,
    *,
    periods: Sequence[Period],
    observed: str | Path,
    fit: Sequence[str] = (),
    fit_from: str | Path | None = None,
    origin: dt.date | None = None,
    points: int = 300,
    replications: int = 2,
    accept: float = 0.1,
    seed: int = 1,
    workdir: Path,
    execution: Execution = DEFAULT,
) -> ForecastResult:
    """Forecast ``periods`` from ``origin`` conditioned on ``observed`` (module docstring);
    the scenario as known at the origin is kept in ``workdir``."""
    base = load_scenario(scenario)
    fits, targets = list(fit), None
    if not fits and fit_from is not None:
        fits, targets = fit_of_calibration(fit_from)
    if not fits:
        raise DesignError("a conditioned forecast needs --fit or --fit-from", source="--fit")
    obs = load_observations(observed, base.start_date, base.party_ids)
    last = max(
        (base.start_date + dt.timedelta(days=int(d)) for t in obs.targets for d in t.days),
        default=base.start_date,
    )
    origin = origin or last + dt.timedelta(days=1)
    if not periods:
        raise ScenarioError("expected at least one --period", source="--period")
    for p in periods:
        if p.first < origin:
            raise ScenarioError(
                f"period {p.label} starts on {p.first}, before the origin {origin}: a "
                "conditioned forecast is of what comes after the record",
                source=f"--period {p.label}",
            )
    start = base.start_date
    windows = [
        Window(p.first, 0, float((p.first - start).days), float((p.last - start).days))
        for p in periods
    ]
    plan = BacktestPlan(
        scenario=str(scenario),
        text=Path(scenario).read_text(encoding="utf-8"),
        observations=str(observed),
        record=_no_record(start, base.party_ids),
        fit=tuple(fits),
        origins=(origin,),
        horizons=(),
        points=points,
        replications=replications,
        accept=accept,
        seed=seed,
        targets=None if targets is None else tuple(targets),
    )
    workdir.mkdir(parents=True, exist_ok=True)
    ens = forecast_ensemble(
        plan, origin, windows, workdir / "scenario_at_origin.yaml", execution=execution
    )
    names = quantity_names(base.party_ids)
    columns: dict[str, Any] = {"run": np.arange(ENSEMBLE)}
    for j, p in enumerate(periods):
        for q, name in enumerate(names):
            columns[f"{name}_{p.label}"] = ens.samples[:, j, q]
    runs = pd.DataFrame(columns)
    summary = summarise_runs(runs, [c for c in runs.columns if c != "run"])
    known = load_scenario(workdir / "scenario_at_origin.yaml")
    return ForecastResult(runs, summary, known, f"conditioned on the record before {origin}")
