"""Calibration targets: observed summary statistics of an exchange history, and the same
statistics computed from one simulated run.

A ``Target`` is one observed quantity, in four kinds:

``cumulative_returned``  people handed over to ``party`` in executed deals, counted by each
                         observation date (the official "N returned so far" series);
``cumulative_deals``     executed deals by each observation date (the "exchange no. N" series);
                         a deal carried out in stages counts when its last stage is done;
``cumulative_stages``    stages handed over by each date (what the press reports as swaps: a
                         deal at once is one stage);
``sizes``                people handed over to ``party`` per deal, for deals in a date window,
                         summarised by quantiles (default quartiles);
``gaps``                 days between consecutive deals in a date window, by quantiles (and
                         the longest gap with quantile 1.0).

Forecasts and backtests also use two one-number kinds over a window (``WINDOW_KINDS``):
``largest`` (the most people one deal handed to ``party``) and ``longest_gap`` (the longest
stretch without a deal, from the window's first day to the end of its last).

People count on the day they cross, so a staged deal's people count stage by stage.

``run_statistics`` turns a simulated ``RunResult`` into the vector that ``observed_vector``
gives for the record, stat by stat (``stat_names``), so the two can be compared. Pure numpy:
this runs inside workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.model.records import RunResult

KINDS = ("cumulative_returned", "cumulative_deals", "cumulative_stages", "sizes", "gaps")
# one number per run over a window, for forecasts and backtests (not read from observation
# files): the largest deal's people to ``party``; the longest stretch of the window without a
# deal, counted from its first day and to the end of its last
WINDOW_KINDS = ("largest", "longest_gap")
CUMULATIVE = ("cumulative_returned", "cumulative_deals", "cumulative_stages")
DEFAULT_QUANTILES = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class Target:
    """One observed target. Days count from the scenario's start date."""

    id: str
    kind: str
    party: str | None = None
    # cumulative kinds: observation days, their dates (labels) and observed values
    days: tuple[float, ...] = ()
    dates: tuple[str, ...] = ()
    # cumulative kinds: the values at ``days``; sizes / gaps: the observed sample
    observed: tuple[float, ...] = ()
    # sizes / gaps: deals on the days ``window[0] .. window[1]`` (whole days, inclusive)
    window: tuple[float, float] = (-np.inf, np.inf)
    window_dates: tuple[str, str] = ("", "")
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    source: str = ""

    @property
    def cumulative(self) -> bool:
        return self.kind in CUMULATIVE

    @property
    def stat_names(self) -> list[str]:
        if self.cumulative:
            return [f"{self.id}@{d}" for d in self.dates]
        if self.kind in WINDOW_KINDS:
            return [self.id]
        return [f"{self.id}:{quantile_label(q)}" for q in self.quantiles]

    def observed_stats(self) -> np.ndarray:
        if self.cumulative or self.kind in WINDOW_KINDS:
            return np.asarray(self.observed, dtype=float)
        return np.quantile(np.asarray(self.observed, dtype=float), self.quantiles)


def quantile_label(q: float) -> str:
    if q == 1.0:
        return "max"
    if q == 0.0:
        return "min"
    return f"q{round(q * 100):02d}"


def _received(units: Sequence[Sequence[Sequence[object]]]) -> dict[str, np.ndarray]:
    """People received per party, unit by unit (a unit: a list of transfer lines)."""
    received: dict[str, np.ndarray] = {}
    for i, lines in enumerate(units):
        for holder, _nat, dest, k in lines:
            if dest == holder:
                continue
            arr = received.setdefault(str(dest), np.zeros(len(units)))
            arr[i] += float(k)  # type: ignore[arg-type]
    return received


