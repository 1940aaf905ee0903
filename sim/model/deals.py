"""Deals carried out: the preparation delay, the chance to collapse before the handover, and the
handover itself (which prisoners go, in what order, to whom), recorded in the prisoner table.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.model.negotiation import (
    Transfer,
    balance_one_for_one,
)
from sim.model.prisoners import REPATRIATED, RESETTLED, RETURN
from sim.model.world import Proc, Talks, World


# ---------------------------------------------------------------------------- deals
def execute(sim: World, deal_id: int, tk: Talks, transfers: dict[Transfer, int]) -> Proc:
    """Prepare the handover; it may collapse (less often under a guarantor); then hand over
    whoever of the promised prisoners is still held, kept balanced for one-for-one parties."""
    env = sim.env
    scn = sim.scn
    agreed = env.now
    yield env.timeout(sim.draw("negotiation:preparation", scn.negotiation.preparation))
    for tr, n in transfers.items():
        sim.reserved[tr] -= n
    scn = sim.scn
    p_collapse = scn.negotiation.collapse
    guaranteed = tk.channel != "direct" and scn.intermediary(tk.channel).guarantee
    if guaranteed:
        p_collapse *= scn.negotiation.guarantee_factor
    deal: dict[str, Any] = {
        "deal": deal_id,
        "talks": tk.id,
        "agreed": agreed,
        "channel": tk.channel,
        "parties": [sim.party_ids[q] for q in tk.parties],
        "guaranteed": guaranteed,
    }
    if sim.uniform("negotiation:collapse") < p_collapse:
        sim.counters["deals_collapsed"] += 1
        deal.update(outcome="collapsed", day=env.now, moved=0)
        sim.deals.append(deal)
        sim.record(env.now, "collapsed", deal=deal_id, talks=tk.id)
        sim.cooldown_until[tk.parties] = env.now + sim.draw(
            "negotiation:cooldown", scn.negotiation.cooldown
        )
        return
    order = sorted(transfers)
    eligible: dict[Transfer, np.ndarray] = {}
    used: set[int] = set()  # one prisoner, one transfer (a group can feed two transfers)
    for tr in order:
        rows = eligible_prisoners(sim, tr)
        if used:
            rows = rows[~np.isin(rows, list(used))]
        rows = rows[: transfers[tr]]
        if sum(1 for other in order if (other.holder, other.nat) == (tr.holder, tr.nat)) > 1:
            used.update(rows.tolist())
        eligible[tr] = rows
    counts = {tr: min(transfers[tr], len(eligible[tr])) for tr in order}
    counts = balance_one_for_one(counts, tk.parties, scn.parties, sim.allies)
    moved = []
    total = 0
    for tr in order:
        k = hand_over(sim, tr, eligible[tr][: counts[tr]], deal_id)
        total += k
        moved.append((sim.party_ids[tr.holder], sim.party_ids[tr.nat], sim.party_ids[tr.dest], k))
    sim.counters["deals"] += 1
    if sim.first_deal_day is None:
        sim.first_deal_day = env.now
    deal.update(outcome="executed", day=env.now, moved=total, transfers=moved)
    sim.deals.append(deal)
    sim.record(env.now, "executed", deal=deal_id, talks=tk.id, transfers=moved)


def eligible_prisoners(sim: World, tr: Transfer) -> np.ndarray:
    """Row indices of prisoners who could move by ``tr`` now, in handover order: wounded first
    if either side insists, then the longest held."""
    t = sim.env.now
    tab = sim.table
    c = tab.cols
    group = tab.groups.get(tr.holder * sim.n_parties + tr.nat)
    if group is None:
        return np.empty(0, dtype=np.int64)
    idx = group.held_rows(t, c["t_out"])
    if not tab.simple_wishes or tr.resettle:
        pref = np.where(c["t_drift"][idx] <= t, c["pref1"][idx], c["pref0"][idx])
        if tr.resettle:
            idx = idx[pref == 2 + tr.dest]
        elif sim.flags_honours[tr.holder]:
            idx = idx[pref == RETURN]
    parties = sim.scn.parties
    if parties[tr.holder].norms.wounded_first or parties[tr.dest].norms.wounded_first:
        idx = idx[np.argsort(~c["wounded"][idx], kind="stable")]
    return idx  # rows are sorted by capture time: longest held first


def hand_over(sim: World, tr: Transfer, chosen: np.ndarray, deal_id: int) -> int:
    """Move the ``chosen`` prisoners now."""
    fate = RESETTLED if tr.resettle else REPATRIATED
    key = tr.holder * sim.n_parties + tr.nat
    sim.table.mark_deal(chosen, key, sim.env.now, fate, tr.dest, deal_id)
    sim.version += 1
    return len(chosen)


# ---------------------------------------------------------------------------- timeline
