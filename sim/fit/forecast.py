"""Forecasts: a (calibrated) scenario run past its window, counting deals and people returned
per period, with intervals.

``forecast(scenario, until=..., periods=[...])`` moves the scenario's horizon to the end of the
day ``until`` and runs it ``n`` times. Given the output directory of ``pxsim calibrate``
(``calibration=``), run ``i`` takes its fitted parameters from a draw of the final ABC
population (by weight), so the
intervals carry what the record leaves uncertain about the parameters as well as the model's
own randomness (posterior predictive); without one, every run uses the scenario's values.
Run ``i`` always uses replication ``i`` of the seed, so two forecasts differ only by what they
change. For every period it counts the deals executed and the people returned to each party
from the first to the last day of the period, both included.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ScenarioError
from sim.experiments.chunks import plan_chunks
from sim.experiments.options import DEFAULT, Execution
from sim.fit.periods import Period
from sim.fit.target_runs import StatsTask, run_stats_tasks
from sim.model.streams import stable_key
from sim.results.targets import Target
from sim.scenario.loading import load_scenario, loads_scenario
from sim.scenario.paths import parse_override
from sim.scenario.schema import Scenario
from sim.text import text_table

INTERVAL = (0.05, 0.95)


def posterior_draws(calibration: str | Path, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` parameter sets drawn by weight from the final round of a calibration."""
    d = Path(calibration)
    try:
        post = pd.read_csv(d / "posterior.csv")
        fit = pd.read_csv(d / "fit.csv")
    except FileNotFoundError as exc:
        raise ScenarioError(
            f"no {Path(exc.filename).name}: not a finished `pxsim calibrate` output directory",
            source=f"--calibration {d}",
        ) from None
    if "round" in post:
        post = post[post["round"] == post["round"].max()]
    paths = list(fit["parameter"])
    w = post["weight"].to_numpy(dtype=float)
    rng = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, stable_key("forecast:posterior")]))
    )
    rows = rng.choice(len(post), size=n, p=w / w.sum())
    values = post[paths].to_numpy()
    return [{p: _number(values[i, j]) for j, p in enumerate(paths)} for i in rows]


def _number(v: Any) -> Any:
    f = float(v)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


def _targets(scn: Scenario, periods: Sequence[Period]) -> tuple[Target, ...]:
    days: list[float] = []
    for p in periods:
        days += [float((p.first - scn.start_date).days - 1), float((p.last - scn.start_date).days)]
    dates = tuple(str(i) for i in range(len(days)))
    out = [Target("deals", "cumulative_deals", days=tuple(days), dates=dates)]
    out += [
        Target(f"returned_{q}", "cumulative_returned", party=q, days=tuple(days), dates=dates)
        for q in scn.party_ids
    ]
    return tuple(out)


@dataclass
class ForecastResult:
    runs: pd.DataFrame  # one row per run: run, the drawn parameters, one column per quantity
    summary: pd.DataFrame  # per quantity: mean, median, p05, p95, share_zero
    scenario: Scenario
    draws: str  # "posterior", "fixed" or "conditioned on the record before DATE"


def forecast(
    scenario: str | Path,
    *,
    until: dt.date,
    periods: Sequence[Period],
    calibration: str | Path | None = None,
    n: int = 1000,
    seed: int | None = None,
    overrides: Sequence[str] | Mapping[str, Any] = (),
    execution: Execution = DEFAULT,
) -> ForecastResult:

    fixed = (
        dict(overrides)
        if isinstance(overrides, Mapping)
        else dict(parse_override(o) for o in overrides)
    )
    fixed["horizon"] = until + dt.timedelta(days=1)  # ``until`` is the last day simulated
    base = load_scenario(scenario, fixed)
    if not periods:
        raise ScenarioError("expected at least one --period", source="--period")
    for p in periods:
        if p.first < base.start_date or p.last > until:
            raise ScenarioError(
                f"period {p.label} ({p.first}..{p.last}) is not between the start date "
                f"{base.start_date} and --until {until}",
                source=f"--period {p.label}",
            )
    run_seed = base.seed if seed is None else int(seed)
    targets = _targets(base, periods)
    text = Path(scenario).read_text(encoding="utf-8")
    if calibration is not None:
        draws = posterior_draws(calibration, n, run_seed)
        scenarios = [loads_scenario(text, {**fixed, **d}, source=str(scenario)) for d in draws]
        tasks = [
            StatsTask(
                tuple((i, scenarios[i]) for i in range(a, b)), run_seed, a, b, targets, paired=True
            )
            for a, b in plan_chunks(0, n, 16)
        ]
    else:
        draws = [{} for _ in range(n)]
        tasks = [
            StatsTask(((0, base),), run_seed, a, b, targets)
            for a, b in plan_chunks(0, n, max(1, math.ceil(n / 32)))
        ]
    parts = run_stats_tasks(
        tasks,
        execution=execution,
        desc=f"{base.name} forecast",
    )
    stats = np.concatenate([p.stats.reshape(-1, p.stats.shape[-1]) for p in parts])
    columns: dict[str, Any] = {"run": np.arange(n)}
    for key in draws[0] if draws else {}:
        columns[key] = [d[key] for d in draws]
    width = 2 * len(periods)
    for t_i, t in enumerate(targets):
        block = stats[:, t_i * width : (t_i + 1) * width]
        for p_i, p in enumerate(periods):
            columns[f"{t.id}_{p.label}"] = block[:, 2 * p_i + 1] - block[:, 2 * p_i]
    runs = pd.DataFrame(columns)
    quantities = [c for c in runs.columns if c.startswith(("deals_", "returned_"))]
    return ForecastResult(
        runs, summarise_runs(runs, quantities), base, "posterior" if calibration else "fixed"
    )


def summarise_runs(runs: pd.DataFrame, quantities: Sequence[str]) -> pd.DataFrame:
    """Per quantity: mean, median, 90% interval over runs and the share of runs with none."""
    return pd.DataFrame(
        [
            {
                "quantity": q,
                "mean": runs[q].mean(),
                "median": runs[q].median(),
                "p05": runs[q].quantile(INTERVAL[0]),
                "p95": runs[q].quantile(INTERVAL[1]),
                "share_zero": float((runs[q] == 0).mean()),
            }
            for q in quantities
        ]
    )


def format_forecast(res: ForecastResult, n: int) -> str:
    how = (
        "parameters drawn from the calibration's posterior"
        if res.draws == "posterior"
        else "the scenario's parameters"
        if res.draws == "fixed"
        else f"runs weighed by their history, {res.draws}"
    )
    lines = [
        f"{res.scenario.name}: {n} runs to {res.scenario.horizon:g} days from "
        f"{res.scenario.start_date} ({how}); 90% interval = 5th–95th percentile of runs",
        "",
    ]
    header = ["quantity", "mean", "median", "90% interval", "P(none)"]
    rows = [
        [
            str(r["quantity"]),
            f"{r['mean']:,.1f}",
            f"{r['median']:,.0f}",
            f"{r['p05']:,.0f}–{r['p95']:,.0f}",
            f"{r['share_zero']:.0%}",
        ]
        for _, r in res.summary.iterrows()
    ]
    lines.append(text_table(header, rows, left=1))
    return "\n".join(lines)
