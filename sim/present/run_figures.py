"""Figures of one run's results across its replications: prisoners held and cumulative
repatriated over time (median with 50% and 90% bands), captivity survival curves, and the
distributions of outcomes.

Every function takes the output contract's DataFrames (``timeseries.csv``, ``survival.csv``,
``runs.csv``) and returns a ``matplotlib.figure.Figure``; none touches a ``Simulation``.
Functions drawing a single panel accept ``ax=`` to draw into an existing Axes (then the Axes'
figure is returned).

Bands are quantiles *across replications* (50%: p25–p75, 90%: p05–p95); intervals on means
are 95% Student-t intervals (``sim.results.summary.summarise``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.present.style import (
    BAND_50,
    BAND_90,
    PALETTE,
    as_list,
    band_legend,
    date_axis,
    metric_label,
    new_axes,
    require,
    thousands,
    time_column,
    to_datetime,
)
from sim.results.summary import summarise
from sim.text import format_number

__all__ = [
    "held_over_time",
    "load_observed_cumulative",
    "outcome_distributions",
    "repatriated_over_time",
    "survival_curves",
]


# --------------------------------------------------------------------------- time series
def _quantile_bands(ax: Axes, groups: list[tuple[str, pd.DataFrame]], log: bool | None) -> bool:
    """Median line and 50%/90% bands for each group; returns whether the y axis is symlog."""
    is_date = False
    peaks = []
    xs: list[Any] = []
    for i, (label, sub) in enumerate(groups):
        sub = sub.sort_values("day")
        x, is_date = time_column(sub)
        xs += [x[0], x[-1]]
        color = PALETTE[i % len(PALETTE)]
        ax.fill_between(x, sub["p05"], sub["p95"], color=color, alpha=BAND_90, linewidth=0)
        ax.fill_between(x, sub["p25"], sub["p75"], color=color, alpha=BAND_50, linewidth=0)
        ax.plot(x, sub["p50"], color=color, linewidth=2, label=f"{label} (median)")
        peaks.append(float(sub["p95"].max()))
    positive = [p for p in peaks if p > 0]
    if log is None:
        log = len(positive) > 1 and max(positive) / min(positive) > 100
    if log:
        ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=0)
    thousands(ax)
    if is_date:
        date_axis(ax, min(xs), max(xs))
    else:
        ax.set_xlabel("day of run (days from start)")
    ax.grid(True, alpha=0.3)
    return bool(log)


def held_over_time(
    timeseries: pd.DataFrame,
    holders: str | Sequence[str] | None = None,
    nationalities: str | Sequence[str] | None = None,
    *,
    log: bool | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Prisoners held over time, one median line per holder × nationality, with the 50%
    (p25–p75) and 90% (p05–p95) bands across replications (``timeseries.csv`` rows with
    ``series == "held"``). ``log=None`` switches to a symlog y axis when the groups differ by
    more than a factor of 100 (so a handful of prisoners stays visible next to thousands)."""
    require(timeseries, ["series", "holder", "nationality", "p05", "p25", "p50"], "timeseries")
    df = timeseries[timeseries["series"] == "held"]
    want_h, want_n = as_list(holders), as_list(nationalities)
    if want_h is not None:
        df = df[df["holder"].isin(want_h)]
    if want_n is not None:
        df = df[df["nationality"].isin(want_n)]
    if df.empty:
        have = timeseries[timeseries["series"] == "held"][["holder", "nationality"]]
        pairs = sorted({(str(h), str(n)) for h, n in have.itertuples(index=False)})
        raise ValueError(
            f"no 'held' series for holders={want_h}, nationalities={want_n}; "
            f"available (holder, nationality): {pairs}"
        )
    groups = [
        (f"{nat} held by {holder}", sub)
        for (holder, nat), sub in df.groupby(["holder", "nationality"], sort=True)
    ]
    fig, ax = new_axes(ax, (9, 5))
    used_log = _quantile_bands(ax, groups, log)
    ax.set_ylabel("prisoners held (people)" + (", symlog scale" if used_log else ""))
    ax.set_title("Prisoners held over time (median and spread across runs)")
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=[*handles, *band_legend()], loc="best", fontsize="small")
    return fig


