"""The figure of a backtest (``fan.png``/``fan.svg``): the record, and the forecasts made at
every origin drawn over it, then how often each method's 90% interval held the record.

Panels, one column on a shared calendar axis: people returned to the first party, deals and
stages (those of them in the table), each as the record's *cumulative* count (a step line;
handovers whose numbers were withheld are marked on it and counted as 0) with, from every
origin, pxsim's fan: the cumulative value at the origin plus the window's quantiles at each
horizon (50% band p25–p75, 90% band p05–p95, median line). The two rules of thumb are drawn
thin beside each window's end: their 90% interval as a whisker and their median as a dot.
Window ends where the record is known are marked on the record line (a cross where it fell
outside pxsim's 90% interval). A last panel gives, per method, the share of scored windows
whose 90% interval held the record, against the nominal 90% and the 80% aim.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sim.fit.backtest_tables import COLUMNS
from sim.fit.record import Record
from sim.fit.windows import add_months
from sim.present.saving import save
from sim.present.style import BAND_50, BAND_90, PALETTE, date_axis, require, thousands

__all__ = [
    "METHOD_COLORS",
    "backtest_figure",
    "coverage_by_method",
    "draw_backtest",
    "fan_quantities",
    "party_name",
]

METHOD_COLORS = {"pxsim": PALETTE[0], "persistence": PALETTE[1], "climatology": PALETTE[2]}
RECORD, MISS = "#000000", PALETTE[3]
BASELINE_STYLE = {"persistence": "--", "climatology": ":"}
NUMERIC = ("observed", "q05", "q25", "q50", "q75", "q95", "inside90")


def party_name(party: str) -> str:
    """A party id for a title: ``ukraine`` -> ``Ukraine``."""
    text = party.replace("_", " ")
    return text[:1].upper() + text[1:]


def _clean(scored: pd.DataFrame) -> pd.DataFrame:
    """The table with its numbers as floats (missing as NaN) and ``scored`` as bools."""
    require(scored, COLUMNS, "a backtest table")
    df = scored.copy()
    for c in NUMERIC:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["horizon_months"] = pd.to_numeric(df["horizon_months"]).astype(int)
    df["scored"] = df["scored"].fillna(False).astype(bool)
    return df


def _record_curve(record: Record, quantity: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days, the record's cumulative count after each of them, and which days withheld their
    numbers (for people; counted as 0)."""
    if quantity == "deals":
        days = np.asarray(record.deal_days, dtype=float)
        return days, np.arange(1, len(days) + 1, dtype=float), np.zeros(len(days), bool)
    if quantity == "stages":
        days = np.asarray(record.stage_days, dtype=float)
        return days, np.arange(1, len(days) + 1, dtype=float), np.zeros(len(days), bool)
    party = record.parties.index(quantity.removeprefix("returned_"))
    days = np.asarray(record.stage_days, dtype=float)
    sizes = np.asarray(record.stage_sizes, dtype=float).reshape(len(days), -1)[:, party]
    return days, np.cumsum(np.nan_to_num(sizes)), np.isnan(sizes)


def _at(days: np.ndarray, cumulative: np.ndarray, day: float) -> float:
    """The cumulative count before ``day`` (what was known at an origin on that day)."""
    k = int(np.searchsorted(days, day, side="left"))
    return float(cumulative[k - 1]) if k else 0.0


def _dates(record: Record, days: object) -> np.ndarray:
    """Calendar days (``datetime64[D]``) of days since the record's start."""
    whole = np.rint(np.asarray(days, dtype=float)).astype("int64")
    return np.datetime64(record.start, "D") + whole.astype("timedelta64[D]")


def _end(origin: dt.date, months: int) -> np.datetime64:
    """The end of the window of ``months`` from ``origin`` (the day after its last day)."""
    return np.datetime64(add_months(origin, months), "D")


