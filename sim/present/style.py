"""The look shared by every pxsim figure: the palette (and the colour of each arm of a
comparison), readable metric names with units, band shading, and the axis helpers (a one-panel
figure or a given Axes, dates on the x axis, thousands separators, the time column of a
time-series frame) plus the column checks every figure makes on its input frame.

Figures are built with the object-oriented API (``matplotlib.figure.Figure``, never
``pyplot``), so nothing opens a window, needs a display or shares state between threads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

__all__ = [
    "BAND_50",
    "BAND_90",
    "METRIC_LABELS",
    "PALETTE",
    "arm_colors",
    "as_list",
    "band_legend",
    "date_axis",
    "metric_label",
    "new_axes",
    "require",
    "thousands",
    "tick",
    "time_column",
    "to_datetime",
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
    "stages": ("stages of deals carried out", "stages"),
    "stages_slipped": ("stages that slipped", "stages"),
    "deals_cut_short": ("deals whose later stages were cancelled", "deals"),
    "handed_to_custody": ("handed to neutral custody", "people"),
    "custody_returned_home": ("home after neutral custody", "people"),
    "custody_stayed": ("stayed with the holder after neutral custody", "people"),
    "custody_resettled": ("to a third country after neutral custody", "people"),
    "custody_died": ("died in neutral custody", "people"),
    "in_custody_at_end": ("in neutral custody at horizon", "people"),
    "remains_initial": ("remains held at start", "remains"),
    "remains_added": ("remains added", "remains"),
    "remains_repatriated": ("remains repatriated", "remains"),
    "remains_held_at_end": ("remains held at horizon", "remains"),
    "remains_handovers": ("handovers of remains", "handovers"),
}

BAND_50 = 0.35  # alpha of the p25–p75 band
BAND_90 = 0.15  # alpha of the p05–p95 band


def metric_label(metric: str, *, unit: bool = True) -> str:
    """``"repatriated (people)"`` for a known metric, the metric name otherwise."""
    name, u = METRIC_LABELS.get(metric, (metric.replace("_", " "), ""))
    return f"{name} ({u})" if unit and u else name


def arm_colors(labels: Iterable[str]) -> dict[str, str]:
    """Each arm of a comparison its colour, in order (the baseline first): the same colour
    for an arm in every figure of the comparison."""
    return {str(label): PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A new one-panel figure, or the given Axes and the figure it belongs to."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    fig_of = ax.get_figure(root=True)
    if not isinstance(fig_of, Figure):
        raise ValueError("ax must belong to a matplotlib Figure")
    return fig_of, ax


def date_axis(ax: Axes, first: Any, last: Any) -> None:
    """Dates on the x axis (concise month ticks), the years covered named in the label."""
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    y0, y1 = pd.Timestamp(first).year, pd.Timestamp(last).year
    ax.set_xlabel(f"date ({y0})" if y0 == y1 else f"date ({y0}–{y1})")


def thousands(ax: Axes, axis: str = "y") -> None:
    """Plain numbers with thousands separators on the y (or x) axis (also on a symlog
    scale)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def to_datetime(values: Any) -> pd.Series:
    """Datetimes, indexed from 0."""
    return pd.Series(pd.to_datetime(values)).reset_index(drop=True)


def time_column(frame: pd.DataFrame) -> tuple[Any, bool]:
    """x values of a time-series frame: datetimes from ``date`` if present, else ``day``;
    and whether they are dates."""
    if "date" in frame.columns:
        return to_datetime(frame["date"]).to_numpy(), True
    return frame["day"].to_numpy(dtype=float), False


def require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """A ``ValueError`` naming the missing columns (and those present) of ``what``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; it has {list(frame.columns)}")


def as_list(value: str | Sequence[str] | None) -> list[str] | None:
    """``None``, or a list of names from one name or several."""
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def band_legend(color: str = "0.45") -> list[Any]:
    """Legend entries for the 50% and 90% bands across runs."""
    return [
        Patch(facecolor=color, alpha=BAND_50, label="50% of runs (p25–p75)"),
        Patch(facecolor=color, alpha=BAND_90, label="90% of runs (p05–p95)"),
    ]


def tick(v: Any) -> str:
    """A tick label: floats without trailing zeros, anything else as text."""
    return f"{v:g}" if isinstance(v, float | np.floating) else str(v)