def load_observed_cumulative(
    path: str | Path, column: str = "ukrainians_returned_total"
) -> pd.DataFrame:
    """Observed cumulative counts (e.g. ``seeds/data/ua_ru_cumulative.csv``) as a frame with
    ``date`` (datetime) and ``value`` (float), rows without a value dropped, sorted by date."""
    raw = pd.read_csv(path)
    require(raw, ["date", column], str(path))
    out = pd.DataFrame(
        {"date": pd.to_datetime(raw["date"]), "value": pd.to_numeric(raw[column], errors="coerce")}
    )
    return out.dropna().sort_values("date").reset_index(drop=True)


def _observed_values(observed: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    if "date" not in observed.columns:
        raise ValueError(f"observed needs a 'date' column; it has {list(observed.columns)}")
    if "value" in observed.columns:
        col = "value"
    else:
        numeric = [c for c in observed.columns if c != "date" and _is_numeric(observed[c])]
        if len(numeric) != 1:
            raise ValueError(
                f"observed needs a 'value' column or exactly one numeric column; has {numeric}"
            )
        col = numeric[0]
    obs = observed[["date", col]].dropna()
    return to_datetime(obs["date"]), obs[col].astype(float).reset_index(drop=True)


def _is_numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series))


def _observed_points(ax: Axes, observed: pd.DataFrame, label: str) -> None:
    dates, values = _observed_values(observed)
    ax.plot(
        dates.to_numpy(),
        values,
        linestyle="none",
        marker="o",
        markersize=6,
        markerfacecolor="white",
        markeredgecolor="black",
        markeredgewidth=1.5,
        label=label,
        zorder=5,
    )


def repatriated_over_time(
    timeseries: pd.DataFrame,
    nationality: str | Sequence[str] | None = None,
    observed: pd.DataFrame | None = None,
    observed_label: str = "observed (reported totals)",
    *,
    log: bool | None = False,
    ax: Axes | None = None,
) -> Figure:
    """Cumulative number repatriated per nationality (``series == "repatriated_cumulative"``),
    median with 50% and 90% bands across runs; ``observed`` (``date`` and a value column, see
    ``load_observed_cumulative``) is overlaid as points. The simulated count starts at 0 on the
    scenario's start date, so an observed series should count from the same day."""
    require(timeseries, ["series", "nationality", "p05", "p25", "p50"], "timeseries")
    df = timeseries[timeseries["series"] == "repatriated_cumulative"]
    want = as_list(nationality)
    if want is not None:
        df = df[df["nationality"].isin(want)]
    if df.empty:
        rows = timeseries["series"] == "repatriated_cumulative"
        have = sorted({str(n) for n in timeseries.loc[rows, "nationality"]})
        raise ValueError(f"no 'repatriated_cumulative' series for {want}; available: {have}")
    groups = [(f"{nat} repatriated", sub) for nat, sub in df.groupby("nationality", sort=True)]
    fig, ax = new_axes(ax, (9, 5))
    _quantile_bands(ax, groups, log)
    if observed is not None:
        _observed_points(ax, observed, observed_label)
    ax.set_ylabel("repatriated since start, cumulative (people)")
    ax.set_title("Prisoners repatriated over time (median and spread across runs)")
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=[*handles, *band_legend()], loc="upper left", fontsize="small")
    return fig


# --------------------------------------------------------------------------- survival
def _km_curve(ax: Axes, sub: pd.DataFrame, color: str, label: str) -> None:
    """A step curve of ``survival`` by ``day`` over its confidence band."""
    day = sub["day"].to_numpy(dtype=float)
    low, high = sub["ci_low"].to_numpy(dtype=float), sub["ci_high"].to_numpy(dtype=float)
    ax.fill_between(day, low, high, step="post", color=color, alpha=0.2, linewidth=0)
    surv = sub["survival"].to_numpy(dtype=float)
    ax.step(day, surv, where="post", color=color, linewidth=2, label=label)


