"""Results as tidy DataFrames: runs, parties, time series quantiles, summaries with intervals.

Consumes the flat records of ``RunResult`` (never a live ``Simulation``). Intervals on means
are Student-t 95% intervals (``scipy.stats.t``); quantiles are across replications.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from sim.model.records import OUTCOME_COLUMNS, PARTY_COLUMNS, Batch
from sim.text import format_number

MAIN_METRICS = (
    "captured",
    "repatriated",
    "resettled",
    "died",
    "held_at_end",
    "died_avoiding_capture",
    "negotiations",
    "deals",
    "deals_collapsed",
    "first_deal_day",
    "mean_days_held",
)

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def runs_frame(batch: Batch) -> pd.DataFrame:
    """One row per replication: scenario, replication, seed, then every outcome."""
    rows = []
    for r in batch.runs:
        row: dict[str, object] = {
            "scenario": r.scenario,
            "replication": r.replication,
            "seed": r.seed,
        }
        row.update({k: r.outcomes[k] for k in OUTCOME_COLUMNS})
        rows.append(row)
    df = pd.DataFrame(rows, columns=["scenario", "replication", "seed", *OUTCOME_COLUMNS])
    return df


def parties_frame(batch: Batch) -> pd.DataFrame:
    """Replication × party accounting."""
    rows = []
    for r in batch.runs:
        for p in r.parties:
            rows.append({"scenario": r.scenario, "replication": r.replication, **p})
    return pd.DataFrame(rows, columns=["scenario", "replication", *PARTY_COLUMNS])


def timeseries_frame(batch: Batch) -> pd.DataFrame:
    """Day × holder × nationality quantiles of prisoners held, and per nationality the
    cumulative number repatriated, across replications."""
    if not batch.runs:
        return pd.DataFrame()
    start: dt.date = batch.scenario.start_date
    grid = batch.runs[0].grid
    dates = [(start + dt.timedelta(days=int(d))).isoformat() for d in grid]
    frames = []
    keys = sorted({k for r in batch.runs for k in r.held_series})
    for holder, nat in keys:
        mat = np.stack(
            [
                r.held_series.get((holder, nat), np.zeros(len(grid), dtype=np.int64))
                for r in batch.runs
            ]
        )
        frames.append(_quantile_frame(grid, dates, "held", holder, nat, mat))
    nats = sorted({k for r in batch.runs for k in r.repatriated_series})
    for nat in nats:
        mat = np.stack(
            [r.repatriated_series.get(nat, np.zeros(len(grid), dtype=np.int64)) for r in batch.runs]
        )
        frames.append(_quantile_frame(grid, dates, "repatriated_cumulative", "", nat, mat))
    return pd.concat(frames, ignore_index=True)


def _quantile_frame(
    grid: np.ndarray, dates: list[str], series: str, holder: str, nat: str, mat: np.ndarray
) -> pd.DataFrame:
    q = np.quantile(mat, QUANTILES, axis=0)
    data: dict[str, object] = {
        "day": grid,
        "date": dates,
        "series": series,
        "holder": holder,
        "nationality": nat,
        "mean": mat.mean(axis=0),
    }
    for qq, row in zip(QUANTILES, q, strict=True):
        data[f"p{round(qq * 100):02d}"] = row
    return pd.DataFrame(data)


def summarise(values: np.ndarray) -> dict[str, float]:
    """Mean, sd, 95% t-interval of the mean, quantiles and n over the non-missing values."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = len(v)
    if n == 0:
        nan = float("nan")
        return {
            "mean": nan,
            "sd": nan,
            "ci_low": nan,
            "ci_high": nan,
            "p05": nan,
            "p50": nan,
            "p95": nan,
            "n": 0,
        }
    mean = float(v.mean())
    sd = float(v.std(ddof=1)) if n > 1 else 0.0
    half = float(stats.t.ppf(0.975, n - 1)) * sd / np.sqrt(n) if n > 1 and sd > 0 else 0.0
    p05, p50, p95 = (float(x) for x in np.quantile(v, [0.05, 0.5, 0.95]))
    # outcomes are counts and durations: the interval of a non-negative mean stays >= 0
    low = max(mean - half, 0.0) if v.min() >= 0 else mean - half
    return {
        "mean": mean,
        "sd": sd,
        "ci_low": low,
        "ci_high": mean + half,
        "p05": p05,
        "p50": p50,
        "p95": p95,
        "n": n,
    }


def summary_frame(runs: pd.DataFrame, metrics: Sequence[str] = OUTCOME_COLUMNS) -> pd.DataFrame:
    """One row per metric: mean, sd, ci_low, ci_high, p05, p50, p95, n."""
    rows = [{"metric": m, **summarise(runs[m].to_numpy(dtype=float))} for m in metrics]
    return pd.DataFrame(
        rows, columns=["metric", "mean", "sd", "ci_low", "ci_high", "p05", "p50", "p95", "n"]
    )


def format_table(summary: pd.DataFrame, metrics: Sequence[str] = MAIN_METRICS) -> str:
    """A readable outcome table: mean, 95% interval of the mean, 5–95% range across runs."""
    sub = summary.set_index("metric").loc[list(metrics)]
    lines = [f"{'metric':<24}{'mean':>12}{'95% CI of mean':>26}{'5%–95% of runs':>24}{'n':>7}"]
    lines.append("-" * len(lines[0]))
    for metric, row in sub.iterrows():
        if row["n"] == 0:
            lines.append(f"{metric!s:<24}{'—':>12}{'(no run had one)':>26}{'':>24}{0:>7}")
            continue
        ci = f"[{format_number(row['ci_low'])}, {format_number(row['ci_high'])}]"
        rng = f"{format_number(row['p05'])} – {format_number(row['p95'])}"
        lines.append(
            f"{metric!s:<24}{format_number(row['mean']):>12}{ci:>26}{rng:>24}{int(row['n']):>7}"
        )
    return "\n".join(lines)
