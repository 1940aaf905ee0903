"""The arms of a comparison overlaid, the way users compare outcome plots: every arm on the
same axes, one colour per arm throughout (``style.arm_colors``: the baseline first, the same
colour for an arm in every figure).

- ``arms_over_time``: people held and cumulative repatriated over time, each arm's median with
  its 5%–95% band across runs, from each arm's ``timeseries.csv``. *Small multiples*: one
  panel per holder × nationality (held) and per nationality (repatriated), not one panel of
  totals. Quantiles across runs do not add up (the median of a sum is not the sum of the
  medians) and the per-run series are not in ``timeseries.csv``, so a total with an honest
  band cannot be made from it; and the groups differ by orders of magnitude (thousands of
  Ukrainians, a few hundred North Koreans), so one panel would flatten the small ones, which
  are often the ones a question is about.
- ``arms_survival``: time in captivity, a Kaplan–Meier curve per arm with its 95% band, one
  panel per nationality (all categories), from each arm's ``survival.csv``.
- ``arms_outcomes``: the main outcomes' distributions across runs, a step ECDF per arm in one
  panel per metric, from each arm's ``runs.csv``. ECDFs rather than histograms: several of
  them overlaid stay readable (histograms hide each other), and medians, quantiles and the
  shift between arms are read straight off them. A curve is the share of *all* runs at or
  below a value, so it ends below 1 when some runs have no value (no first deal).

Each function takes ``{arm label: DataFrame}`` in arm order and returns a
``matplotlib.figure.Figure``; each panel holds one line per arm, in arm order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sim.present.style import (
    arm_colors,
    date_axis,
    metric_label,
    require,
    thousands,
    time_column,
)

__all__ = ["ARM_BAND", "ARM_OUTCOMES", "arms_outcomes", "arms_over_time", "arms_survival"]

ARM_BAND = 0.18  # alpha of an arm's band: several overlap and stay readable
ARM_OUTCOMES = (
    "repatriated",
    "died",
    "held_at_end",
    "deals",
    "first_deal_day",
    "mean_days_held",
)

# a panel: its title, y label, and each arm's rows (arms without rows left out)
Panel = tuple[str, str, dict[str, pd.DataFrame]]


def _arm_colors(labels: Sequence[str], colors: Mapping[str, str] | None) -> dict[str, str]:
    default = arm_colors(labels)
    return {k: (colors or {}).get(k, default[k]) for k in labels}


def _grid(n: int, ncols: int, row_height: float, rows: int | None = None) -> list[Axes]:
    """``n`` panels (of ``rows`` rows, default as many as needed) in a new figure."""
    ncols = max(1, min(ncols, n))
    nrows = rows if rows is not None else -(-n // ncols)
    fig = Figure(figsize=(4.6 * ncols, row_height * nrows + 1.0), layout="constrained")
    return list(fig.subplots(nrows, ncols, squeeze=False).ravel())


def _finish(
    axes: list[Axes], used: int, colors: dict[str, str], title: str, band: str | None
) -> Figure:
    """Hide unused panels; the title on top, a legend of the arms (and bands) below."""
    for ax in axes[used:]:
        ax.set_visible(False)
    fig = axes[0].get_figure(root=True)
    assert isinstance(fig, Figure)
    handles: list[Any] = [Line2D([], [], color=c, linewidth=2, label=k) for k, c in colors.items()]
    if band:
        handles.append(Patch(facecolor="0.45", alpha=ARM_BAND * 2, label=band))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    fig.suptitle(title)
    return fig


def _band(
    ax: Axes,
    x: Any,
    low: np.ndarray,
    high: np.ndarray,
    color: str,
    step: Literal["pre", "post", "mid"] | None = None,
) -> None:
    """An arm's band: light fill, edges in the arm's colour (bands of arms overlap, and a
    blend of two fills would belong to neither)."""
    ax.fill_between(
        x,
        low,
        high,
        step=step,
        facecolor=to_rgba(color, ARM_BAND),
        edgecolor=to_rgba(color, 0.5),
        linewidth=0.6,
    )


# --------------------------------------------------------------------------- over time
def _groups(frame: pd.DataFrame, keys: list[str]) -> dict[tuple[str, ...], pd.DataFrame]:
    out: dict[tuple[str, ...], pd.DataFrame] = {}
    for k, sub in frame.groupby(keys, sort=True):
        out[tuple(str(v) for v in (k if isinstance(k, tuple) else (k,)))] = sub
    return out


def _series_panels(
    timeseries: Mapping[str, pd.DataFrame], series: str, keys: list[str]
) -> list[Panel]:
    """One panel per group (values of ``keys``) of ``series``, sorted; each with the rows of
    every arm that has the group."""
    by_arm = {arm: _groups(ts[ts["series"] == series], keys) for arm, ts in timeseries.items()}
    panels: list[Panel] = []
    for key in sorted({g for groups in by_arm.values() for g in groups}):
        if series == "held":
            title, ylabel = f"{key[1]} held by {key[0]}", "held (people)"
        else:
            title, ylabel = f"{key[0]} repatriated", "repatriated, cumulative (people)"
        rows = {arm: groups[key] for arm, groups in by_arm.items() if key in groups}
        panels.append((title, ylabel, rows))
    return panels


def _median_and_band(ax: Axes, panel: Panel, colors: dict[str, str]) -> None:
    title, ylabel, rows = panel
    xs: list[Any] = []
    is_date = False
    for arm, sub in rows.items():
        sub = sub.sort_values("day")
        x, is_date = time_column(sub)
        xs += [x[0], x[-1]]
        ax.fill_between(x, sub["p05"], sub["p95"], color=colors[arm], alpha=ARM_BAND, linewidth=0)
        ax.plot(x, sub["p50"].to_numpy(dtype=float), color=colors[arm], linewidth=2, label=arm)
    ax.set_ylim(0, max(ax.get_ylim()[1], 1.0))  # a series at 0 throughout: still an axis
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    thousands(ax)
    if is_date:
        date_axis(ax, min(xs), max(xs))
    else:
        ax.set_xlabel("day of run (days from start)")
    ax.set_title(title, fontsize="medium")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)


def arms_over_time(
    timeseries: Mapping[str, pd.DataFrame],
    colors: Mapping[str, str] | None = None,
    *,
    ncols: int = 3,
) -> Figure:
    """People held (top rows: a panel per holder × nationality) and cumulative repatriated
    (bottom rows: a panel per nationality) over time: in each panel every arm's median across
    runs (line) and its 5%–95% band. ``timeseries`` maps each arm's label to its
    ``timeseries.csv``, the baseline first."""
    for arm, ts in timeseries.items():
        require(ts, ["series", "holder", "nationality", "day", "p05", "p50", "p95"], arm)
    held = _series_panels(timeseries, "held", ["holder", "nationality"])
    repatriated = _series_panels(timeseries, "repatriated_cumulative", ["nationality"])
    if not held and not repatriated:
        raise ValueError("no 'held' or 'repatriated_cumulative' series to draw")
    width = max(1, min(ncols, max(len(held), len(repatriated))))
    blocks = [b for b in (held, repatriated) if b]
    nrows = sum(-(-len(b) // width) for b in blocks)
    axes = _grid(width * nrows, width, 3.2, rows=nrows)
    cols = _arm_colors(list(timeseries), colors)
    at = 0
    for block in blocks:
        for k, panel in enumerate(block):
            _median_and_band(axes[at + k], panel, cols)
        used = -(-len(block) // width) * width
        for ax in axes[at + len(block) : at + used]:
            ax.set_visible(False)
        at += used
    title = "Held and repatriated over time, by arm: median across runs (line), 5%–95% (band)"
    return _finish(axes, at, cols, title, "5%–95% of runs")


# --------------------------------------------------------------------------- survival
def _survival_panel(ax: Axes, nationality: str, rows: dict[str, pd.DataFrame], colors: Any) -> None:
    for arm, sub in rows.items():
        sub = sub.sort_values("day")
        day = sub["day"].to_numpy(dtype=float)
        lo, hi = sub["ci_low"].to_numpy(dtype=float), sub["ci_high"].to_numpy(dtype=float)
        _band(ax, day, lo, hi, colors[arm], step="post")
        surv = sub["survival"].to_numpy(dtype=float)
        ax.step(day, surv, where="post", color=colors[arm], linewidth=2, label=arm)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_title(f"{nationality}: time in captivity", fontsize="medium")
    ax.set_xlabel("days in captivity")
    ax.set_ylabel("share still held")
    ax.grid(True, alpha=0.3)


def arms_survival(
    survival: Mapping[str, pd.DataFrame],
    colors: Mapping[str, str] | None = None,
    *,
    ncols: int = 3,
) -> Figure:
    """Time in captivity by arm: a Kaplan–Meier curve per arm with its 95% band, one panel
    per nationality (category ``all``; days with nobody at risk left out). ``survival`` maps
    each arm's label to its ``survival.csv``, the baseline first."""
    overall: dict[str, pd.DataFrame] = {}
    for arm, km in survival.items():
        require(km, ["nationality", "category", "day", "survival", "ci_low", "ci_high"], arm)
        km = km[km["category"] == "all"]
        overall[arm] = km[km["at_risk"] > 0] if "at_risk" in km.columns else km
    nats = sorted({str(n) for km in overall.values() for n in km["nationality"]})
    if not nats:
        raise ValueError("no survival curves (category 'all') to draw")
    axes = _grid(len(nats), ncols, 3.4)
    cols = _arm_colors(list(survival), colors)
    for ax, nat in zip(axes, nats, strict=False):
        rows = {a: km[km["nationality"].astype(str) == nat] for a, km in overall.items()}
        _survival_panel(ax, nat, {a: r for a, r in rows.items() if len(r)}, cols)
    title = "Time in captivity by arm (Kaplan–Meier; still held at the horizon: censored)"
    return _finish(axes, len(nats), cols, title, "95% confidence interval")


