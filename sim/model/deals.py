"""Deals carried out: the preparation delay, the chance to collapse before the handover, and the
handover itself (which prisoners go, in what order, to whom), recorded in the prisoner table;
then the remains that go with the deal (``sim.model.remains``) and the handover of refusers to
neutral custody that it may set off (``sim.model.custody``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.model.custody import custody_after_deal
from sim.model.negotiation import (
    Transfer,
    balance_one_for_one,
)
from sim.model.prisoners import REPATRIATED, RESETTLED, RETURN
from sim.model.remains import remains_with_deal
from sim.model.staging import category_rank, collapse_risk, deal_kind, stage_count, stage_quota
from sim.model.tradeable import on_agenda
from sim.model.world import Proc, Talks, World


# ---------------------------------------------------------------------------- deals
def execute(sim: World, deal_id: int, tk: Talks, transfers: dict[Transfer, int]) -> Proc:
    """Prepare the handover; it may collapse (by its kind and size, less often under a
    guarantor); then hand over whoever of the promised prisoners is still held, kept balanced
    for one-for-one parties: at once, or in stages (``sim.model.staging``)."""
    env = sim.env
    scn = sim.scn
    agreed = env.now
    only = tuple(scn.negotiation.agenda_only)  # a deal by category keeps the agreed categories
    yield env.timeout(sim.draw("negotiation:preparation", scn.negotiation.preparation))
    for tr, n in transfers.items():
        sim.reserved[tr] -= n
    scn = sim.scn
    neg = scn.negotiation
    guaranteed = tk.channel != "direct" and scn.intermediary(tk.channel).guarantee
    size = sum(transfers.values())
    kind = deal_kind(transfers)
    deal: dict[str, Any] = {
        "deal": deal_id,
        "talks": tk.id,
        "agreed": agreed,
        "channel": tk.channel,
        "parties": [sim.party_ids[q] for q in tk.parties],
        "guaranteed": guaranteed,
        "kind": kind,
    }
    if sim.uniform("negotiation:collapse") < collapse_risk(neg, size, kind, guaranteed):
        sim.counters["deals_collapsed"] += 1
        deal.update(outcome="collapsed", day=env.now, moved=0)
        sim.deals.append(deal)
        sim.record(env.now, "collapsed", deal=deal_id, talks=tk.id)
        sim.cooldown_until[tk.parties] = env.now + sim.draw(
            "negotiation:cooldown", scn.negotiation.cooldown
        )
        return
    plan = neg.stages
    k = 1
    if plan is not None and size >= plan.min_size:
        k = stage_count(sim.draw("negotiation:stages", plan.count), size)
    left = dict(transfers)
    moved: dict[tuple[str, str, str], int] = {}
    stages: list[tuple[float, list[tuple[str, str, str, int]]]] = []  # (day, lines moved)
    for i in range(k):
        if i and plan is not None:
            yield env.timeout(sim.draw("negotiation:stage_gap", plan.gap))
            if plan.slip and sim.uniform("negotiation:stage_slip") < plan.slip:
                sim.counters["stages_slipped"] += 1
                yield env.timeout(sim.draw("negotiation:stage_slip", plan.slip_delay))
        quota = {tr: stage_quota(n, k - i) for tr, n in left.items()}
        order = plan.order if k > 1 and plan else None
        counts = _hand_over_stage(sim, tk, deal_id, quota, order, only)
        lines = []
        for tr, n in counts.items():
            left[tr] -= n
            line = (sim.party_ids[tr.holder], sim.party_ids[tr.nat], sim.party_ids[tr.dest])
            moved[line] = moved.get(line, 0) + n
            lines.append((*line, n))
        stages.append((env.now, lines))
        sim.counters["stages"] += 1
        if sim.first_deal_day is None:
            sim.first_deal_day = env.now
        if k > 1:
            sim.record(env.now, "stage", deal=deal_id, stage=i + 1, of=k, transfers=lines)
            # recorded as it goes: a deal still in stages at the horizon keeps what it moved
            deal.update(outcome="in_stages", day=env.now, stages=stages, moved=_moved(stages))
            deal["transfers"] = [(*line, n) for line, n in moved.items()]
            if i == 0:
                sim.deals.append(deal)
            last = i == k - 1
            if (
                not last
                and plan
                and plan.cancel
                and sim.uniform("negotiation:cancel") < plan.cancel
            ):
                sim.counters["deals_cut_short"] += 1
                break
    sim.counters["deals"] += 1
    transfers_moved = [(*line, n) for line, n in moved.items()]
    deal.update(outcome="executed", day=env.now, moved=_moved(stages), transfers=transfers_moved)
    if k == 1:
        sim.deals.append(deal)
    sim.record(env.now, "executed", deal=deal_id, talks=tk.id, transfers=transfers_moved)
    remains = remains_with_deal(sim, deal_id, tk.parties)  # counted apart from people
    if remains:
        deal["remains"] = remains
    custody_after_deal(sim, transfers_moved)  # refusers to neutral custody, where it applies


def _moved(stages: list[tuple[float, list[tuple[str, str, str, int]]]]) -> int:
    return sum(n for _, lines in stages for *_, n in lines)


def _hand_over_stage(
    sim: World,
    tk: Talks,
    deal_id: int,
    quota: dict[Transfer, int],
    order: list[str] | None,
    only: tuple[str, ...] = (),
) -> dict[Transfer, int]:
    """Hand over up to ``quota`` per transfer line now (balanced for one-for-one parties);
    ``order`` sorts each line's prisoners by category first. Returns the counts moved."""
    lines = sorted(quota)
    eligible: dict[Transfer, np.ndarray] = {}
    used: set[int] = set()  # one prisoner, one transfer (a group can feed two transfers)
    for tr in lines:
        rows = eligible_prisoners(sim, tr, only)
        if used:
            rows = rows[~np.isin(rows, list(used))]
        if order:
            rows = rows[np.argsort(category_rank(order, sim.table, rows), kind="stable")]
        rows = rows[: quota[tr]]
        if sum(1 for other in lines if (other.holder, other.nat) == (tr.holder, tr.nat)) > 1:
            used.update(rows.tolist())
        eligible[tr] = rows
    counts = {tr: min(quota[tr], len(eligible[tr])) for tr in lines}
    counts = balance_one_for_one(counts, tk.parties, sim.scn.parties, sim.allies)
    return {tr: hand_over(sim, tr, eligible[tr][: counts[tr]], deal_id) for tr in lines}


