"""What one replication leaves behind: ``RunResult`` (flat records: outcomes, per-party rows,
events, talks, deals, time series, life tables) and the column names every consumer relies on
(``OUTCOME_COLUMNS``, ``PARTY_COLUMNS``: the output contract of ``runs.csv`` and
``parties.csv``). Plain Python and numpy, so the results floor can read them without the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.model.prisoners import Incidents
from sim.scenario.schema import Scenario

OUTCOME_COLUMNS = (
    "initial_held",
    "captured",
    "repatriated",
    "resettled",
    "died",
    "held_at_end",
    "died_avoiding_capture",
    "negotiations",
    "deals",
    "deals_collapsed",
    "offers",
    "first_deal_day",
    "mean_days_held",
    "exchanged",
    "humanitarian_released",
    "asylum_resettled",
    "talks_refused",
    "talks_no_channel",
    "talks_channel_busy",
    "breakdowns",
    "deadlines",
    "rounds_lost",
    "stages",
    "stages_slipped",
    "deals_cut_short",
    # neutral custody (sim.model.custody): handed = home + stayed + resettled + died + in custody
    "handed_to_custody",
    "custody_returned_home",
    "custody_stayed",
    "custody_resettled",
    "custody_died",
    "in_custody_at_end",
    # remains (sim.model.remains), never in the counts of people above:
    # initial + added = repatriated + held at end
    "remains_initial",
    "remains_added",
    "remains_repatriated",
    "remains_held_at_end",
    "remains_handovers",
)

PARTY_COLUMNS = (
    "party",
    "held",
    "taken",
    "repatriated_home",
    "given",
    "received",
    "ratio",
    "released_humanitarian",
    "died_in_custody",
    "own_died",
    "own_still_held",
    "handed_to_custody",
    "own_in_custody",
    "remains_given",
    "remains_received",
)


# per format state ("FORMAT.STATE"), summed over runs in formats.csv
FORMAT_COLUMNS = ("days", "entered", "deals", "moved")


@dataclass
class RunResult:
    """Flat records of one replication (no pandas): what the results layer consumes."""

    scenario: str
    seed: int
    replication: int
    horizon: float
    outcomes: dict[str, float]
    parties: list[dict[str, Any]]
    grid: np.ndarray
    held_series: dict[tuple[str, str], np.ndarray]
    repatriated_series: dict[str, np.ndarray]
    events: list[tuple[float, str, dict[str, Any]]]
    talks: list[dict[str, Any]]
    deals: list[dict[str, Any]]
    incidents: dict[str, Incidents] = field(default_factory=dict)
    prisoners: dict[str, np.ndarray] = field(default_factory=dict)
    # captivity life tables by (nationality, category): day-indexed counts of prisoners
    # entering observation (age at capture or at day 0), leaving it and still held at the end
    life_tables: dict[tuple[str, str], LifeTable] = field(default_factory=dict)
    # per channel (intermediary id or "direct"): talks, deals executed, collapsed, moved
    channels: dict[str, dict[str, int]] = field(default_factory=dict)
    # per format state ("FORMAT.STATE"): days in it, times entered, deals agreed in it and
    # the people those deals moved
    formats: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class LifeTable:
    """Counts by whole day of captivity (index = days since capture)."""

    entered: np.ndarray  # observation starts (0 for captures in the run; later if held at start)
    exited: np.ndarray  # left captivity (home, resettled or dead) on that day of captivity
    censored: np.ndarray  # still held at the horizon after that many days


def life_tables(
    cols: dict[str, np.ndarray],
    t_exit: np.ndarray,
    horizon: float,
    party_ids: list[str],
    categories: list[str],
) -> dict[tuple[str, str], LifeTable]:
    """Captivity durations as life tables (delayed entry for prisoners held at the start)."""
    present = cols["t_cap"] <= horizon
    t_cap = cols["t_cap"][present]
    end = np.minimum(t_exit[present], horizon)
    entry = np.floor(np.maximum(0.0, -t_cap)).astype(np.int64)
    days = np.floor(end - t_cap).astype(np.int64)
    event = t_exit[present] <= horizon
    nat, cat = cols["nat"][present], cols["cat"][present]
    out: dict[tuple[str, str], LifeTable] = {}
    if not len(days):
        return out
    size = int(max(days.max(), entry.max())) + 1
    codes, group = np.unique(nat.astype(np.int64) * 1000 + cat, return_inverse=True)
    cells = len(codes) * size
    # one bincount per column over (group, day) cells instead of one per group
    flat = group * size
    entered = np.bincount(flat + entry, minlength=cells).reshape(len(codes), size)
    exited = np.bincount((flat + days)[event], minlength=cells).reshape(len(codes), size)
    censored = np.bincount((flat + days)[~event], minlength=cells).reshape(len(codes), size)
    for g, code in enumerate(codes.tolist()):
        n, c = divmod(code, 1000)
        out[(party_ids[n], categories[c])] = LifeTable(entered[g], exited[g], censored[g])
    return out


def series_grid(horizon: float, max_points: int = 2000) -> np.ndarray:
    """Whole days from 0 to the horizon, thinned to at most ``max_points``."""
    step = max(1, int(np.ceil(horizon / max_points)))
    grid = np.arange(0.0, float(np.floor(horizon)) + 1.0, step)
    if grid[-1] < horizon:
        grid = np.append(grid, horizon)
    return grid


@dataclass
class Batch:
    """Results of replications ``0 .. n-1`` of one scenario at one seed."""

    scenario: Scenario
    seed: int
    runs: list[RunResult] = field(default_factory=list)

    @property
    def replications(self) -> int:
        return len(self.runs)
