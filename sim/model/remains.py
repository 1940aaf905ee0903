"""Remains handed over: with deals, and in repatriations of their own (``sim.scenario.remains``).

Real deals trade bodies alongside the living, and bodies also go back in handovers of their own
(Ukraine received 6,057 bodies over 2025-06-11..16 and Russia 78, in the days after the
Istanbul deal; ``ua_ru_exchanges.csv``, kind ``bodies``). The stocks and their additions live in
the ledger (``sim.model.remains_ledger``); this module makes the two kinds of handover:

- ``remains_with_deal``: when a deal is executed (after its last stage), every stock whose
  holder and nationality are both parties to the deal hands over ``with_deals`` of what it
  holds; the deal record lists them under ``remains`` (never under ``transfers``, which count
  people);
- ``remains_returns``: one process per stock hands over ``returns.share`` of what it holds on
  each day of ``returns.at`` and at random times at ``returns.rate`` per day (exponential
  waits from stream ``remains:ID:returns``, redrawn when the scenario in force changes, which
  is exact for a memoryless wait).

Each handover is an event in the trace (``remains``).
"""

from __future__ import annotations

import math

from sim.model.world import Proc, World


def remains_with_deal(
    sim: World, deal_id: int, parties: tuple[int, ...]
) -> list[tuple[str, str, int]]:
    """Hand over the remains that go with deal ``deal_id`` among ``parties``; returns
    (holder, nationality, count) by party id."""
    out: list[tuple[str, str, int]] = []
    if not sim.scn.remains:
        return out
    inside = set(parties)
    t = sim.env.now
    for k, spec in enumerate(sim.scn.remains):
        stock = sim.remains.stocks[k]
        if spec.with_deals <= 0 or stock.holder not in inside or stock.nat not in inside:
            continue
        n = sim.remains.hand_over(k, t, spec.with_deals, f"deal #{deal_id}")
        if n:
            out.append((sim.party_ids[stock.holder], sim.party_ids[stock.nat], n))
    if out:
        sim.record(t, "remains", deal=deal_id, transfers=out)
    return out


def remains_returns(sim: World, k: int) -> Proc:
    """Repatriations of stock ``k``'s remains apart from deals, on dates and at random times."""
    env = sim.env
    stream = f"remains:{sim.scn.remains[k].id}:returns"
    done: set[float] = set()
    while True:
        ret = sim.scn.remains[k].returns
        waits = {}
        if ret is not None:
            dated = [d for d in ret.at if d >= env.now and d not in done]
            if dated:
                waits[env.timeout(min(dated) - env.now)] = min(dated)
            if ret.rate > 0:
                wait = -math.log1p(-sim.uniform(stream)) / ret.rate
                waits[env.timeout(wait)] = -1.0
        changed = sim.phase_changed
        fired = yield env.any_of([*waits, changed])
        due = [waits[e] for e in waits if e in fired]
        if not due:
            continue  # the scenario in force changed first: look again
        spec = sim.scn.remains[k]
        share = spec.returns.share if spec.returns is not None else 0.0
        done.update(d for d in due if d >= 0)
        n = sim.remains.hand_over(k, env.now, share, "repatriation")
        if n:
            stock = sim.remains.stocks[k]
            sim.record(
                env.now,
                "remains",
                deal=None,
                transfers=[(sim.party_ids[stock.holder], sim.party_ids[stock.nat], n)],
            )
