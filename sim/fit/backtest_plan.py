"""A backtest planned and checked before anything runs: the scenario, the observations, the
record, the fitted parameters (given, or those of a calibration), the origins and horizons.
Every mistake is one ``ScenarioError`` (a ``DesignError`` for options) naming what is wrong."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

from sim.errors import ScenarioError
from sim.experiments.params import DesignError
from sim.fit.backtest import BacktestPlan
from sim.fit.observed import load_observations
from sim.fit.record import load_record
from sim.fit.windows import origins_between
from sim.scenario.loading import load_scenario

DEFAULT_ORIGINS = (dt.date(2022, 9, 1), dt.date(2025, 9, 1))


def fit_of_calibration(directory: str | Path) -> tuple[list[str], list[str] | None]:
    """The ``--fit`` ranges of a finished ``pxsim calibrate`` output directory, and the
    targets it fitted (None if it does not say)."""
    path = Path(directory) / "calibration.json"
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
        fit = facts["fit"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ScenarioError(
            "not a `pxsim calibrate` output directory (no calibration.json with its fit)",
            source=f"--fit-from {directory}",
        ) from None
    if not isinstance(fit, list) or not all(isinstance(f, str) for f in fit):
        raise ScenarioError("calibration.json has no list of fit ranges", source=str(path))
    targets = facts.get("targets")
    ok = isinstance(targets, list) and all(isinstance(t, str) for t in targets)
    return fit, (targets if ok else None)


def plan_backtest(
    scenario: str | Path,
    *,
    observed: str | Path,
    record: str | Path,
    record_until: dt.date | None = None,
    deal_stages: Sequence[tuple[dt.date, dt.date]] = (),
    fit: Sequence[str] | None = None,
    fit_from: str | Path | None = None,
    targets: Sequence[str] | None = None,
    origins: tuple[dt.date, dt.date] | None = None,
    every: int = 6,
    horizons: Sequence[int] = (3, 6, 12),
    points: int = 300,
    replications: int = 2,
    accept: float = 0.1,
    seed: int = 1,
) -> BacktestPlan:
    base = load_scenario(scenario)
    fits = list(fit or [])
    if not fits and fit_from:  # its ranges, and the targets it fitted unless told otherwise
        fits, fitted = fit_of_calibration(fit_from)
        targets = fitted if targets is None else targets
    if not fits:
        raise DesignError("backtest needs --fit PATH=LOW:HIGH or --fit-from DIR", source="--fit")
    if not 0 < accept <= 1:
        raise DesignError(f"expected a share in (0, 1], got {accept:g}", source="--accept")
    obs = load_observations(observed, base.start_date, base.party_ids)
    if targets is not None:
        obs.select(targets)  # unknown ids are an error here, not at the first origin
    rec = load_record(
        record, base.start_date, base.party_ids, until=record_until, deal_stages=deal_stages
    )
    first, last = origins or DEFAULT_ORIGINS
    if first > last:
        raise DesignError(f"the first origin {first} is after the last {last}", source="--origins")
    if first <= base.start_date:
        raise DesignError(
            f"the first origin {first} is not after the scenario's start {base.start_date}",
            source="--origins",
        )
    dates = origins_between(first, last, every)
    return BacktestPlan(
        scenario=str(scenario),
        text=Path(scenario).read_text(encoding="utf-8"),
        observations=str(observed),
        record=rec,
        fit=tuple(fits),
        origins=tuple(dates),
        horizons=tuple(horizons),
        points=points,
        replications=replications,
        accept=accept,
        seed=seed,
        targets=None if targets is None else tuple(targets),
    )