def survival_curves(
    km: pd.DataFrame,
    *,
    title: str = "Time in captivity (Kaplan–Meier estimate)",
    band_label: str = "95% confidence interval",
    ax: Axes | None = None,
) -> Figure:
    """Kaplan–Meier curves, one step curve per ``group``, with their confidence bands, from a
    tidy frame with columns ``group, day, survival, ci_low, ci_high`` (``day`` in days since
    capture; ``band_label`` names the level of ``ci_low``/``ci_high`` in the legend). Frames
    from ``sim.results.survival`` (``survival.csv``) work as they are; days with nobody at risk are
    left out."""
    require(km, ["group", "day", "survival", "ci_low", "ci_high"], "km")
    if km.empty:
        raise ValueError("km is empty")
    fig, ax = new_axes(ax, (8, 5))
    if "at_risk" in km.columns:  # sim.results.survival frames: leave out days nobody is observed
        km = km[km["at_risk"] > 0]
    for i, (group, sub) in enumerate(km.groupby("group", sort=True)):
        _km_curve(ax, sub.sort_values("day"), PALETTE[i % len(PALETTE)], str(group))
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel("days in captivity")
    ax.set_ylabel("share still held")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    band = Patch(facecolor="0.45", alpha=0.2, label=band_label)
    ax.legend(handles=[*handles, band], loc="best", fontsize="small")
    return fig


# --------------------------------------------------------------------------- distributions
def outcome_distributions(
    runs: pd.DataFrame,
    metrics: Sequence[str] = ("deals", "repatriated", "died", "first_deal_day"),
    *,
    max_bars: int = 30,
    ncols: int = 2,
) -> Figure:
    """One panel per metric: its distribution across replications (a bar per value when the
    metric takes at most ``max_bars`` whole-number values, else a histogram), with the mean
    (solid line) and the 95% interval of the mean (shaded) and the 5%–95% range of runs
    (dashed) marked. Missing values (e.g. ``first_deal_day`` in runs without a deal) are
    left out and counted in the panel title."""
    require(runs, metrics, "runs")
    n = len(metrics)
    if n == 0:
        raise ValueError("no metrics to plot")
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig = Figure(figsize=(5.2 * ncols, 3.6 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, metric in zip(axes, metrics, strict=False):
        _distribution_panel(ax, runs[metric].to_numpy(dtype=float), metric, max_bars)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(f"Outcomes across {len(runs):,} runs")
    return fig


def _distribution_panel(ax: Axes, values: np.ndarray, metric: str, max_bars: int) -> None:
    """A bar per value (few whole numbers) or a histogram, with the summary marks."""
    v = values[~np.isnan(values)]
    missing = len(values) - len(v)
    name = metric_label(metric, unit=False)
    title = name[0].upper() + name[1:]
    if missing:
        title += f" ({missing} run{'s' if missing != 1 else ''} without one)"
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel(metric_label(metric))
    ax.set_ylabel("runs")
    if len(v) == 0:
        ax.text(0.5, 0.5, "no run had a value", ha="center", va="center", transform=ax.transAxes)
        return
    lo, hi = float(v.min()), float(v.max())
    if np.all(v == np.round(v)) and hi - lo + 1 <= max_bars:
        vals, counts = np.unique(v, return_counts=True)
        ax.bar(vals, counts, width=0.8, color=PALETTE[0], alpha=0.8, label="runs with this value")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.hist(v, bins="auto", color=PALETTE[0], alpha=0.8, label="runs")
        if hi >= 10_000:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.0f}"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _summary_marks(ax, v)
    ax.legend(fontsize="x-small", loc="upper right")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.35)  # room for the legend above the bars


def _summary_marks(ax: Axes, v: np.ndarray) -> None:
    """The mean (solid), its 95% interval (shaded) and the 5%–95% range of runs (dashed)."""
    s = summarise(v)
    ax.axvspan(
        s["ci_low"],
        s["ci_high"],
        color=PALETTE[1],
        alpha=0.3,
        zorder=0,
        label=f"95% CI of mean [{format_number(s['ci_low'])}, {format_number(s['ci_high'])}]",
    )
    ax.axvline(s["mean"], color=PALETTE[1], linewidth=2, label=f"mean {format_number(s['mean'])}")
    ax.axvline(s["p05"], color="0.3", linestyle="--", linewidth=1)
    ax.axvline(
        s["p95"],
        color="0.3",
        linestyle="--",
        linewidth=1,
        label=f"5%–95% of runs {format_number(s['p05'])}–{format_number(s['p95'])}",
    )