@dataclass(frozen=True)
class DealHistory:
    """The executed deals of one run: their days and how many each party received, deal by
    deal, and the same stage by stage (a deal carried out at once is one stage)."""

    days: np.ndarray
    received: dict[str, np.ndarray]
    stage_days: np.ndarray
    stage_received: dict[str, np.ndarray]

    @classmethod
    def of(cls, res: RunResult) -> DealHistory:
        executed = [d for d in res.deals if d.get("outcome") == "executed"]
        executed.sort(key=lambda d: d["day"])
        days = np.array([d["day"] for d in executed], dtype=float)
        # stages: of executed deals, and of deals still in stages at the horizon
        moving = [d for d in res.deals if d.get("outcome") in ("executed", "in_stages")]
        stages = sorted(
            (stage for d in moving for stage in d.get("stages", [(d["day"], d["transfers"])])),
            key=lambda s: s[0],
        )
        return cls(
            days,
            _received([d.get("transfers", ()) for d in executed]),
            np.array([day for day, _ in stages], dtype=float),
            _received([lines for _, lines in stages]),
        )

    def to(self, party: str | None) -> np.ndarray:
        if party is None:
            return np.zeros(len(self.days))
        return self.received.get(party, np.zeros(len(self.days)))

    def stages_to(self, party: str | None) -> np.ndarray:
        if party is None:
            return np.zeros(len(self.stage_days))
        return self.stage_received.get(party, np.zeros(len(self.stage_days)))


def by_end_of(times: np.ndarray, days: np.ndarray) -> np.ndarray:
    """How many of the sorted ``times`` fall by the end of each whole day in ``days`` (a deal
    at time 311.4 is on day 311, and a total reported on a date includes that date's deals)."""
    return np.searchsorted(times, np.floor(days) + 1.0, side="left")


def _cumulative(target: Target, hist: DealHistory, days: np.ndarray) -> np.ndarray:
    if target.kind == "cumulative_deals":
        return by_end_of(hist.days, days).astype(float)
    if target.kind == "cumulative_stages":
        return by_end_of(hist.stage_days, days).astype(float)
    total = np.concatenate([[0.0], np.cumsum(hist.stages_to(target.party))])
    return total[by_end_of(hist.stage_days, days)]


def target_statistics(target: Target, hist: DealHistory) -> np.ndarray:
    """The target's statistics for one run (NaN where the run has too few deals)."""
    if target.cumulative:
        return _cumulative(target, hist, np.asarray(target.days, dtype=float))
    if target.kind in WINDOW_KINDS:
        return np.array([window_statistic(target, hist)])
    sample = target_sample(target, hist)
    if len(sample) == 0:
        return np.full(len(target.quantiles), np.nan)
    return np.quantile(sample, target.quantiles)


def target_sample(target: Target, hist: DealHistory) -> np.ndarray:
    """A distribution target's simulated sample (sizes or gaps) in the window."""
    lo, hi = target.window
    inside = (hist.days >= lo) & (hist.days < hi + 1)  # whole days, like the dates
    if target.kind == "sizes":
        sizes = hist.to(target.party)[inside]
        return sizes[sizes > 0]
    if target.kind == "gaps":
        return np.diff(hist.days[inside])
    raise ValueError(f"{target.kind} has no sample")


def window_statistic(target: Target, hist: DealHistory) -> float:
    """``largest`` or ``longest_gap`` over the window's whole days ``lo .. hi`` (deals on day
    ``d`` happen during ``[d, d + 1)``)."""
    lo, hi = target.window
    inside = (hist.days >= lo) & (hist.days < hi + 1)
    if target.kind == "largest":
        sizes = hist.to(target.party)[inside]
        return float(sizes.max()) if len(sizes) else 0.0
    edges = np.concatenate([[lo], np.floor(hist.days[inside]), [hi + 1]])
    return float(np.diff(edges).max())


def stat_names(targets: Sequence[Target]) -> list[str]:
    return [name for t in targets for name in t.stat_names]


def stat_groups(targets: Sequence[Target]) -> np.ndarray:
    """For every statistic, the index of its target."""
    return np.concatenate(
        [np.full(len(t.stat_names), i, dtype=np.int64) for i, t in enumerate(targets)]
    )


def observed_vector(targets: Sequence[Target]) -> np.ndarray:
    return np.concatenate([t.observed_stats() for t in targets])


def run_statistics(res: RunResult, targets: Sequence[Target]) -> np.ndarray:
    """Every target's statistics for one run, in ``stat_names`` order."""
    hist = DealHistory.of(res)
    return np.concatenate([target_statistics(t, hist) for t in targets])


def cumulative_curve(target: Target, hist: DealHistory, grid: np.ndarray) -> np.ndarray:
    """A cumulative target's value on every day of ``grid`` (for plotting bands)."""
    return _cumulative(target, hist, grid)
