"""Figures from result DataFrames: time series with bands, survival curves, outcome
distributions, one run's negotiations as a Gantt chart, sweep and sensitivity views.

Every function takes DataFrames (the output contract: ``timeseries.csv``, ``runs.csv``, a
sweep's ``points.csv`` and ``indices.csv``, a run's talks and deals records) and returns a
``matplotlib.figure.Figure``; none touches a ``Simulation``. Figures are built with the
object-oriented API (``Figure`` rather than ``pyplot``), so nothing here opens a window, needs
a display or shares global state between threads. Functions drawing a single panel accept
``ax=`` to draw into an existing Axes (then the Axes' figure is returned). ``save`` writes a
figure in several formats, each atomically.

Bands are quantiles *across replications* (50%: p25–p75, 90%: p05–p95); intervals on means
are 95% Student-t intervals (``sim.results.summary.summarise``).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.results.summary import summarise
from sim.text import format_number

__all__ = [
    "DEAL_MARKERS",
    "METRIC_LABELS",
    "OUTCOME_COLORS",
    "comparison_figure",
    "heatmap",
    "held_over_time",
    "load_observed_cumulative",
    "metric_label",
    "metric_vs_parameter",
    "outcome_distributions",
    "repatriated_over_time",
    "save",
    "sensitivity_bars",
    "survival_curves",
    "talks_timeline",
]

# Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
PALETTE = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",
)

OUTCOME_COLORS: dict[str, str] = {
    "agreed": "#009E73",
    "refused": "#D55E00",
    "breakdown": "#E69F00",
    "deadline": "#CC79A7",
    "exhausted": "#56B4E9",
    "open": "#999999",
}
OUTCOME_DESCRIPTIONS: dict[str, str] = {
    "agreed": "agreed (deal)",
    "refused": "refused",
    "breakdown": "broke down",
    "deadline": "deadline passed",
    "exhausted": "rounds exhausted",
    "open": "still open at horizon",
}
DEAL_MARKERS: dict[str, dict[str, Any]] = {
    "executed": {
        "marker": "D",
        "markersize": 7,
        "markerfacecolor": "black",
        "markeredgecolor": "white",
        "color": "black",
        "label": "deal executed",
    },
    "collapsed": {
        "marker": "X",
        "markersize": 9,
        "markerfacecolor": "white",
        "markeredgecolor": "black",
        "color": "black",
        "label": "deal collapsed",
    },
}

# metric -> (readable name, unit)
METRIC_LABELS: dict[str, tuple[str, str]] = {
    "initial_held": ("held at start", "people"),
    "captured": ("captured", "people"),
    "repatriated": ("repatriated", "people"),
    "resettled": ("resettled in a third country", "people"),
    "died": ("died in captivity", "people"),
    "held_at_end": ("still held at horizon", "people"),
    "died_avoiding_capture": ("died avoiding capture", "people"),
    "negotiations": ("negotiations opened", "talks"),
    "deals": ("deals executed", "deals"),
    "deals_collapsed": ("deals collapsed", "deals"),
    "offers": ("offers made", "offers"),
    "first_deal_day": ("first deal", "day of run"),
    "mean_days_held": ("mean time held", "days"),
    "exchanged": ("exchanged in deals", "people"),
    "humanitarian_released": ("released on humanitarian grounds", "people"),
    "asylum_resettled": ("resettled by asylum", "people"),
    "talks_refused": ("talks refused", "talks"),
    "talks_no_channel": ("talks with no channel", "attempts"),
    "talks_channel_busy": ("talks with channel busy", "attempts"),
    "breakdowns": ("breakdowns", "talks"),
    "deadlines": ("deadlines passed", "talks"),
    "rounds_lost": ("rounds lost in relay", "rounds"),
}

BAND_50 = 0.35
BAND_90 = 0.15


def metric_label(metric: str, *, unit: bool = True) -> str:
    """``"repatriated (people)"`` for a known metric, the metric name otherwise."""
    name, u = METRIC_LABELS.get(metric, (metric.replace("_", " "), ""))
    return f"{name} ({u})" if unit and u else name


# --------------------------------------------------------------------------- helpers
def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A new one-panel figure, or the given Axes and the figure it belongs to."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    fig_of = ax.get_figure(root=True)
    if not isinstance(fig_of, Figure):
        raise ValueError("ax must belong to a matplotlib Figure")
    return fig_of, ax


def _date_axis(ax: Axes, first: Any, last: Any) -> None:
    """Dates on the x axis (concise month ticks), the years covered named in the label."""
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    y0, y1 = pd.Timestamp(first).year, pd.Timestamp(last).year
    ax.set_xlabel(f"date ({y0})" if y0 == y1 else f"date ({y0}–{y1})")


def _thousands(ax: Axes) -> None:
    """Plain numbers with thousands separators on the y axis (also on a symlog scale)."""
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def _to_datetime(values: Any) -> pd.Series:
    return pd.Series(pd.to_datetime(values)).reset_index(drop=True)


def _time_column(frame: pd.DataFrame) -> tuple[Any, bool]:
    """x values of a time-series frame: datetimes from ``date`` if present, else ``day``."""
    if "date" in frame.columns:
        return _to_datetime(frame["date"]).to_numpy(), True
    return frame["day"].to_numpy(dtype=float), False


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; it has {list(frame.columns)}")


def _as_list(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _frame(records: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    return records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))


def _band_legend(color: str = "0.45") -> list[Any]:
    return [
        Patch(facecolor=color, alpha=BAND_50, label="50% of runs (p25–p75)"),
        Patch(facecolor=color, alpha=BAND_90, label="90% of runs (p05–p95)"),
    ]


def _quantile_bands(ax: Axes, groups: list[tuple[str, pd.DataFrame]], log: bool | None) -> bool:
    """Median line and 50%/90% bands for each group; returns whether the y axis is symlog."""
    is_date = False
    peaks = []
    xs: list[Any] = []
    for i, (label, sub) in enumerate(groups):
        sub = sub.sort_values("day")
        x, is_date = _time_column(sub)
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
    _thousands(ax)
    if is_date:
        _date_axis(ax, min(xs), max(xs))
    else:
        ax.set_xlabel("day of run (days from start)")
    ax.grid(True, alpha=0.3)
    return bool(log)


# --------------------------------------------------------------------------- time series
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
    _require(timeseries, ["series", "holder", "nationality", "p05", "p25", "p50"], "timeseries")
    df = timeseries[timeseries["series"] == "held"]
    want_h, want_n = _as_list(holders), _as_list(nationalities)
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
    fig, ax = _axes(ax, (9, 5))
    used_log = _quantile_bands(ax, groups, log)
    ax.set_ylabel("prisoners held (people)" + (", symlog scale" if used_log else ""))
    ax.set_title("Prisoners held over time (median and spread across runs)")
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=[*handles, *_band_legend()], loc="best", fontsize="small")
    return fig


def load_observed_cumulative(
    path: str | Path, column: str = "ukrainians_returned_total"
) -> pd.DataFrame:
    """Observed cumulative counts (e.g. ``seeds/data/ua_ru_cumulative.csv``) as a frame with
    ``date`` (datetime) and ``value`` (float), rows without a value dropped, sorted by date."""
    raw = pd.read_csv(path)
    _require(raw, ["date", column], str(path))
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
    return _to_datetime(obs["date"]), obs[col].astype(float).reset_index(drop=True)


def _is_numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series))


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
    _require(timeseries, ["series", "nationality", "p05", "p25", "p50"], "timeseries")
    df = timeseries[timeseries["series"] == "repatriated_cumulative"]
    want = _as_list(nationality)
    if want is not None:
        df = df[df["nationality"].isin(want)]
    if df.empty:
        have = sorted(
            {
                str(n)
                for n in timeseries.loc[
                    timeseries["series"] == "repatriated_cumulative", "nationality"
                ]
            }
        )
        raise ValueError(f"no 'repatriated_cumulative' series for {want}; available: {have}")
    groups = [(f"{nat} repatriated", sub) for nat, sub in df.groupby("nationality", sort=True)]
    fig, ax = _axes(ax, (9, 5))
    _quantile_bands(ax, groups, log)
    if observed is not None:
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
            label=observed_label,
            zorder=5,
        )
    ax.set_ylabel("repatriated since start, cumulative (people)")
    ax.set_title("Prisoners repatriated over time (median and spread across runs)")
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=[*handles, *_band_legend()], loc="upper left", fontsize="small")
    return fig


# --------------------------------------------------------------------------- survival
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
    _require(km, ["group", "day", "survival", "ci_low", "ci_high"], "km")
    if km.empty:
        raise ValueError("km is empty")
    fig, ax = _axes(ax, (8, 5))
    if "at_risk" in km.columns:  # sim.results.survival frames: leave out days nobody is observed
        km = km[km["at_risk"] > 0]
    for i, (group, sub) in enumerate(km.groupby("group", sort=True)):
        sub = sub.sort_values("day")
        color = PALETTE[i % len(PALETTE)]
        day = sub["day"].to_numpy(dtype=float)
        ax.fill_between(
            day,
            sub["ci_low"].to_numpy(dtype=float),
            sub["ci_high"].to_numpy(dtype=float),
            step="post",
            color=color,
            alpha=0.2,
            linewidth=0,
        )
        ax.step(
            day,
            sub["survival"].to_numpy(dtype=float),
            where="post",
            color=color,
            linewidth=2,
            label=str(group),
        )
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
    _require(runs, metrics, "runs")
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
    ax.legend(fontsize="x-small", loc="upper right")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.35)  # room for the legend above the bars


# --------------------------------------------------------------------------- one run
def talks_timeline(
    talks: pd.DataFrame | Sequence[Mapping[str, Any]],
    deals: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
    start_date: dt.date | str | None = None,
    *,
    end: float | None = None,
    title: str = "Negotiations in one run",
    ax: Axes | None = None,
) -> Figure:
    """Gantt view of one run: each negotiation a bar from ``opened`` to ``closed`` (talks
    still open run to ``end``, default the last event), one row per channel (an intermediary
    or ``direct``; overlapping talks on a channel get sub-rows), coloured by outcome. Deals
    are marked at their execution or collapse day, joined by a thin line to the agreement
    (the preparation period). ``start_date`` (day 0) turns days into dates on the x axis.
    ``talks``/``deals`` are ``RunResult.talks``/``.deals`` or DataFrames of them."""
    tk = _frame(talks).reset_index(drop=True)
    if tk.empty:
        raise ValueError("no talks to draw")
    _require(tk, ["talks", "channel", "opened", "closed", "outcome"], "talks")
    dl = _frame(deals) if deals is not None else pd.DataFrame()
    if not dl.empty:
        _require(dl, ["talks", "channel", "agreed", "outcome", "day"], "deals")
    opened = tk["opened"].to_numpy(dtype=float)
    closed = pd.to_numeric(tk["closed"], errors="coerce").to_numpy(dtype=float)
    last = np.nanmax(
        np.concatenate(
            [opened, closed, dl["day"].to_numpy(dtype=float) if not dl.empty else np.empty(0)]
        )
    )
    horizon = float(last if end is None else end)
    closed = np.where(np.isnan(closed), horizon, closed)
    span = max(horizon - float(np.nanmin(opened)), 1.0)
    min_width = span / 300  # talks closed the day they opened stay visible

    # rows: channels in order of first use; lanes within a channel for overlapping talks
    chan = [str(c) for c in tk["channel"]]
    outcomes = [str(o) for o in tk["outcome"]]
    order = sorted(range(len(tk)), key=lambda i: (opened[i], i))
    channels = list(dict.fromkeys(chan[i] for i in order))
    if not dl.empty:
        channels += [c for c in dict.fromkeys(str(c) for c in dl["channel"]) if c not in channels]
    lane_ends: dict[str, list[float]] = {c: [] for c in channels}
    lane_of = [0] * len(tk)
    for i in order:
        ends = lane_ends[chan[i]]
        free = [k for k, e in enumerate(ends) if e <= opened[i]]
        stop = float(max(closed[i], opened[i] + min_width))
        if free:
            lane_of[i] = free[0]
            ends[free[0]] = stop
        else:
            lane_of[i] = len(ends)
            ends.append(stop)
    row_of = {c: i for i, c in enumerate(channels)}

    def y_of(channel: str, lane: int) -> tuple[float, float]:
        k = max(len(lane_ends[channel]), 1)
        h = 0.8 / k
        # row r spans r-0.4 .. r+0.4, lanes top to bottom
        return row_of[channel] - 0.4 + h * (k - 1 - lane) + h / 2, h * 0.85

    x0 = 0.0
    if start_date is not None:
        start = pd.Timestamp(start_date).to_pydatetime()
        x0 = float(mdates.date2num(start))

    fig, ax = _axes(ax, (10, 1.2 + 0.7 * len(channels)))
    seen: list[str] = []
    talk_y: dict[Any, float] = {}
    for i, talk_id in enumerate(tk["talks"]):
        outcome = outcomes[i]
        y, h = y_of(chan[i], lane_of[i])
        ax.barh(
            y,
            max(closed[i] - opened[i], min_width),
            left=x0 + opened[i],
            height=h,
            color=OUTCOME_COLORS.get(outcome, "#444444"),
            edgecolor="white",
            linewidth=0.5,
        )
        talk_y[talk_id] = y
        if outcome not in seen:
            seen.append(outcome)

    handles: list[Any] = [
        Patch(facecolor=OUTCOME_COLORS.get(o, "#444444"), label=OUTCOME_DESCRIPTIONS.get(o, o))
        for o in sorted(
            seen, key=lambda o: list(OUTCOME_COLORS).index(o) if o in OUTCOME_COLORS else 99
        )
    ]
    if not dl.empty:
        for kind in ("executed", "collapsed"):
            sub = dl[dl["outcome"] == kind]
            if sub.empty:
                continue
            ys = [
                talk_y.get(t, row_of[str(c)])
                for t, c in zip(sub["talks"], sub["channel"], strict=True)
            ]
            days = sub["day"].to_numpy(dtype=float)
            agreed = sub["agreed"].to_numpy(dtype=float)
            for a, d, y in zip(agreed, days, ys, strict=True):
                ax.plot([x0 + a, x0 + d], [y, y], color="black", linewidth=0.8, alpha=0.6)
            style = DEAL_MARKERS[kind]
            ax.plot(x0 + days, ys, linestyle="none", zorder=5, **style)
            handles.append(Line2D([], [], linestyle="none", **style))
        handles.append(
            Line2D([], [], color="black", linewidth=0.8, alpha=0.6, label="agreement → handover")
        )
    ax.set_yticks(range(len(channels)), channels)
    ax.set_ylim(len(channels) - 0.5, -0.5)  # first channel used at the top
    ax.set_ylabel("channel (intermediary or direct)")
    left = min(0.0, float(np.nanmin(opened)))
    ax.set_xlim(x0 + left, x0 + horizon + 0.02 * (horizon - left))
    if start_date is not None:
        _date_axis(ax, mdates.num2date(x0 + left), mdates.num2date(x0 + horizon))
    else:
        ax.set_xlabel("day of run (days from start)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(title)
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        title="talks outcome / deal",
        title_fontsize="small",
        frameon=False,
    )
    return fig


# --------------------------------------------------------------------------- sweeps
def _metric_columns(points: pd.DataFrame, metric: str) -> tuple[str, str, str]:
    cols = (f"{metric}_mean", f"{metric}_ci_low", f"{metric}_ci_high")
    if cols[0] not in points.columns:
        have = sorted(c[: -len("_mean")] for c in points.columns if str(c).endswith("_mean"))
        raise ValueError(f"points has no {cols[0]!r}; metrics available: {have}")
    return cols


def metric_vs_parameter(
    points: pd.DataFrame,
    parameter: str,
    metric: str,
    *,
    by: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """A sweep's mean of ``metric`` against ``parameter`` (one point per design point, sorted
    by the parameter), with the 95% interval of the mean as a band. ``points`` is a sweep's
    ``points.csv``. When ``parameter`` repeats across points (a grid over several parameters):
    with ``by`` (or, if ``by`` is not given, when exactly one other parameter varies, over at
    most 8 values) one line and band per value of it; otherwise each design point is drawn on
    its own, with its interval as an error bar and no line (the others vary between them)."""
    mean, low, high = _metric_columns(points, metric)
    _require(points, [parameter] + ([by] if by else []), "points")
    scatter = False
    if by is None and points[parameter].duplicated().any():
        others = [
            c
            for c in points.columns
            if c not in ("point", parameter)
            and not str(c).endswith(("_mean", "_ci_low", "_ci_high"))
            and points[c].nunique() > 1
        ]
        if len(others) == 1 and points[others[0]].nunique() <= 8:
            by = others[0]
        else:
            scatter = True
    if by is None:
        groups: list[tuple[str | None, pd.DataFrame]] = [(None, points)]
    else:
        groups = [(f"{by} = {_tick(v)}", sub) for v, sub in points.groupby(by, sort=True)]
    fig, ax = _axes(ax, (8, 5))
    if scatter:
        y = points[mean].to_numpy(dtype=float)
        err = np.vstack(
            [y - points[low].to_numpy(dtype=float), points[high].to_numpy(dtype=float) - y]
        )
        ax.errorbar(
            points[parameter].to_numpy(dtype=float),
            y,
            yerr=err,
            fmt="o",
            color=PALETTE[0],
            markersize=4,
            capsize=3,
            label="mean at one design point, with 95% CI (other parameters vary)",
        )
        groups = []
    for i, (label, sub) in enumerate(groups):
        sub = sub.sort_values(parameter)
        color = PALETTE[i % len(PALETTE)]
        x = sub[parameter].to_numpy(dtype=float)
        ax.fill_between(
            x,
            sub[low].to_numpy(dtype=float),
            sub[high].to_numpy(dtype=float),
            color=color,
            alpha=0.25,
            linewidth=0,
        )
        ax.plot(
            x,
            sub[mean].to_numpy(dtype=float),
            color=color,
            marker="o",
            markersize=4,
            linewidth=2,
            label=label or "mean across runs",
        )
    handles, _ = ax.get_legend_handles_labels()
    if not scatter:
        handles.append(Patch(facecolor="0.45", alpha=0.25, label="95% CI of the mean"))
    ax.legend(handles=handles, loc="best", fontsize="small")
    ax.set_xlabel(parameter)
    ax.set_ylabel(f"mean {metric_label(metric)}")
    ax.set_title(f"{metric_label(metric, unit=False).capitalize()} vs {parameter}")
    ax.grid(True, alpha=0.3)
    return fig


def heatmap(
    points: pd.DataFrame,
    x: str,
    y: str,
    metric: str,
    *,
    cmap: str = "viridis",
    labels: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """A grid sweep's mean of ``metric`` over two parameters: cells coloured by the mean (the
    pivot of ``METRIC_mean`` with ``y`` as rows and ``x`` as columns, both ascending), labelled
    with their values, and a colour bar. Repeated (x, y) cells (a third parameter varies) are an
    error."""
    mean, _, _ = _metric_columns(points, metric)
    _require(points, [x, y], "points")
    if points.duplicated([x, y]).any():
        raise ValueError(
            f"several points share the same ({x}, {y}): another parameter varies; "
            "filter points to one value of it first"
        )
    pivot = points.pivot(index=y, columns=x, values=mean).sort_index().sort_index(axis=1)
    data = pivot.to_numpy(dtype=float)
    fig, ax = _axes(ax, (1.8 + 1.1 * data.shape[1], 1.6 + 0.6 * data.shape[0]))
    masked = np.ma.masked_invalid(data)
    im = ax.imshow(masked, origin="lower", aspect="auto", cmap=cmap)
    ax.set_xticks(range(data.shape[1]), [_tick(v) for v in pivot.columns])
    ax.set_yticks(range(data.shape[0]), [_tick(v) for v in pivot.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"Mean {metric_label(metric)}")
    cbar = fig.colorbar(im, ax=ax)
    cbar.set_label(f"mean {metric_label(metric)}")
    if labels:
        finite = data[np.isfinite(data)]
        mid = (finite.min() + finite.max()) / 2 if len(finite) else 0.0
        dark_high = cmap in ("viridis", "plasma", "inferno", "magma", "cividis")
        for (r, c), v in np.ndenumerate(data):
            if not np.isfinite(v):
                text, color = "—", "black"
            else:
                text = format_number(v)
                color = "black" if (v > mid) == dark_high else "white"
            ax.text(c, r, text, ha="center", va="center", fontsize="small", color=color)
    return fig


def _tick(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float | np.floating) else str(v)


def sensitivity_bars(
    indices: pd.DataFrame,
    metric: str,
    *,
    ax: Axes | None = None,
) -> Figure:
    """Sensitivity of ``metric`` to each swept parameter from a sweep's ``indices.csv``:
    Sobol (``S1, S1_conf, ST, ST_conf``) as paired horizontal bars of first-order and total
    indices with confidence error bars, most influential (largest ST) at the top; Morris
    (``mu_star, mu_star_conf``) as bars of μ*, largest at the top."""
    _require(indices, ["metric", "parameter"], "indices")
    sub = indices[indices["metric"] == metric]
    if sub.empty:
        have = sorted({str(m) for m in indices["metric"]})
        raise ValueError(f"no indices for metric {metric!r}; available: {have}")
    sobol = {"S1", "ST"} <= set(sub.columns)
    morris = "mu_star" in sub.columns
    if not (sobol or morris):
        raise ValueError("indices need S1/ST (Sobol) or mu_star (Morris) columns")
    key = "ST" if sobol else "mu_star"
    sub = sub.sort_values(key, ascending=False, kind="stable").reset_index(drop=True)
    n = len(sub)
    fig, ax = _axes(ax, (8, 1.4 + 0.55 * n * (2 if sobol else 1)))
    pos = np.arange(n, dtype=float)
    if sobol:
        h = 0.38
        for offset, col, color, label in (
            (-h / 2, "ST", PALETTE[0], "total effect ST"),
            (h / 2, "S1", PALETTE[4], "first-order S1"),
        ):
            err = sub[f"{col}_conf"].to_numpy(dtype=float) if f"{col}_conf" in sub else None
            ax.barh(
                pos + offset,
                sub[col].to_numpy(dtype=float),
                height=h,
                xerr=err,
                color=color,
                label=label,
                capsize=3,
                error_kw={"elinewidth": 1},
            )
        ax.set_xlabel("Sobol index (share of output variance; bars: 95% CI)")
        ax.axvline(0, color="black", linewidth=0.8)
        kind = "Sobol indices"
    else:
        err = sub["mu_star_conf"].to_numpy(dtype=float) if "mu_star_conf" in sub else None
        ax.barh(
            pos,
            sub["mu_star"].to_numpy(dtype=float),
            height=0.6,
            xerr=err,
            color=PALETTE[0],
            label="μ* with 95% CI",
            capsize=3,
        )
        unit = METRIC_LABELS.get(metric, ("", ""))[1]
        per = f"{unit} over" if unit else "change over"
        ax.set_xlabel(f"Morris μ*: mean |elementary effect| ({per} the scaled parameter range)")
        kind = "Morris screening"
    ax.set_yticks(pos, [str(p) for p in sub["parameter"]])
    ax.set_ylim(n - 0.5, -0.5)  # most influential at the top
    ax.set_ylabel("parameter")
    ax.set_title(f"Sensitivity of {metric_label(metric, unit=False)}: {kind}")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return fig


# --------------------------------------------------------------------------- saving
def comparison_figure(table: pd.DataFrame, metrics: Sequence[str], *, ncols: int = 3) -> Figure:
    """One panel per metric: each variant's difference from the baseline with its paired 95%
    interval (thick) and, for contrast, the unpaired interval (thin); a zero line; clear
    differences (paired interval excluding zero) drawn solid, unclear ones hollow.

    ``table`` is ``comparison.csv``: metric, baseline, variant, diff, ci_low, ci_high,
    unpaired_ci_low, unpaired_ci_high, clear."""
    _require(
        table,
        (
            "metric",
            "variant",
            "diff",
            "ci_low",
            "ci_high",
            "unpaired_ci_low",
            "unpaired_ci_high",
            "clear",
        ),
        "a comparison table",
    )
    metrics = [m for m in metrics if m in set(table["metric"])]
    if not metrics:
        raise ValueError("no metrics to draw")
    variants = list(dict.fromkeys(table["variant"]))
    nrows = -(-len(metrics) // ncols)
    fig = Figure(
        figsize=(4.2 * min(ncols, len(metrics)), 0.6 + 0.55 * len(variants) * nrows + 1.2 * nrows),
        layout="constrained",
    )
    axes = fig.subplots(nrows, min(ncols, len(metrics)), squeeze=False)
    baseline = str(table["baseline"].iloc[0]) if "baseline" in table else "baseline"
    for k, metric in enumerate(metrics):
        ax = axes[k // ncols][k % ncols]
        sub = table[table["metric"] == metric].set_index("variant")
        for y, variant in enumerate(variants):
            if variant not in sub.index:
                continue
            r = sub.loc[variant]
            color = PALETTE[y % len(PALETTE)]
            ax.plot(
                [r["unpaired_ci_low"], r["unpaired_ci_high"]], [y, y], color=color, lw=1, alpha=0.6
            )
            ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=color, lw=4, solid_capstyle="butt")
            ax.plot(
                [r["diff"]], [y], "o", color=color, ms=7, mfc=color if bool(r["clear"]) else "white"
            )
        ax.axvline(0, color="0.3", lw=0.8, ls="--")
        ax.set_yticks(range(len(variants)), [str(v) for v in variants])
        ax.set_ylim(-0.6, len(variants) - 0.4)
        ax.invert_yaxis()
        ax.set_title(metric_label(metric), fontsize=10)
        ax.set_xlabel(f"difference from {baseline}")
        ax.grid(axis="x", alpha=0.3)
    for k in range(len(metrics), nrows * min(ncols, len(metrics))):
        axes[k // ncols][k % ncols].set_visible(False)
    fig.suptitle(
        "Differences from the baseline: paired 95% interval (thick), unpaired (thin); "
        "filled = clear",
        fontsize=10,
    )
    return fig


def save(
    fig: Figure,
    path_without_suffix: str | Path,
    formats: Sequence[str] = ("png", "svg"),
    *,
    dpi: int = 150,
) -> list[Path]:
    """Write ``fig`` as ``PATH.png``, ``PATH.svg``, … (each to a temporary file in the same
    directory, then renamed, so a reader never sees half a file). Returns the paths written."""
    base = Path(path_without_suffix)
    base.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in formats:
        fmt = fmt.lstrip(".").lower()
        final = base.with_name(f"{base.name}.{fmt}")
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=base.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fig.savefig(fh, format=fmt, dpi=dpi)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; publish it normally
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(final)
    return written
