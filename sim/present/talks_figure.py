"""One run's negotiations as a Gantt chart (``talks_timeline``): a bar per negotiation from
opening to outcome, a row per channel, deals marked where they were executed or collapsed.

Takes a run's talks and deals records (``RunResult.talks``/``.deals`` or DataFrames of them);
never a ``Simulation``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.present.style import date_axis, new_axes, require

__all__ = ["DEAL_MARKERS", "OUTCOME_COLORS", "OUTCOME_DESCRIPTIONS", "talks_timeline"]

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
OTHER_COLOR = "#444444"


def _frame(records: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    return records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))


@dataclass
class _Layout:
    """Where each negotiation goes: its channel row and its lane within the row (overlapping
    talks on one channel get lanes), its days and the x offset (day 0 as a date number)."""

    opened: np.ndarray
    closed: np.ndarray
    horizon: float
    min_width: float
    channels: list[str]
    chan: list[str]
    lanes: dict[str, list[float]]
    lane_of: list[int]
    x0: float

    def row(self, channel: str) -> int:
        return self.channels.index(channel)

    def y_of(self, i: int) -> tuple[float, float]:
        """Centre and height of negotiation ``i``'s bar: row r spans r-0.4 .. r+0.4, its
        lanes top to bottom."""
        k = max(len(self.lanes[self.chan[i]]), 1)
        h = 0.8 / k
        return self.row(self.chan[i]) - 0.4 + h * (k - 1 - self.lane_of[i]) + h / 2, h * 0.85


def _layout(tk: pd.DataFrame, dl: pd.DataFrame, end: float | None, x0: float) -> _Layout:
    opened = tk["opened"].to_numpy(dtype=float)
    closed = pd.to_numeric(tk["closed"], errors="coerce").to_numpy(dtype=float)
    deal_days = dl["day"].to_numpy(dtype=float) if not dl.empty else np.empty(0)
    last = np.nanmax(np.concatenate([opened, closed, deal_days]))
    horizon = float(last if end is None else end)
    closed = np.where(np.isnan(closed), horizon, closed)
    min_width = max(horizon - float(np.nanmin(opened)), 1.0) / 300  # same-day talks visible
    chan = [str(c) for c in tk["channel"]]
    order = sorted(range(len(tk)), key=lambda i: (opened[i], i))
    channels = list(dict.fromkeys(chan[i] for i in order))  # in order of first use
    if not dl.empty:
        channels += [c for c in dict.fromkeys(str(c) for c in dl["channel"]) if c not in channels]
    lanes: dict[str, list[float]] = {c: [] for c in channels}
    lane_of = [0] * len(tk)
    for i in order:
        ends = lanes[chan[i]]
        free = [k for k, e in enumerate(ends) if e <= opened[i]]
        stop = float(max(closed[i], opened[i] + min_width))
        lane_of[i] = free[0] if free else len(ends)
        if free:
            ends[free[0]] = stop
        else:
            ends.append(stop)
    return _Layout(opened, closed, horizon, min_width, channels, chan, lanes, lane_of, x0)


def _talk_bars(ax: Axes, tk: pd.DataFrame, lay: _Layout) -> tuple[dict[Any, float], list[str]]:
    """A bar per negotiation; returns each talk's bar centre and the outcomes seen."""
    seen: list[str] = []
    talk_y: dict[Any, float] = {}
    for i, (talk_id, outcome) in enumerate(zip(tk["talks"], tk["outcome"], strict=True)):
        y, h = lay.y_of(i)
        ax.barh(
            y,
            max(lay.closed[i] - lay.opened[i], lay.min_width),
            left=lay.x0 + lay.opened[i],
            height=h,
            color=OUTCOME_COLORS.get(str(outcome), OTHER_COLOR),
            edgecolor="white",
            linewidth=0.5,
        )
        talk_y[talk_id] = y
        if str(outcome) not in seen:
            seen.append(str(outcome))
    return talk_y, seen


def _outcome_handles(seen: list[str]) -> list[Any]:
    def rank(o: str) -> int:
        return list(OUTCOME_COLORS).index(o) if o in OUTCOME_COLORS else 99

    return [
        Patch(facecolor=OUTCOME_COLORS.get(o, OTHER_COLOR), label=OUTCOME_DESCRIPTIONS.get(o, o))
        for o in sorted(seen, key=rank)
    ]


def _deal_marks(ax: Axes, dl: pd.DataFrame, lay: _Layout, talk_y: dict[Any, float]) -> list[Any]:
    """Deals at their execution or collapse day on their talks' bar, joined to the agreement
    by a thin line; returns their legend entries."""
    handles: list[Any] = []
    for kind in ("executed", "collapsed"):
        sub = dl[dl["outcome"] == kind]
        if sub.empty:
            continue
        ys = [
            talk_y.get(t, lay.row(str(c)))
            for t, c in zip(sub["talks"], sub["channel"], strict=True)
        ]
        days = sub["day"].to_numpy(dtype=float)
        agreed = sub["agreed"].to_numpy(dtype=float)
        for a, d, y in zip(agreed, days, ys, strict=True):
            ax.plot([lay.x0 + a, lay.x0 + d], [y, y], color="black", linewidth=0.8, alpha=0.6)
        style = DEAL_MARKERS[kind]
        ax.plot(lay.x0 + days, ys, linestyle="none", zorder=5, **style)
        handles.append(Line2D([], [], linestyle="none", **style))
    handles.append(
        Line2D([], [], color="black", linewidth=0.8, alpha=0.6, label="agreement → handover")
    )
    return handles


def _frame_axes(ax: Axes, lay: _Layout, dated: bool, title: str, handles: list[Any]) -> None:
    n = len(lay.channels)
    ax.set_yticks(range(n), lay.channels)
    ax.set_ylim(n - 0.5, -0.5)  # first channel used at the top
    ax.set_ylabel("channel (intermediary or direct)")
    left = min(0.0, float(np.nanmin(lay.opened)))
    ax.set_xlim(lay.x0 + left, lay.x0 + lay.horizon + 0.02 * (lay.horizon - left))
    if dated:
        date_axis(ax, mdates.num2date(lay.x0 + left), mdates.num2date(lay.x0 + lay.horizon))
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
    require(tk, ["talks", "channel", "opened", "closed", "outcome"], "talks")
    dl = _frame(deals) if deals is not None else pd.DataFrame()
    if not dl.empty:
        require(dl, ["talks", "channel", "agreed", "outcome", "day"], "deals")
    x0 = 0.0
    if start_date is not None:
        x0 = float(mdates.date2num(pd.Timestamp(start_date).to_pydatetime()))
    lay = _layout(tk, dl, end, x0)
    fig, ax = new_axes(ax, (10, 1.2 + 0.7 * len(lay.channels)))
    talk_y, seen = _talk_bars(ax, tk, lay)
    handles = _outcome_handles(seen)
    if not dl.empty:
        handles += _deal_marks(ax, dl, lay, talk_y)
    _frame_axes(ax, lay, start_date is not None, title, handles)
    return fig
