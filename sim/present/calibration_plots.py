"""The figure of a calibration (``fit.png``): the fitted scenario's simulated bands against the
observed record, and the posterior of every fitted parameter.

Panels, three to a row: one per cumulative target (observed points over the 50% and 90% bands
of the check runs, by date; points outside the 90% band in red), one per distribution target
(observed empirical CDF against the pooled simulated one, with the 90% band of the runs'
CDFs), then one per parameter (weighted posterior histogram over the flat prior, the fitted
value and the scenario's value before the fit). Built with the object-oriented API and the
shared look of ``sim.present.style``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.present.style import PALETTE, date_axis, thousands
from sim.results.targets import Target
from sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sim.fit.checkrun import Check

SIM, OBS, MISS, FIT, BEFORE = PALETTE[0], "#000000", PALETTE[1], PALETTE[1], "0.45"


def calibration_figure(
    targets: Sequence[Target],
    chk: Check,
    table: pd.DataFrame,
    posterior: pd.DataFrame,
    fit: pd.DataFrame,
    base: Scenario,
    *,
    ncols: int = 3,
) -> Figure:
    n = len(targets) + len(fit)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(5.0 * ncols, 3.6 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    i = 0
    for t in targets:
        rows = table[table["target"] == t.id]
        if t.cumulative:
            _cumulative_panel(axes[i], t, chk, rows, base.start_date)
        else:
            _distribution_panel(axes[i], t, chk, rows)
        i += 1
    for _, row in fit.iterrows():
        _posterior_panel(axes[i], row, posterior)
        i += 1
    for ax in axes[i:]:
        ax.set_visible(False)
    handles = [
        Patch(color=SIM, alpha=0.18, label="simulated 90% band (p05–p95)"),
        Patch(color=SIM, alpha=0.4, label="simulated 50% band (p25–p75)"),
        Line2D([], [], color=SIM, label="simulated median / pooled"),
        Line2D([], [], color=OBS, marker="o", ls="", label="observed, inside the 90% band"),
        Line2D([], [], color=MISS, marker="X", ls="", label="observed, outside"),
        Line2D([], [], color=FIT, lw=2, label="fitted value"),
        Line2D([], [], color=BEFORE, ls=":", label="value before the fit"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False)
    fig.suptitle(
        f"{base.name}: the fitted scenario ({chk.stats.shape[0]} runs) against the record",
        fontsize=12,
    )
    return fig


def _cumulative_panel(ax: Axes, t: Target, chk: Check, rows: pd.DataFrame, start: dt.date) -> None:
    curves = chk.curves[t.id]
    x = pd.to_datetime(start) + pd.to_timedelta(chk.grid, unit="D")
    q05, q25, q50, q75, q95 = np.quantile(curves, (0.05, 0.25, 0.5, 0.75, 0.95), axis=0)
    ax.fill_between(x, q05, q95, color=SIM, alpha=0.18, lw=0)
    ax.fill_between(x, q25, q75, color=SIM, alpha=0.4, lw=0)
    ax.plot(x, q50, color=SIM, lw=1.5)
    dates = pd.to_datetime(list(t.dates))
    obs = np.asarray(t.observed)
    inside = rows["inside_90"].to_numpy(dtype=bool)
    ax.plot(dates[inside], obs[inside], "o", color=OBS, ms=4, zorder=3)
    ax.plot(dates[~inside], obs[~inside], "X", color=MISS, ms=7, zorder=3)
    what, unit = {
        "cumulative_deals": ("deals", "deals"),
        "cumulative_stages": ("stages of deals", "stages"),
    }.get(t.kind, (f"returned to {t.party}", "people"))
    ax.set_title(
        f"{t.id}: {what}\n{int(inside.sum())} of {len(inside)} observed inside the 90% band"
    )
    ax.set_ylabel(f"cumulative {unit}")
    date_axis(ax, x[0], x[-1])
    thousands(ax)


def _ecdf(values: np.ndarray, x: np.ndarray) -> np.ndarray:
    v = np.sort(values)
    return np.searchsorted(v, x, side="right") / max(len(v), 1)


def _distribution_panel(ax: Axes, t: Target, chk: Check, rows: pd.DataFrame) -> None:
    runs = [s for s in chk.samples[t.id] if len(s)]
    pooled = np.concatenate(runs) if runs else np.empty(0)
    obs = np.asarray(t.observed, dtype=float)
    top = max(float(np.quantile(pooled, 0.99)) if len(pooled) else 1.0, float(obs.max()))
    x = np.linspace(0.0, top * 1.05, 300)
    if runs:
        each = np.array([_ecdf(s, x) for s in runs])
        lo, hi = np.quantile(each, (0.05, 0.95), axis=0)
        ax.fill_between(x, lo, hi, color=SIM, alpha=0.18, lw=0, step="post")
        ax.step(x, _ecdf(pooled, x), where="post", color=SIM, lw=1.5)
    ax.step(x, _ecdf(obs, x), where="post", color=OBS, lw=1.5)
    window = " to ".join(d for d in t.window_dates if d) or "whole run"
    unit = "days between deals" if t.kind == "gaps" else f"people returned to {t.party} per deal"
    med = rows[rows["statistic"].str.endswith(":q50")]
    note = ""
    if len(med):
        r = med.iloc[0]
        note = f"\nmedian observed {r['observed']:.0f}, simulated {r['simulated_median']:.0f}"
    ax.set_title(f"{t.id} ({window}, n={len(obs)}){note}")
    ax.set_xlabel(unit)
    ax.set_ylabel("share at or below")
    ax.set_ylim(0, 1.02)


def _posterior_panel(ax: Axes, row: pd.Series, posterior: pd.DataFrame) -> None:
    path = str(row["parameter"])
    lo, hi = float(row["prior_low"]), float(row["prior_high"])
    values = posterior[path].to_numpy(dtype=float)
    w = posterior["weight"].to_numpy(dtype=float)
    bins = np.linspace(lo, hi, 21).tolist()
    ax.hist(values, bins=bins, weights=w, density=True, color=SIM, alpha=0.6)
    ax.axhline(1.0 / (hi - lo), color=BEFORE, ls="--", lw=1)
    ax.axvline(float(row["fitted"]), color=FIT, lw=2)
    before = row.get("before")
    if isinstance(before, int | float) and not isinstance(before, bool) and lo <= before <= hi:
        ax.axvline(float(before), color=BEFORE, ls=":", lw=1.5)
    ax.set_title(
        f"{_short(path)}\nfitted {row['fitted']:.4g}, 90% credible "
        f"{row['credible_05']:.3g}–{row['credible_95']:.3g}"
    )
    ax.set_xlim(lo, hi)
    ax.set_ylabel("posterior density (dashed: prior)")


def _short(path: str, width: int = 48) -> str:
    return path if len(path) <= width else "…" + path[-(width - 1) :]
