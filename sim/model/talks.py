"""One negotiation as a SimPy process: offers relayed through the channel, each party's
aspiration falling by its concession strategy, replies, breakdowns, deadlines, and a deal
agreed when every party accepts (``sim.model.negotiation`` holds the pure algorithm).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from sim.model.deals import execute
from sim.model.negotiation import (
    Agenda,
    accepts,
    build_agenda,
    make_offer,
)
from sim.model.tradeable import agenda_weights, available_transfers
from sim.model.world import Proc, Talks, World
from sim.scenario.strategies import ConcessionState, aspiration


# ---------------------------------------------------------------------------- talks
def _mean_delay(sim: World, channel: str) -> float:
    """Mean days to relay one offer over ``channel``."""
    if channel == "direct":
        return sim.scn.negotiation.direct_delay.mean()
    return sim.scn.intermediary(channel).delay.mean()


def _relay(sim: World, channel: str) -> tuple[float, bool]:
    """Delay of one relayed offer and whether it arrives."""
    scn = sim.scn
    if channel == "direct":
        return sim.draw("negotiation:direct", scn.negotiation.direct_delay), True
    key = ("relay", channel)
    route = sim.memo.get(key)
    if route is None:
        m = scn.intermediary(channel)
        route = sim.memo[key] = (m, f"intermediary:{m.id}:delay", f"intermediary:{m.id}:loss")
    m, delay_stream, loss_stream = route
    delay = sim.draw(delay_stream, m.delay)
    ok = m.reliability >= 1.0 or sim.uniform(loss_stream) < m.reliability
    return delay, ok


def _deadline(sim: World, members: tuple[int, ...]) -> float:
    """The earliest deadline among ``members`` under the scenario in force."""
    key = ("deadline", members)
    d = sim.memo.get(key)
    if d is None:
        d = sim.memo[key] = min(sim.scn.parties[q].deadline for q in members)
    return float(d)


def talks(
    sim: World,
    initiator: int,
    members: tuple[int, ...],
    channel: str,
    agenda: Agenda | None = None,
) -> Proc:
    """Alternating offers among ``members`` until a deal, a breakdown, a deadline or refusal."""
    env = sim.env
    t0 = env.now
    ids = [sim.scn.parties[q].id for q in members]
    tk = Talks(sim.next_id("talks"), members, initiator, channel, t0)
    tk.received = {q: [] for q in members}
    sim.talks.append(tk)
    sim.active_sets.add(members)
    if channel != "direct":
        sim.busy[channel] = sim.busy.get(channel, 0) + 1
    sim.counters["negotiations"] += 1
    sim.record(
        t0,
        "open",
        talks=tk.id,
        parties=ids,
        initiator=ids[members.index(initiator)],
        channel=channel,
    )
    cap_dist = sim.scn.negotiation.max_deal_size
    cap = int(max(1, round(sim.draw("negotiation:size", cap_dist)))) if cap_dist else None
    if agenda is None or cap is not None:  # the agenda the initiator saw, unless capped
        avail = available_transfers(sim, members, t0)
        if cap is not None:
            avail = {tr: min(n, cap) for tr, n in avail.items()}
        agenda = build_agenda(
            members,
            avail,
            agenda_weights(sim, members, list(avail), t0),
            sim.scn.parties,
            sim.allies,
        )
    # who refuses to deal over a nationality it does not acknowledge
    refusal = _refusal(sim, members, agenda)
    proposer_pos = members.index(initiator)
    while True:
        scn = sim.scn
        tau = env.now - t0
        if tau >= _deadline(sim, members):
            tk.outcome = "deadline"
            break
        q = members[proposer_pos]
        asp = _aspiration(sim, tk, q, tau, agenda, proposer_pos, proposer=True)
        x = make_offer(agenda, proposer_pos, asp)
        tk.offers += 1
        sim.counters["offers"] += 1
        if sim.record_events:
            sim.record(
                env.now,
                "offer",
                talks=tk.id,
                by=ids[proposer_pos],
                channel=channel,
                transfers=_describe(sim, agenda, x),
            )
        delay, arrived = _relay(sim, channel)
        yield env.timeout(delay)
        tk.rounds += 1
        if not arrived:
            tk.lost += 1
            sim.counters["rounds_lost"] += 1
            sim.record(env.now, "lost", talks=tk.id, channel=channel, by=ids[proposer_pos])
            continue
        if refusal is not None:
            tk.outcome = "refused"
            sim.counters["talks_refused"] += 1
            sim.record(env.now, "refused", talks=tk.id, party=refusal[0], nationality=refusal[1])
            break
        tau = env.now - t0
        if tau >= _deadline(sim, members):
            tk.outcome = "deadline"  # the offer arrived after a party's deadline
            break
        ok = _responses(sim, tk, agenda, x, proposer_pos, tau)
        if all(ok):
            tk.outcome = "agreed"
            deal_id = sim.next_id("deal")
            tk.deal_id = deal_id
            if sim.record_events:
                sim.record(
                    env.now,
                    "agreed",
                    talks=tk.id,
                    deal=deal_id,
                    parties=ids,
                    transfers=_describe(sim, agenda, x),
                )
            promised = agenda.transfers(x)
            for tr, n in promised.items():
                sim.reserved[tr] = sim.reserved.get(tr, 0) + n
            env.process(execute(sim, deal_id, tk, promised))
            break
        if sim.uniform("negotiation:breakdown") < scn.negotiation.breakdown_risk:
            tk.outcome = "breakdown"
            sim.counters["breakdowns"] += 1
            sim.record(env.now, "breakdown", talks=tk.id)
            break
        if tk.rounds >= scn.negotiation.max_rounds:
            tk.outcome = "exhausted"
            sim.record(env.now, "exhausted", talks=tk.id)
            break
        # the first party that said no makes the counter-offer
        rejecters = [pos for pos in range(len(members)) if not ok[pos] and pos != proposer_pos]
        proposer_pos = rejecters[0] if rejecters else (proposer_pos + 1) % len(members)
    if tk.outcome == "deadline":
        sim.counters["deadlines"] += 1
        sim.record(env.now, "deadline", talks=tk.id)
    # no try/finally: a run that ends mid-talks closes this generator, and cleanup
    # (random draws) must not run inside the garbage collector
    tk.closed = env.now
    sim.active_sets.discard(members)
    if channel != "direct":
        sim.busy[channel] -= 1
    if tk.outcome != "agreed":
        sim.cooldown_until[members] = env.now + sim.draw(
            "negotiation:cooldown", sim.scn.negotiation.cooldown
        )


def _responses(
    sim: World, tk: Talks, agenda: Agenda, x: np.ndarray, proposer_pos: int, tau: float
) -> list[bool]:
    """Each party's answer to offer ``x``: yes when its value reaches its aspiration and (unless
    it accepts losses) beats no deal; the proposer says yes to its own offer."""
    xs = x.tolist()
    u = agenda.utilities(xs)
    asps: list[float] = []
    for pos, r in enumerate(tk.parties):
        if pos == proposer_pos:
            asps.append(-math.inf)
            continue
        tk.received[r].append(u[pos])
        asps.append(_aspiration(sim, tk, r, tau, agenda, pos))
    rational = [not sim.scn.parties[r].accepts_losses for r in tk.parties]
    rational[proposer_pos] = False
    return accepts(agenda, xs, asps, rational)


def _aspiration(
    sim: World,
    tk: Talks,
    q: int,
    tau: float,
    agenda: Agenda,
    pos: int,
    proposer: bool = False,
) -> float:
    """Party q's aspiration now as a normalised value (what it asks for when ``proposer``,
    else the least it accepts), never below the value of no deal unless it accepts losses.

    A party with ``discount`` < 1 holds its aspiration on the discounted scale: answering at
    ``tau`` it compares ``discount**tau`` times an offer's value with it; proposing, it asks
    for that at ``tau`` plus one relay, when its offer would be agreed."""
    party = sim.scn.parties[q]
    ctx = tk.context.get(q)
    if ctx is None:
        parties = sim.scn.parties
        ctx = tk.context[q] = {
            "other_discount": max((parties[r].discount for r in tk.parties if r != q), default=1),
            "round_days": _mean_delay(sim, tk.channel),
            "step": max((abs(v) for v in agenda._d[pos]), default=0.0),
            "memo": {},
            "draw": partial(sim.draw, f"party:{party.id}:{party.strategy.name}"),
        }
        # one state per party and talks, brought up to date at each call
        ctx["state"] = ConcessionState(
            tau, party.deadline, party.reservation, tk.received[q], **ctx
        )
    state: ConcessionState = ctx["state"]
    state.elapsed = tau
    state.deadline = party.deadline
    state.reservation = party.reservation
    state.discount = party.discount
    state.proposer = proposer
    asp = aspiration(party.strategy, state)
    if party.discount < 1.0:
        asp /= party.discount ** (tau + ctx["round_days"] if proposer else tau)
    return asp if party.accepts_losses else max(asp, agenda._e[pos])


def _refusal(sim: World, members: tuple[int, ...], agenda: Agenda) -> tuple[str, str] | None:
    nats = agenda.nationalities()
    for q in members:
        ack = sim.scn.parties[q].acknowledges
        for n in sorted(nats):
            nid = sim.scn.parties[n].id
            if ack.get(nid, True) is False:
                return sim.scn.parties[q].id, nid
    return None


def _describe(sim: World, agenda: Agenda, x: np.ndarray) -> list[tuple[str, str, str, int]]:
    pid = sim.party_ids
    return [
        (pid[tr.holder], pid[tr.nat], pid[tr.dest], n)
        for tr, n in sorted(
            agenda.transfers(x).items(), key=lambda kv: (kv[0].holder, kv[0].nat, kv[0].dest)
        )
    ]
