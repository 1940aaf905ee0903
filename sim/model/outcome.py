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


def _exits(
    c: dict[str, np.ndarray], t_exit: np.ndarray, fate: np.ndarray, horizon: float
) -> dict[str, np.ndarray]:
    """How each prisoner left its holder by the horizon (masks): by a deal, an exogenous exit
    (humanitarian release, asylum) or a handover to neutral custody (only prisoners still held
    are handed over: custody is their first exit); and whether a custody choice was to stay."""
    present = c["t_cap"] <= horizon
    gone = present & (t_exit <= horizon) & (fate != DIED)
    by_deal = gone & (c["t_deal"] == t_exit)
    by_exo = gone & (c["t_exo"] == t_exit) & ~by_deal
    by_cust = present & (c["t_cust"] <= horizon)
    stayed = (fate == RESETTLED) & (c["cust_dest"] == c["holder"])
    return {
        "present": present,
        "by_deal": by_deal,
        "by_exo": by_exo,
        "by_cust": by_cust,
        "stayed": stayed,
    }


# the axes of ``_tally``: holder, nationality, fate, exit route (deal, exogenous, custody as
# bits), taken by a capture stream (not held at the start), stayed (custody), exogenous fate
_ROUTES, _FATES = 8, 5


def _tally(c: dict[str, np.ndarray], fate: np.ndarray, ex: dict[str, np.ndarray], n: int) -> Any:
    """Present prisoners counted by every distinction the outcomes and party accounts use, in
    one ``bincount``: an array indexed [holder, nationality, fate, route, taken, stayed,
    exogenous fate]."""
    route = ex["by_deal"] * 1 + ex["by_exo"] * 2 + ex["by_cust"] * 4
    code = c["holder"].astype(np.int64) * n + c["nat"]
    code = code * _FATES + fate
    code = code * _ROUTES + route
    code = code * 2 + (c["source"] >= 0)
    code = code * 2 + ex["stayed"]
    code = code * 3 + c["exo_fate"]  # HELD (none), REPATRIATED or RESETTLED
    shape = (n, n, _FATES, _ROUTES, 2, 2, 3)
    return np.bincount(code[ex["present"]], minlength=int(np.prod(shape))).reshape(shape)


def _route(t: Any, bit: int) -> Any:
    """The cells of tally ``t`` whose exit route has ``bit`` set."""
    return t[:, :, :, [r for r in range(_ROUTES) if r & bit]]


