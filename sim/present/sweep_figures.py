"""Figures of a sweep: a metric against a parameter (``metric_vs_parameter``), a metric over a
grid of two parameters (``heatmap``), and the sensitivity indices of a metric
(``sensitivity_bars``).

Inputs are a sweep's ``points.csv`` (a row per design point: the parameters, then
``METRIC_mean``, ``METRIC_ci_low``, ``METRIC_ci_high``) and ``indices.csv`` (Sobol or Morris
indices per metric and parameter); intervals are 95% intervals of the mean across runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.present.style import METRIC_LABELS, PALETTE, metric_label, new_axes, require, tick
from sim.text import format_number

__all__ = ["heatmap", "metric_vs_parameter", "sensitivity_bars"]

SCIENTIFIC_CMAPS = ("viridis", "plasma", "inferno", "magma", "cividis")  # dark at the low end


def _metric_columns(points: pd.DataFrame, metric: str) -> tuple[str, str, str]:
    cols = (f"{metric}_mean", f"{metric}_ci_low", f"{metric}_ci_high")
    if cols[0] not in points.columns:
        have = sorted(c[: -len("_mean")] for c in points.columns if str(c).endswith("_mean"))
        raise ValueError(f"points has no {cols[0]!r}; metrics available: {have}")
    return cols


def _split_by(points: pd.DataFrame, parameter: str, by: str | None) -> tuple[str | None, bool]:
    """The column to draw one line per value of, and whether to draw points only: when
    ``parameter`` repeats and ``by`` is not given, exactly one other parameter varying (over at
    most 8 values) becomes ``by``; more than one means points only."""
    if by is not None or not points[parameter].duplicated().any():
        return by, False
    others = [
        c
        for c in points.columns
        if c not in ("point", parameter)
        and not str(c).endswith(("_mean", "_ci_low", "_ci_high"))
        and points[c].nunique() > 1
    ]
    if len(others) == 1 and points[others[0]].nunique() <= 8:
        return others[0], False
    return None, True


def _points_only(ax: Axes, points: pd.DataFrame, parameter: str, cols: tuple[str, ...]) -> None:
    mean, low, high = cols
    y = points[mean].to_numpy(dtype=float)
    err = np.vstack([y - points[low].to_numpy(dtype=float), points[high].to_numpy(dtype=float) - y])
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


def _lines_with_bands(
    ax: Axes,
    groups: list[tuple[str | None, pd.DataFrame]],
    parameter: str,
    cols: tuple[str, ...],
) -> None:
    mean, low, high = cols
    for i, (label, sub) in enumerate(groups):
        sub = sub.sort_values(parameter)
        color = PALETTE[i % len(PALETTE)]
        x = sub[parameter].to_numpy(dtype=float)
        lo, hi = sub[low].to_numpy(dtype=float), sub[high].to_numpy(dtype=float)
        ax.fill_between(x, lo, hi, color=color, alpha=0.25, linewidth=0)
        ax.plot(
            x,
            sub[mean].to_numpy(dtype=float),
            color=color,
            marker="o",
            markersize=4,
            linewidth=2,
            label=label or "mean across runs",
        )


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
    cols = _metric_columns(points, metric)
    require(points, [parameter] + ([by] if by else []), "points")
    by, scatter = _split_by(points, parameter, by)
    fig, ax = new_axes(ax, (8, 5))
    if scatter:
        _points_only(ax, points, parameter, cols)
    else:
        groups: list[tuple[str | None, pd.DataFrame]] = [(None, points)]
        if by is not None:
            groups = [(f"{by} = {tick(v)}", sub) for v, sub in points.groupby(by, sort=True)]
        _lines_with_bands(ax, groups, parameter, cols)
    handles, _ = ax.get_legend_handles_labels()
    if not scatter:
        handles.append(Patch(facecolor="0.45", alpha=0.25, label="95% CI of the mean"))
    ax.legend(handles=handles, loc="best", fontsize="small")
    ax.set_xlabel(parameter)
    ax.set_ylabel(f"mean {metric_label(metric)}")
    ax.set_title(f"{metric_label(metric, unit=False).capitalize()} vs {parameter}")
    ax.grid(True, alpha=0.3)
    return fig


def _cell_labels(ax: Axes, data: np.ndarray, cmap: str) -> None:
    """Each cell's value, in black or white for contrast with its colour."""
    finite = data[np.isfinite(data)]
    mid = (finite.min() + finite.max()) / 2 if len(finite) else 0.0
    dark_high = cmap in SCIENTIFIC_CMAPS
    for (r, c), v in np.ndenumerate(data):
        if not np.isfinite(v):
            text, color = "—", "black"
        else:
            text = format_number(v)
            color = "black" if (v > mid) == dark_high else "white"
        ax.text(c, r, text, ha="center", va="center", fontsize="small", color=color)


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
    require(points, [x, y], "points")
    if points.duplicated([x, y]).any():
        raise ValueError(
            f"several points share the same ({x}, {y}): another parameter varies; "
            "filter points to one value of it first"
        )
    pivot = points.pivot(index=y, columns=x, values=mean).sort_index().sort_index(axis=1)
    data = pivot.to_numpy(dtype=float)
    fig, ax = new_axes(ax, (1.8 + 1.1 * data.shape[1], 1.6 + 0.6 * data.shape[0]))
    im = ax.imshow(np.ma.masked_invalid(data), origin="lower", aspect="auto", cmap=cmap)
    ax.set_xticks(range(data.shape[1]), [tick(v) for v in pivot.columns])
    ax.set_yticks(range(data.shape[0]), [tick(v) for v in pivot.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"Mean {metric_label(metric)}")
    cbar = fig.colorbar(im, ax=ax)
    cbar.set_label(f"mean {metric_label(metric)}")
    if labels:
        _cell_labels(ax, data, cmap)
    return fig


def _sobol_bars(ax: Axes, sub: pd.DataFrame, pos: np.ndarray) -> str:
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
    return "Sobol indices"


def _morris_bars(ax: Axes, sub: pd.DataFrame, pos: np.ndarray, metric: str) -> str:
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
    return "Morris screening"


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
    require(indices, ["metric", "parameter"], "indices")
    sub = indices[indices["metric"] == metric]
    if sub.empty:
        have = sorted({str(m) for m in indices["metric"]})
        raise ValueError(f"no indices for metric {metric!r}; available: {have}")
    sobol = {"S1", "ST"} <= set(sub.columns)
    if not (sobol or "mu_star" in sub.columns):
        raise ValueError("indices need S1/ST (Sobol) or mu_star (Morris) columns")
    key = "ST" if sobol else "mu_star"
    sub = sub.sort_values(key, ascending=False, kind="stable").reset_index(drop=True)
    n = len(sub)
    fig, ax = new_axes(ax, (8, 1.4 + 0.55 * n * (2 if sobol else 1)))
    pos = np.arange(n, dtype=float)
    kind = _sobol_bars(ax, sub, pos) if sobol else _morris_bars(ax, sub, pos, metric)
    ax.set_yticks(pos, [str(p) for p in sub["parameter"]])
    ax.set_ylim(n - 0.5, -0.5)  # most influential at the top
    ax.set_ylabel("parameter")
    ax.set_title(f"Sensitivity of {metric_label(metric, unit=False)}: {kind}")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return fig