def eligible_prisoners(sim: World, tr: Transfer, only: tuple[str, ...] = ()) -> np.ndarray:
    """Row indices of prisoners who could move by ``tr`` now (of the agreed categories, when
    the deal was defined by category), in handover order: wounded first if either side
    insists, then the longest held."""
    t = sim.env.now
    tab = sim.table
    c = tab.cols
    group = tab.groups.get(tr.holder * sim.n_parties + tr.nat)
    if group is None:
        return np.empty(0, dtype=np.int64)
    if group.simple and tr.resettle:  # everyone in the group wishes to go home, always
        return np.empty(0, dtype=np.int64)
    idx = group.held_rows(t, c["t_out"])
    if not group.simple:
        pref = np.where(c["t_drift"][idx] <= t, c["pref1"][idx], c["pref0"][idx])
        if tr.resettle:
            idx = idx[pref == 2 + tr.dest]
        elif sim.flags_honours[tr.holder]:
            idx = idx[pref == RETURN]
    if only:
        idx = idx[on_agenda(tab, idx, only)]
    parties = sim.scn.parties
    if parties[tr.holder].norms.wounded_first or parties[tr.dest].norms.wounded_first:
        wounded = c["wounded"][idx]
        idx = np.concatenate([idx[wounded], idx[~wounded]])  # a stable partition
    return idx  # rows are sorted by capture time: longest held first


def hand_over(sim: World, tr: Transfer, chosen: np.ndarray, deal_id: int) -> int:
    """Move the ``chosen`` prisoners now."""
    fate = RESETTLED if tr.resettle else REPATRIATED
    key = tr.holder * sim.n_parties + tr.nat
    sim.table.mark_deal(chosen, key, sim.env.now, fate, tr.dest, deal_id)
    sim.version += 1
    return len(chosen)


# ---------------------------------------------------------------------------- timeline