# --------------------------------------------------------------------------- outcomes
def ecdf_steps(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step points (drawn ``where="post"``) of the share of *all* runs at or below each
    value; missing values count in the total, so the curve ends below 1 when there are some."""
    v = np.sort(values[~np.isnan(values)])
    if len(v) == 0:
        return np.empty(0), np.empty(0)
    share = np.arange(1, len(v) + 1) / len(values)
    return np.concatenate([[v[0]], v]), np.concatenate([[0.0], share])


def _largest(runs: Mapping[str, pd.DataFrame], metric: str) -> float:
    tops = [float(f[metric].max()) for f in runs.values() if f[metric].notna().any()]
    return max(tops, default=0.0)


def _ecdf_panel(ax: Axes, metric: str, runs: Mapping[str, pd.DataFrame], colors: Any) -> None:
    missing = []
    for arm, frame in runs.items():
        values = frame[metric].to_numpy(dtype=float)
        x, y = ecdf_steps(values)
        if len(x):
            ax.step(x, y, where="post", color=colors[arm], linewidth=2, label=arm)
        if np.isnan(values).any():
            missing.append(f"{arm} {int(np.isnan(values).sum())} of {len(values)}")
    name = metric_label(metric, unit=False)
    title = name[0].upper() + name[1:]
    if missing:
        title += "\n(runs without one: " + ", ".join(missing) + ")"
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel(metric_label(metric))
    ax.set_ylabel("share of runs at or below")
    ax.set_ylim(0, 1.02)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    if _largest(runs, metric) >= 10_000:
        thousands(ax, "x")
    ax.grid(True, alpha=0.3)


def arms_outcomes(
    runs: Mapping[str, pd.DataFrame],
    metrics: Sequence[str] = ARM_OUTCOMES,
    colors: Mapping[str, str] | None = None,
    *,
    ncols: int = 3,
) -> Figure:
    """The distribution across runs of each metric (a panel each; metrics absent from an
    arm's runs are left out), a step ECDF per arm: the share of runs at or below a value,
    read the median at 0.5. ``runs`` maps each arm's label to its ``runs.csv``, the
    baseline first."""
    present = [m for m in metrics if all(m in f.columns for f in runs.values())]
    if not present:
        raise ValueError(f"none of the metrics {list(metrics)} is in every arm's runs")
    axes = _grid(len(present), ncols, 3.3)
    cols = _arm_colors(list(runs), colors)
    for ax, metric in zip(axes, present, strict=False):
        _ecdf_panel(ax, metric, runs, cols)
    n = ", ".join(f"{len(f):,}" for f in runs.values())
    title = f"Outcomes across runs, by arm (ECDF; runs per arm: {n})"
    return _finish(axes, len(present), cols, title, None)