def build_result(sim: Finished, horizon: float) -> RunResult:
    """The records of a finished replication (outcome counts, per-party accounting, series,
    life tables, channels, formats)."""
    tab = sim.table
    c = tab.cols
    t_exit = tab.t_exit()
    fate = tab.fates(horizon, t_exit)
    census = tab.census(horizon, fate, cross_check=False)
    ex = _exits(c, t_exit, fate, horizon)
    present, by_deal, by_cust = ex["present"], ex["by_deal"], ex["by_cust"]
    n = sim.n_parties
    t = _tally(c, fate, ex, n)
    deal_t, exo_t, cust_t = _route(t, 1), _route(t, 2), _route(t, 4)
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
        "exchanged": int(deal_t.sum()),
        "humanitarian_released": int(exo_t[..., REPATRIATED].sum()),
        "asylum_resettled": int(exo_t[..., RESETTLED].sum()),
        "talks_refused": sim.counters["talks_refused"],
        "talks_no_channel": sim.counters["talks_no_channel"],
        "talks_channel_busy": sim.counters["talks_channel_busy"],
        "breakdowns": sim.counters["breakdowns"],
        "deadlines": sim.counters["deadlines"],
        "rounds_lost": sim.counters["rounds_lost"],
        "stages": sim.counters["stages"],
        "stages_slipped": sim.counters["stages_slipped"],
        "deals_cut_short": sim.counters["deals_cut_short"],
        "handed_to_custody": int(cust_t.sum()),
        "custody_returned_home": int(cust_t[:, :, REPATRIATED].sum()),
        "custody_stayed": int(cust_t[:, :, :, :, :, 1].sum()),
        "custody_resettled": int(cust_t[:, :, RESETTLED, :, :, 0].sum()),
        "custody_died": int(cust_t[:, :, DIED].sum()),
        "in_custody_at_end": census["in_custody"],
        "remains_initial": rem["initial"],
        "remains_added": rem["added"],
        "remains_repatriated": rem["repatriated"],
        "remains_held_at_end": rem["held"],
        "remains_handovers": sim.remains.handovers(),
    }
    # per party: as holder (axis 0 kept) or as nationality (axis 1 kept)
    by_fate = t.sum(axis=(3, 4, 5, 6))  # [holder, nat, fate]

    def holder_of(a: Any) -> Any:
        return a.reshape(n, -1).sum(axis=1)

    def nat_of(a: Any) -> Any:
        return a.swapaxes(0, 1).reshape(n, -1).sum(axis=1)

    counts = {
        "held": holder_of(by_fate[:, :, HELD]),
        "taken": holder_of(t[:, :, :, :, 1]),
        "repatriated_home": nat_of(by_fate[:, :, REPATRIATED]),
        "given": holder_of(deal_t),
        "received": np.bincount(c["dest"][by_deal], minlength=n).tolist(),
        "released_humanitarian": holder_of(exo_t[..., REPATRIATED]),
        # died while held by the holder, not in neutral custody
        "died_in_custody": holder_of(by_fate[:, :, DIED]) - holder_of(cust_t[:, :, DIED]),
        "own_died": nat_of(by_fate[:, :, DIED]),
        "own_still_held": nat_of(by_fate[:, :, HELD]),
        "handed_to_custody": holder_of(cust_t),
        "own_in_custody": nat_of(by_fate[:, :, IN_CUSTODY]),
    }
    cols: dict[str, list[int]] = {k: [int(x) for x in v] for k, v in counts.items()}
    cols.update(sim.remains.by_party(n))
    parties = []
    for q, pid in enumerate(sim.party_ids):
        row: dict[str, Any] = {"party": pid, **{k: v[q] for k, v in cols.items()}}
        given, received = row["given"], row["received"]
        row["ratio"] = received / given if given else float("nan")
        parties.append({k: row[k] for k in PARTY_COLUMNS})
    grid = series_grid(horizon)
    exit_c = np.where(t_exit <= horizon, t_exit, np.inf)
    held_series = _held_series(sim, exit_c, grid)
    t_home = np.where(by_cust, c["t_cust_end"], t_exit)  # from custody: when the period ends
    rep_series = _home_series(sim, present & (fate == REPATRIATED), t_home, grid)
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


def _held_series(
    sim: Finished, exit_c: np.ndarray, grid: np.ndarray
) -> dict[tuple[str, str], np.ndarray]:
    """Prisoners held on each grid day, per (holder, nationality) group: captured by then less
    gone by then (``exit_c``: exit times, inf past the horizon), from the table's groups."""
    out: dict[tuple[str, str], np.ndarray] = {}
    n = sim.n_parties
    for key in sorted(sim.table.groups):
        g = sim.table.groups[key]
        if not len(g.rows):
            continue
        h, na = divmod(key, n)
        exits = np.sort(exit_c[g.rows])
        out[(sim.party_ids[h], sim.party_ids[na])] = (
            np.searchsorted(g.caps, grid, "right") - np.searchsorted(exits, grid, "right")
        ).astype(np.int64)
    return out


def _home_series(
    sim: Finished, home: np.ndarray, t_home: np.ndarray, grid: np.ndarray
) -> dict[str, np.ndarray]:
    """People of each nationality back home by each grid day (``home``: who is, by the
    horizon; ``t_home``: when), for every nationality with prisoners in the table."""
    nat = sim.table.cols["nat"]
    present_nats = np.flatnonzero(np.bincount(nat, minlength=sim.n_parties)).tolist()
    n_home, when = nat[home], t_home[home]
    order = np.lexsort((when, n_home))
    n_home, when = n_home[order], when[order]
    bounds = np.searchsorted(n_home, np.arange(sim.n_parties + 1))
    return {
        sim.party_ids[q]: np.searchsorted(when[bounds[q] : bounds[q + 1]], grid, "right").astype(
            np.int64
        )
        for q in present_nats
    }


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