def _columns(frame: pd.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    """The rows of some columns as tuples of plain Python values."""
    return list(zip(*(frame[c].to_numpy().tolist() for c in columns), strict=True))


def _titles(quantity: str) -> tuple[str, str]:
    """Panel title (what is drawn) and y label."""
    what, unit = {
        "deals": ("deals carried out", "deals"),
        "stages": ("handovers (stages of deals)", "stages"),
    }.get(
        quantity, (f"people returned to {party_name(quantity.removeprefix('returned_'))}", "people")
    )
    title = f"{what}, cumulative: record (line) and forecasts made at each origin (fans)"
    return title, f"cumulative {unit}"


def _fan_panel(ax: Axes, rows: pd.DataFrame, record: Record, quantity: str, gap: int) -> None:
    days, cum, withheld = _record_curve(record, quantity)
    until = float(record.until)
    x = _dates(record, [0.0, *days.tolist(), until])
    y = np.array([0.0, *cum.tolist(), float(cum[-1]) if len(cum) else 0.0])
    ax.step(x, y, where="post", color=RECORD, lw=1.6, zorder=4)
    if withheld.any():
        ax.plot(
            _dates(record, days[withheld]),
            cum[withheld],
            "D",
            color=RECORD,
            mfc="white",
            ms=6,
            zorder=5,
        )
    ax.axvline(float(mdates.date2num(_dates(record, until))), color="0.5", lw=0.8, ls=":")
    offset = np.timedelta64(gap, "D")
    for origin, g in rows.groupby("origin", sort=True):
        when = dt.date.fromisoformat(str(origin))
        base = _at(days, cum, record.day(when))
        px = g[g["method"] == "pxsim"].sort_values("horizon_months")
        px = px[px[["q05", "q95"]].notna().all(axis=1)]
        if len(px):
            xs = np.array(
                [np.datetime64(when, "D"), *(_end(when, h) for h in px["horizon_months"].tolist())]
            )
            fan = {
                c: np.concatenate([[base], base + px[c].to_numpy(dtype=float)])
                for c in ("q05", "q25", "q50", "q75", "q95")
            }
            color = METHOD_COLORS["pxsim"]
            ax.fill_between(xs, fan["q05"], fan["q95"], color=color, alpha=BAND_90, lw=0)
            ax.fill_between(xs, fan["q25"], fan["q75"], color=color, alpha=BAND_50, lw=0)
            ax.plot(xs, fan["q50"], color=color, lw=1.0)
            ax.plot(xs[:1], [base], "o", color=color, mfc="white", ms=4, zorder=6)
            for h, observed, inside90 in _columns(
                px[px["scored"]], "horizon_months", "observed", "inside90"
            ):
                inside = bool(inside90 >= 0.5)
                ax.plot(
                    np.array([_end(when, h)]),
                    [base + float(observed)],
                    "o" if inside else "X",
                    color=RECORD if inside else MISS,
                    ms=3.5 if inside else 7,
                    zorder=7,
                )
        for side, method in ((-1, "persistence"), (1, "climatology")):
            b = g[g["method"] == method]
            b = b[b[["q05", "q50", "q95"]].notna().all(axis=1)]
            for h, q05, q50, q95 in _columns(b, "horizon_months", "q05", "q50", "q95"):
                end = np.array([_end(when, h) + side * offset] * 2)
                ax.plot(
                    end,
                    [base + float(q05), base + float(q95)],
                    color=METHOD_COLORS[method],
                    lw=0.9,
                    ls=BASELINE_STYLE[method],
                )
                ax.plot(end[:1], [base + float(q50)], ".", color=METHOD_COLORS[method], ms=4)
    title, ylabel = _titles(quantity)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 2.5 deals
    ax.grid(alpha=0.25)
    thousands(ax)


def coverage_by_method(scored: pd.DataFrame) -> pd.DataFrame:
    """Per method (in the table's order): scored windows, how many of them the 90% interval
    held, and the share."""
    df = _clean(scored)
    s = df[df["scored"]]
    rows = []
    for method in dict.fromkeys(df["method"].astype(str)):
        g = s[s["method"].astype(str) == method]
        held = int((g["inside90"] >= 0.5).sum())
        rows.append(
            {
                "method": method,
                "scored": len(g),
                "held": held,
                "share": held / len(g) if len(g) else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=["method", "scored", "held", "share"])


def _coverage_panel(ax: Axes, cover: pd.DataFrame) -> None:
    methods = cover["method"].tolist()
    ys = np.arange(len(methods))
    shares = cover["share"].to_numpy(dtype=float)
    for y, method, held, n, share in zip(
        ys.tolist(), methods, cover["held"], cover["scored"], shares, strict=True
    ):
        color = METHOD_COLORS.get(str(method), "0.5")
        if np.isfinite(share):
            ax.barh(y, share, color=color, alpha=0.8, height=0.6)
            label = f"{share:.0%} ({held} of {n})"
        else:
            label = "none scored"
        ax.text(min(share, 1.0) + 0.01 if np.isfinite(share) else 0.01, y, label, va="center")
    ax.axvline(0.9, color="0.2", lw=1, ls="--")
    ax.axvline(0.8, color="0.2", lw=1, ls=":")
    ax.set_yticks(ys, methods)
    ax.set_ylim(-0.6, len(methods) - 0.4)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.18)
    ax.set_xticks(
        [0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0], ["0%", "20%", "40%", "60%", "80%", "90%", "100%"]
    )
    ax.set_xlabel("share of scored windows (dashed: nominal 90%; dotted: the 80% aim)")
    ax.set_title(
        "coverage: share of scored windows whose 90% interval held the record "
        "(all quantities and horizons)",
        fontsize=10,
        loc="left",
    )
    ax.grid(axis="x", alpha=0.25)


def _legend(withheld: bool) -> list[object]:
    px = METHOD_COLORS["pxsim"]
    handles: list[object] = [
        Line2D([], [], color=RECORD, lw=1.6, label="record (cumulative)"),
        Patch(facecolor=px, alpha=BAND_50, label="pxsim 50% band (p25–p75)"),
        Patch(facecolor=px, alpha=BAND_90, label="pxsim 90% band (p05–p95)"),
        Line2D(
            [],
            [],
            color=px,
            lw=1.0,
            marker="o",
            mfc="white",
            ms=4,
            label="pxsim median, from the origin",
        ),
        Line2D(
            [],
            [],
            color=RECORD,
            marker="o",
            ls="",
            ms=3.5,
            label="record at a window's end, inside pxsim's 90%",
        ),
        Line2D([], [], color=MISS, marker="X", ls="", ms=7, label="record outside pxsim's 90%"),
    ]
    for method in ("persistence", "climatology"):
        handles.append(
            Line2D(
                [],
                [],
                color=METHOD_COLORS[method],
                ls=BASELINE_STYLE[method],
                marker=".",
                lw=0.9,
                label=f"{method}: 90% interval and median",
            )
        )
    if withheld:
        handles.append(
            Line2D(
                [],
                [],
                color=RECORD,
                marker="D",
                mfc="white",
                ls="",
                ms=6,
                label="handover with numbers withheld (counted as 0)",
            )
        )
    handles.append(Line2D([], [], color="0.5", lw=0.8, ls=":", label="end of the record"))
    return handles


def fan_quantities(scored: pd.DataFrame, record: Record) -> list[str]:
    """The quantities drawn as fans: returned to the first party, deals, stages (those in
    the table)."""
    present = set(scored["quantity"].astype(str))
    wanted = [f"returned_{record.parties[0]}", "deals", "stages"] if record.parties else []
    return [q for q in wanted if q in present]


def backtest_figure(
    scored: pd.DataFrame, record: Record, quantities: Sequence[str] | None = None
) -> Figure:
    """The fans over the record (one panel per quantity, shared calendar axis) and the
    coverage per method. ``scored`` has the columns of ``sim.fit.backtest_tables.COLUMNS``;
    ``quantities`` default to ``fan_quantities``."""
    df = _clean(scored)
    shown = list(quantities) if quantities is not None else fan_quantities(df, record)
    n = len(shown)
    fig = Figure(figsize=(11.0, 3.3 * n + 2.6), layout="constrained")
    grid = fig.add_gridspec(n + 1, 1, height_ratios=[3.3] * n + [1.5])
    first: Axes | None = None
    ends = [
        add_months(dt.date.fromisoformat(str(o)), int(h))
        for o, h in _columns(df, "origin", "horizon_months")
    ]
    until = record.start + dt.timedelta(days=float(record.until))
    last = max([until, *ends])
    gap = max(3, round(0.006 * (last - record.start).days))  # days between fans and whiskers
    withheld = False
    for i, quantity in enumerate(shown):
        ax = fig.add_subplot(grid[i], sharex=first)
        first = first or ax
        _fan_panel(ax, df[df["quantity"] == quantity], record, quantity, gap)
        withheld = withheld or bool(_record_curve(record, quantity)[2].any())
        if i < n - 1:
            ax.tick_params(labelbottom=False)
    if first is not None:
        right = last + dt.timedelta(days=2 * gap)
        first.set_xlim(float(mdates.date2num(record.start)), float(mdates.date2num(right)))
        date_axis(fig.axes[n - 1], record.start, last)
    _coverage_panel(fig.add_subplot(grid[n]), coverage_by_method(df))
    origins = df["origin"].nunique()
    fig.suptitle(
        f"Backtest: forecasts made at {origins} origins against the record "
        f"({Path(record.source).name}, to {until})",
        fontsize=12,
    )
    fig.legend(
        handles=_legend(withheld), loc="outside lower center", ncols=3, frameon=False, fontsize=8
    )
    return fig


def draw_backtest(scored: pd.DataFrame, record: Record, out: Path) -> list[str]:
    """Write ``fan.png`` and ``fan.svg`` (``backtest_figure``) into ``out``; returns the file
    names written."""
    written = save(backtest_figure(scored, record), Path(out) / "fan", formats=("png", "svg"))
    return [p.name for p in written]
