"""Times derived from exposures: death and wish-change times from each prisoner's unit exposure
and the rates in force (so a timeline change uses up exposure at the old rates and continues at
the new ones), and exogenous exits (humanitarian release of the severely wounded, asylum).
"""

from __future__ import annotations

import numpy as np

from sim.model.prisoners import INF, MIN_RATE, REPATRIATED, RESETTLED, RETURN, STAY, PrisonerTable
from sim.scenario.schema import Scenario


# ---------------------------------------------------------------------- derived times
def apply_captivity(
    scn: Scenario, table: PrisonerTable, rows: np.ndarray | slice, t_from: float
) -> None:
    """(Re)compute death and wish-change times of ``rows`` from their unit exposures, counting
    exposure from ``max(t_from, t_cap, 0)``; earlier exposure must already be deducted."""
    c = table.cols
    hz = scn.captivity.death_hazard
    start = np.maximum(np.maximum(c["t_cap"][rows], t_from), 0.0)
    h = np.where(c["wounded"][rows], hz.wounded, hz.healthy)
    c["t_death"][rows] = start + _time_to_use(c["death_e"][rows], h)
    c["t_drift"][rows] = start + _time_to_use(c["drift_e"][rows], c["drift_rate"][rows])


def _time_to_use(exposure: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Days until ``exposure`` units are used up at ``rate`` per day (inf for rates below
    1e-12 per day, i.e. never within any horizon)."""
    rate = np.broadcast_to(rate, exposure.shape)
    out = np.full(exposure.shape, INF)
    live = rate > MIN_RATE
    out[live] = exposure[live] / rate[live]
    return out


def consume_exposure(
    scn: Scenario, table: PrisonerTable, rows: np.ndarray, since: float, t: float
) -> None:
    """Deduct exposure used from ``since`` (the last rebase) to ``t`` under the current rates,
    before the rates change at ``t``."""
    c = table.cols
    hz = scn.captivity.death_hazard
    start = np.maximum(np.maximum(c["t_cap"][rows], 0.0), since)
    used = np.maximum(t - start, 0.0)
    h = np.where(c["wounded"][rows], hz.wounded, hz.healthy)
    c["death_e"][rows] = c["death_e"][rows] - used * h
    c["drift_e"][rows] = c["drift_e"][rows] - used * c["drift_rate"][rows]


def drift_rates(scn: Scenario, table: PrisonerTable, rows: np.ndarray) -> None:
    """Per-prisoner wish-change rate from its source's drift, else the scenario default."""
    c = table.cols
    src = c["source"][rows]
    rates = np.full(len(src), scn.captivity.preference_drift.rate)
    for i, h in enumerate(scn.holdings):
        if h.preference_drift is not None:
            rates[src == -1 - i] = h.preference_drift.rate
    for i, s in enumerate(scn.capture_streams):
        if s.preference_drift is not None:
            rates[src == i] = s.preference_drift.rate
    c["drift_rate"][rows] = rates


def apply_exogenous(
    scn: Scenario,
    table: PrisonerTable,
    party_flags: tuple[np.ndarray, ...],
    rows: np.ndarray | slice,
    t_from: float,
) -> None:
    """(Re)compute exogenous exits: humanitarian release of the severely wounded by holders that
    do it, and asylum granted by holders that offer it to prisoners who wish to stay. A release
    whose time has passed when a holder adopts the policy happens at ``t_from``."""
    humanitarian, asylum, honours = party_flags
    c = table.cols
    if not humanitarian.any() and not asylum.any():  # nobody releases or resettles anyone
        c["t_exo"][rows] = INF
        return
    holder = c["holder"][rows]
    t_cap = np.maximum(c["t_cap"][rows], 0.0)
    t_drift = c["t_drift"][rows]
    pref0, pref1 = c["pref0"][rows], c["pref1"][rows]
    # humanitarian release
    t_h = t_cap + c["hum_delay"][rows]
    pref_h = np.where(t_drift <= t_h, pref1, pref0)
    ok_h = c["severe"][rows] & humanitarian[holder] & ((pref_h == RETURN) | ~honours[holder])
    # asylum for those who wish to stay, from when they wish it
    # a wish to resettle with the holder itself is a wish to stay
    stay0 = (pref0 == STAY) | (pref0 == 2 + holder)
    stay1 = (pref1 == STAY) | (pref1 == 2 + holder)
    t_stay = np.where(stay0, t_cap, np.where(stay1, t_drift, INF))
    t_a = t_stay + c["asy_delay"][rows]
    still = np.where(stay0, stay1 | (t_drift > t_a), True)
    ok_a = asylum[holder] & np.isfinite(t_stay) & still
    th = np.where(ok_h, np.maximum(t_h, t_from), INF)
    ta = np.where(ok_a, np.maximum(t_a, t_from), INF)
    c["t_exo"][rows] = np.minimum(th, ta)
    c["exo_fate"][rows] = np.where(th <= ta, REPATRIATED, RESETTLED)
