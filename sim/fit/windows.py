"""What a backtest forecasts at one origin, and what the record says happened: the quantities
of every window ``[origin, origin + h months)``, for the model (as targets measured on each
run) and for the record and the baselines (measured on its handovers and deals).

Quantities, per window:

``returned_P``   people handed to party P (stage by stage, the day they cross);
``deals``        deals carried out (a deal in stages counts when its last stage is done);
``stages``       handovers (what the press reports as swaps: a deal at once is one stage);
``largest_P``    the most people one deal handed to P (0 if no deal);
``longest_gap``  the longest stretch without a deal, from the origin to the window's end.

A window is scored only where the record covers it (it ends by the record's last day), and a
people quantity only where no handover in it withheld its numbers.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.fit import baselines
from sim.fit.record import Record
from sim.results.targets import Target


def add_months(d: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day if it has fewer days)."""
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def origins_between(first: dt.date, last: dt.date, every: int) -> list[dt.date]:
    """Origins from ``first`` every ``every`` months up to ``last``."""
    out, k = [], 0
    while (d := add_months(first, k * every)) <= last:
        out.append(d)
        k += 1
    return out


@dataclass(frozen=True)
class Window:
    """Days ``lo .. hi`` (whole days since the scenario's start, both included)."""

    origin: dt.date
    months: int
    lo: float
    hi: float

    @property
    def label(self) -> str:
        return f"{self.months}m"

    @property
    def days(self) -> float:
        return self.hi + 1 - self.lo


def window(start: dt.date, origin: dt.date, months: int) -> Window:
    end = add_months(origin, months)
    return Window(origin, months, float((origin - start).days), float((end - start).days) - 1)


def quantity_names(parties: Sequence[str]) -> list[str]:
    return (
        [f"returned_{p}" for p in parties]
        + ["deals", "stages"]
        + [f"largest_{p}" for p in parties]
        + ["longest_gap"]
    )


def forecast_targets(parties: Sequence[str], windows: Sequence[Window]) -> list[Target]:
    """The model's side: one target per quantity and window, in ``quantity_names`` order per
    window (a cumulative count taken the day before the window and on its last day)."""
    out: list[Target] = []
    for w in windows:
        ends = (w.lo - 1, w.hi)
        dates = ("before", "end")
        tag = w.label
        out += [
            Target(f"returned_{p}_{tag}", "cumulative_returned", party=p, days=ends, dates=dates)
            for p in parties
        ]
        out.append(Target(f"deals_{tag}", "cumulative_deals", days=ends, dates=dates))
        out.append(Target(f"stages_{tag}", "cumulative_stages", days=ends, dates=dates))
        out += [
            Target(f"largest_{p}_{tag}", "largest", party=p, window=(w.lo, w.hi)) for p in parties
        ]
        out.append(Target(f"longest_gap_{tag}", "longest_gap", window=(w.lo, w.hi)))
    return out


def model_quantities(stats: np.ndarray, parties: Sequence[str], n_windows: int) -> np.ndarray:
    """Per run, the quantities of every window from the statistics of ``forecast_targets``:
    (runs, windows, quantities)."""
    k = len(parties)
    per_window = 2 * k + 2 * 2 + k + 1  # statistics per window
    out = np.empty((stats.shape[0], n_windows, len(quantity_names(parties))))
    for w in range(n_windows):
        s = stats[:, w * per_window : (w + 1) * per_window]
        counts = s[:, 1 : 2 * (k + 2) : 2] - s[:, 0 : 2 * (k + 2) : 2]  # returned, deals, stages
        out[:, w, : k + 2] = counts
        out[:, w, k + 2 :] = s[:, 2 * (k + 2) :]
    return out


def record_quantities(record: Record, w: Window) -> tuple[np.ndarray, list[str]]:
    """The record's value of every quantity in window ``w`` (NaN where it is not scored) and,
    per quantity, why not ("" if scored)."""
    names = quantity_names(record.parties)
    k = len(record.parties)
    if w.hi > record.until:
        return np.full(len(names), np.nan), ["record ends before the window"] * len(names)
    o, h = w.lo, w.days
    deals = baselines.observed(record.deal_days, np.nan_to_num(record.deal_sizes), o, h)
    stage_in = (record.stage_days >= o) & (record.stage_days < o + h)
    deal_in = (record.deal_days >= o) & (record.deal_days < o + h)
    withheld = np.isnan(record.stage_sizes[stage_in]).any(axis=0)  # per party
    withheld_deal = np.isnan(record.deal_sizes[deal_in]).any(axis=0)
    values = [
        *np.nansum(record.stage_sizes[stage_in], axis=0).tolist(),
        float(deal_in.sum()),
        float(stage_in.sum()),
        *np.asarray(deals.largest, dtype=float).reshape(k).tolist(),
        float(deals.longest_gap),
    ]
    why = [""] * len(names)
    for q in range(k):
        if withheld[q]:
            why[q] = "a handover in the window withheld its numbers"
        if withheld_deal[q]:
            why[k + 2 + q] = "a deal in the window withheld its numbers"
    out = np.array(values, dtype=float)
    out[[bool(r) for r in why]] = np.nan
    return out, why


def baseline_quantities(
    record: Record, w: Window, rule: str, n: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` samples of every quantity from a rule of thumb (``persistence`` or
    ``climatology``) on the record known at the origin: (n, quantities). Deals give people,
    the largest deal and the gaps; handovers give the stage count. A size withheld in the
    record is taken as the median of the known sizes before the origin."""
    known = record.before(w.lo)
    first = min(float(known.stage_days[0]), 0.0) if len(known.stage_days) else 0.0

    def run(days: np.ndarray, sizes: np.ndarray) -> baselines.BaselineForecast:
        sizes = _impute(sizes)
        if rule == "persistence":
            return baselines.persistence(days, sizes, w.lo, w.days, n, rng)
        return baselines.climatology(days, sizes, w.lo, w.days, n, rng, start=first)

    k = len(record.parties)
    by_deal = run(known.deal_days, known.deal_sizes).samples
    by_stage = run(known.stage_days, known.stage_sizes).samples
    out = np.empty((n, len(quantity_names(record.parties))))
    out[:, :k] = np.asarray(by_stage.people).reshape(n, k)
    out[:, k] = np.asarray(by_deal.events)
    out[:, k + 1] = np.asarray(by_stage.events)
    out[:, k + 2 : 2 * k + 2] = np.asarray(by_deal.largest).reshape(n, k)
    out[:, 2 * k + 2] = np.asarray(by_deal.longest_gap)
    return out


def _impute(sizes: np.ndarray) -> np.ndarray:
    out = np.array(sizes, dtype=float, copy=True)
    for j in range(out.shape[1]):
        col = out[:, j]
        bad = np.isnan(col)
        if bad.any():
            col[bad] = float(np.median(col[~bad])) if (~bad).any() else 0.0
    return out
