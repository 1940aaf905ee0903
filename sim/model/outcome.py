"""What a finished replication leaves behind, read off the simulation's final state.

``build_result`` turns the prisoner table, the counters and the talks and deals records of one
replication into a ``RunResult`` (``sim.model.records``): outcome counts, per-party accounting,
the time series and life tables, per channel and per format state. It reads the simulation
through ``Finished``, the few attributes it needs, so it stays below the simulation that runs it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol

import numpy as np

from sim.model.prisoners import (
    DIED,
    HELD,
    IN_CUSTODY,
    REPATRIATED,
    RESETTLED,
    Incidents,
    PrisonerTable,
)
from sim.model.records import (
    FORMAT_COLUMNS,
    PARTY_COLUMNS,
    RunResult,
    life_tables,
    series_grid,
)
from sim.model.remains_ledger import RemainsLedger
from sim.model.world import Talks
from sim.scenario.phases import PhaseBook
from sim.scenario.schema import Scenario


class Finished(Protocol):
    """What ``build_result`` reads of a finished ``Simulation``."""

    base: Scenario
    seed: int
    replication: int
    party_ids: list[str]
    n_parties: int
    table: PrisonerTable
    remains: RemainsLedger
    incidents: dict[str, Incidents]
    counters: defaultdict[str, int]
    events: list[tuple[float, str, dict[str, Any]]]
    talks: list[Talks]
    deals: list[dict[str, Any]]
    first_deal_day: float | None
    keep_prisoners: bool
    book: PhaseBook
    format_log: list[tuple[float, int, int]]


def build_result(sim: Finished, horizon: float) -> RunResult:
    """The records of a finished replication (outcome counts, per-party accounting, series,
    life tables, channels, formats)."""
    tab = sim.table
    c = tab.cols
    census = tab.census(horizon)
    t_exit = tab.t_exit()
    fate = tab.fates(horizon)
    present = c["t_cap"] <= horizon
    by_deal = present & (t_exit <= horizon) & (c["t_deal"] == t_exit) & (fate != DIED)
    by_exo = present & (t_exit <= horizon) & (c["t_exo"] == t_exit) & (fate != DIED) & ~by_deal
    # handed to neutral custody (only prisoners still held are: custody is their first exit)
    by_cust = present & (c["t_cust"] <= horizon)
    stayed = (fate == RESETTLED) & (c["cust_dest"] == c["holder"])
    rem = sim.remains.census(horizon)
    days = np.minimum(t_exit, horizon) - c["t_cap"]
    sd = sum(int(inc.self_destructed.sum()) for inc in sim.incidents.values())
    out: dict[str, float] = {
        "initial_held": census["initial_held"],
        "captured": census["captured"],
        "repatriated": census["repatriated"],
        "resettled": census["resettled"],
        "died": census["died"],
        "held_at_end": census["held"],
        "died_avoiding_capture": sd,
        "negotiations": sim.counters["negotiations"],
        "deals": sim.counters["deals"],
        "deals_collapsed": sim.counters["deals_collapsed"],
        "offers": sim.counters["offers"],
        "first_deal_day": float("nan") if sim.first_deal_day is None else sim.first_deal_day,
        "mean_days_held": float(days[present].mean()) if present.any() else float("nan"),
        "exchanged": int(by_deal.sum()),
        "humanitarian_released": int((by_exo & (c["exo_fate"] == REPATRIATED)).sum()),
        "asylum_resettled": int((by_exo & (c["exo_fate"] == RESETTLED)).sum()),
        "talks_refused": sim.counters["talks_refused"],
        "talks_no_channel": sim.counters["talks_no_channel"],
        "talks_channel_busy": sim.counters["talks_channel_busy"],
        "breakdowns": sim.counters["breakdowns"],
        "deadlines": sim.counters["deadlines"],
        "rounds_lost": sim.counters["rounds_lost"],
        "stages": sim.counters["stages"],
        "stages_slipped": sim.counters["stages_slipped"],
        "deals_cut_short": sim.counters["deals_cut_short"],
        "handed_to_custody": int(by_cust.sum()),
        "custody_returned_home": int((by_cust & (fate == REPATRIATED)).sum()),
        "custody_stayed": int((by_cust & stayed).sum()),
        "custody_resettled": int((by_cust & (fate == RESETTLED) & ~stayed).sum()),
        "custody_died": int((by_cust & (fate == DIED)).sum()),
        "in_custody_at_end": census["in_custody"],
        "remains_initial": rem["initial"],
        "remains_added": rem["added"],
        "remains_repatriated": rem["repatriated"],
        "remains_held_at_end": rem["held"],
        "remains_handovers": sim.remains.handovers(),
    }
    holder, nat = c["holder"], c["nat"]
    n = sim.n_parties

    def per(by: np.ndarray, mask: np.ndarray) -> list[int]:
        return np.bincount(by[mask], minlength=n).tolist()

    held_now = present & (fate == HELD)
    died_now = present & (fate == DIED)
    hum = by_exo & (c["exo_fate"] == REPATRIATED)
    cols = {
        "held": per(holder, held_now),
        "taken": per(holder, present & (c["source"] >= 0)),
        "repatriated_home": per(nat, present & (fate == REPATRIATED)),
        "given": per(holder, by_deal),
        "received": per(c["dest"], by_deal),
        "released_humanitarian": per(holder, hum),
        "died_in_custody": per(holder, died_now & ~by_cust),  # held by it, not neutral custody
        "own_died": per(nat, died_now),
        "own_still_held": per(nat, held_now),
        "handed_to_custody": per(holder, by_cust),
        "own_in_custody": per(nat, present & (fate == IN_CUSTODY)),
        **sim.remains.by_party(n),
    }
    parties = []
    for q, pid in enumerate(sim.party_ids):
        row: dict[str, Any] = {"party": pid, **{k: v[q] for k, v in cols.items()}}
        given, received = row["given"], row["received"]
        row["ratio"] = received / given if given else float("nan")
        parties.append({k: row[k] for k in PARTY_COLUMNS})
    grid = series_grid(horizon)
    held_series: dict[tuple[str, str], np.ndarray] = {}
    rep_series: dict[str, np.ndarray] = {}
    exit_c = np.where(t_exit <= horizon, t_exit, np.inf)
    for h in range(sim.n_parties):
        for n in range(sim.n_parties):
            g = (holder == h) & (nat == n)
            if not g.any():
                continue
            caps = np.sort(c["t_cap"][g])
            exits = np.sort(exit_c[g])
            held_series[(sim.party_ids[h], sim.party_ids[n])] = (
                np.searchsorted(caps, grid, "right") - np.searchsorted(exits, grid, "right")
            ).astype(np.int64)
    t_home = np.where(by_cust, c["t_cust_end"], t_exit)  # from custody: when the period ends
    for n in range(sim.n_parties):
        g = (nat == n) & (fate == REPATRIATED) & present
        if not (nat == n).any():
            continue
        rep_series[sim.party_ids[n]] = np.searchsorted(np.sort(t_home[g]), grid, "right").astype(
            np.int64
        )
    tables = life_tables(c, t_exit, horizon, sim.party_ids, sim.table.categories)
    channels: dict[str, dict[str, int]] = {}
    for tk in sim.talks:
        row = channels.setdefault(tk.channel, {"talks": 0, "deals": 0, "collapsed": 0, "moved": 0})
        row["talks"] += 1
    for d in sim.deals:
        row = channels.setdefault(
            d["channel"], {"talks": 0, "deals": 0, "collapsed": 0, "moved": 0}
        )
        if d["outcome"] in ("executed", "collapsed"):  # not a deal still in stages
            row["deals" if d["outcome"] == "executed" else "collapsed"] += 1
        row["moved"] += int(d["moved"])
    talks = [
        {
            "talks": tk.id,
            "parties": [sim.party_ids[q] for q in tk.parties],
            "initiator": sim.party_ids[tk.initiator],
            "channel": tk.channel,
            "opened": tk.opened,
            "closed": tk.closed if tk.closed is not None else horizon,
            "outcome": tk.outcome,
            "rounds": tk.rounds,
            "offers": tk.offers,
            "lost": tk.lost,
            "deal": tk.deal_id,
        }
        for tk in sim.talks
    ]
    prisoners: dict[str, np.ndarray] = {}
    if sim.keep_prisoners:
        prisoners = {k: v.copy() for k, v in c.items()}
        prisoners["fate"] = fate
        prisoners["t_exit"] = t_exit
    return RunResult(
        scenario=sim.base.name,
        seed=sim.seed,
        replication=sim.replication,
        horizon=horizon,
        outcomes=out,
        parties=parties,
        grid=grid,
        held_series=held_series,
        repatriated_series=rep_series,
        events=sim.events,
        talks=talks,
        deals=sim.deals,
        incidents=sim.incidents,
        prisoners=prisoners,
        life_tables=tables,
        channels=channels,
        formats=format_accounts(sim, horizon),
    )


def format_accounts(sim: Finished, horizon: float) -> dict[str, dict[str, float]]:
    """Per format state: days spent in it, times entered, and the deals agreed while it held
    (executed by the horizon) with the people they moved."""
    out: dict[str, dict[str, float]] = {}
    executed = [d for d in sim.deals if d.get("outcome") == "executed"]
    for i, fmt in enumerate(sim.book.formats):
        rows = [dict.fromkeys(FORMAT_COLUMNS, 0.0) for _ in fmt.states]
        spans = [(0.0, sim.book.initial[i])] + [(t, s) for t, f, s in sim.format_log if f == i]
        rows[spans[0][1]]["entered"] += 1
        for (t0, s), (t1, _) in zip(spans, [*spans[1:], (horizon, -1)], strict=True):
            rows[s]["days"] += max(0.0, min(t1, horizon) - t0)
        for _, s in spans[1:]:
            rows[s]["entered"] += 1
        starts = [t for t, _ in spans]
        for d in executed:
            k = int(np.searchsorted(starts, d["agreed"], side="right")) - 1
            rows[spans[k][1]]["deals"] += 1
            rows[spans[k][1]]["moved"] += d["moved"]
        for state, row in zip(fmt.states, rows, strict=True):
            out[f"{fmt.id}.{state.id}"] = row
    return out
