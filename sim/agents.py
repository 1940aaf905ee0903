"""The agents as SimPy processes: parties taking the initiative, talks, deals, the timeline.

Only decisions are events here: a party trying to open talks, an offer arriving, a deal being
handed over, a dated change. Captures, deaths and wish changes are not events: they are times
in the prisoner table (``sim.prisoners``), read when a decision needs them.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim.negotiation import (
    Agenda,
    Transfer,
    accepts,
    balance_one_for_one,
    build_agenda,
    make_offer,
)
from sim.prisoners import REPATRIATED, RESETTLED, RETURN
from sim.strategies import ConcessionState, aspiration

if TYPE_CHECKING:
    from sim.simulation import Simulation

Proc = Generator[simpy.Event, Any, Any]


@dataclass
class Talks:
    """One negotiation: who, over which channel, how it went."""

    id: int
    parties: tuple[int, ...]
    initiator: int
    channel: str  # "direct" or an intermediary id
    opened: float
    closed: float | None = None
    outcome: str = "open"
    rounds: int = 0
    offers: int = 0
    lost: int = 0
    deal_id: int | None = None
    received: dict[int, list[float]] = field(default_factory=dict)
    # per party: what its strategy sees besides time and offers (fixed through the talks)
    context: dict[int, dict[str, Any]] = field(default_factory=dict)


# ---------------------------------------------------------------------------- parties
def party_initiative(sim: Simulation, p: int) -> Proc:
    """Party ``p`` tries to open talks after each draw of its initiative interval."""
    while True:
        party = sim.scn.parties[p]
        if party.initiative is None:
            yield sim.phase_changed  # wait for a timeline change that may enable it
            continue
        wait = sim.draw(f"party:{party.id}:initiative", party.initiative)
        yield sim.env.timeout(wait)
        if sim.scn.negotiation.frozen or sim.scn.parties[p].initiative is None:
            continue
        try_open(sim, p)


def held_transfers(sim: Simulation, t: float) -> dict[Transfer, int]:
    """Prisoners held at t that could move, by transfer, among all parties (cached per
    time and table version: several decisions at one moment share it)."""
    cache = sim._counts_cache
    if cache is not None and cache[0] == t and cache[1] == sim.version:
        return cache[2]
    tab = sim.table
    c = tab.cols
    n = sim.n_parties
    out: dict[Transfer, int] = {}
    mixed: list[np.ndarray] = []
    for k, group in tab.groups.items():
        if group.simple:  # everyone wants to go home: count from the index
            held = group.held(t)
            if held > 0:
                h, na = divmod(k, n)
                out[Transfer(h, na, na, False)] = held
        else:
            mixed.append(group.held_rows(t, c["t_out"]))
    rows = np.concatenate(mixed) if mixed else np.empty(0, dtype=np.int64)
    if len(rows):
        holder = c["holder"][rows]
        pref = np.where(c["t_drift"][rows] <= t, c["pref1"][rows], c["pref0"][rows])
        # repatriation: honouring holders keep those who refuse to go home
        rep = (pref == RETURN) | ~sim.flags_honours[holder]
        counts = np.bincount(c["key"][rows][rep], minlength=n * n)
        for code in np.flatnonzero(counts).tolist():
            h, na = divmod(code, n)
            out[Transfer(h, na, na, False)] = int(counts[code])
        # resettlement: wish to go to a party offering asylum
        dest = pref.astype(np.int64) - 2
        res = (dest >= 0) & (dest != holder)  # resettling with the holder is staying
        if res.any():
            res &= sim.flags_asylum[np.clip(dest, 0, n - 1)]
        if res.any():
            counts = np.bincount(
                c["key"][rows][res].astype(np.int64) * n + dest[res], minlength=n * n * n
            )
            for code in np.flatnonzero(counts).tolist():
                hn, de = divmod(code, n)
                h, na = divmod(hn, n)
                out[Transfer(h, na, de, True)] = int(counts[code])
    sim._counts_cache = (t, sim.version, out)
    return out


def available_transfers(sim: Simulation, members: tuple[int, ...], t: float) -> dict[Transfer, int]:
    """Prisoners held at t that could move between ``members`` (holder and destination both
    in the talks), less those promised in deals awaiting handover."""
    inside = set(members)
    out: dict[Transfer, int] = {}
    for tr, n in held_transfers(sim, t).items():
        if tr.holder in inside and tr.dest in inside:
            left = n - sim.reserved.get(tr, 0)
            if left > 0:
                out[tr] = left
    return out


def _weights(
    sim: Simulation, members: tuple[int, ...], transfers: list[Transfer], t: float
) -> dict[tuple[int, Transfer], float]:
    """Mean category weight of each transfer's prisoners, as each member values them."""
    out: dict[tuple[int, Transfer], float] = {}
    if all(sim.uniform_weights[q] for q in members):
        return out
    tab = sim.table
    c = tab.cols
    rows = tab.held_rows(t)
    keys = c["key"][rows]
    for tr in transfers:
        m = rows[keys == tr.holder * sim.n_parties + tr.nat]
        cats, wnd = c["cat"][m], c["wounded"][m]
        for q in members:
            if sim.uniform_weights[q]:
                continue
            w = sim.category_weights(q)[cats] * np.where(
                wnd, sim.scn.parties[q].wounded_weight, 1.0
            )
            out[(q, tr)] = float(w.mean()) if len(w) else 1.0
    return out


def candidate_sets(sim: Simulation, p: int, avail: dict[Transfer, int]) -> list[tuple[int, ...]]:
    """Sets of parties ``p`` could usefully talk with: each counterpart holding what p wants,
    extended by the parties needed to make the trade (holders of what the others want, homes
    of the prisoners on offer)."""
    scn = sim.scn
    limit = scn.negotiation.max_parties

    def wants(q: int) -> set[int]:
        """Parties holding prisoners that q values coming to it or its allies."""
        out = set()
        for tr in avail:
            if tr.holder == q:
                continue
            if tr.resettle:
                if tr.dest == q and scn.parties[q].values.defector > 0:
                    out.add(tr.holder)
            elif tr.nat == q or tr.nat in sim.allies[q]:
                out.add(tr.holder)
        return out

    bases = sorted(wants(p))
    sets: list[tuple[int, ...]] = []
    for h in bases:
        base = {p, h}
        sets.append(tuple(sorted(base)))
        ext = set(base)
        for q in list(base):
            for h2 in sorted(wants(q)):
                if len(ext) < limit:
                    ext.add(h2)
        for tr in sorted(avail, key=lambda tr: (tr.holder, tr.nat, tr.dest)):
            if (
                tr.holder in ext
                and not tr.resettle
                and tr.nat not in ext
                and len(ext) < limit
                and any(tr.nat in sim.allies[q] for q in ext)
            ):
                ext.add(tr.nat)
        key = tuple(sorted(ext))
        if key not in sets:
            sets.append(key)
    return sets


def _score(agenda: Agenda) -> float:
    """Joint potential: what all members could gain at most, in their own units."""
    return float((np.maximum(agenda.values, 0.0) * agenda.bounds()).sum())


def try_open(sim: Simulation, p: int) -> None:
    """Party ``p`` opens the most promising talks it can open now: candidates ranked by joint
    potential, skipping those in cool-down or already running; the first with a channel wins.
    If no candidate has any channel, or all channels are busy, that is recorded."""
    t = sim.env.now
    everyone = tuple(range(sim.n_parties))
    avail_all = available_transfers(sim, everyone, t)
    if not avail_all:
        return
    ranked: list[tuple[float, int, tuple[int, ...], Agenda]] = []
    for k, members in enumerate(candidate_sets(sim, p, avail_all)):
        if sim.cooldown_until.get(members, -1.0) > t or members in sim.active_sets:
            continue
        avail = {
            tr: n for tr, n in avail_all.items() if tr.holder in members and tr.dest in members
        }
        agenda = build_agenda(
            members, avail, _weights(sim, members, list(avail), t), sim.scn.parties, sim.allies
        )
        if agenda.is_empty() or agenda.values[members.index(p)].max(initial=0.0) <= 0:
            continue
        ack = sim.scn.parties[p].acknowledges
        if any(ack.get(sim.party_ids[n], True) is False for n in agenda.nationalities()):
            continue  # it will not itself propose talks naming people it denies are there
        ranked.append((-_score(agenda), k, members, agenda))
    if not ranked:
        return
    ranked.sort(key=lambda r: (r[0], r[1]))
    busy: list[tuple[int, ...]] = []
    for _, _, members, agenda in ranked:
        channel = choose_channel(sim, members)
        if channel == "busy":
            busy.append(members)
        elif channel is not None:
            sim.env.process(talks(sim, p, members, channel, agenda))
            return
    ids = [sim.party_ids[q] for q in ranked[0][2]]
    if busy:
        connecting = [
            m.id
            for m in sim.scn.intermediaries
            if set(sim.party_ids[q] for q in busy[0]) <= set(m.connects)
        ]
        sim.record(
            t,
            "channel_busy",
            parties=[sim.party_ids[q] for q in busy[0]],
            intermediaries=connecting,
        )
        sim.counters["talks_channel_busy"] += 1
        return
    sim.record(t, "no_channel", parties=ids)
    sim.counters["talks_no_channel"] += 1
    members = ranked[0][2]
    sim.cooldown_until[members] = t + sim.draw("negotiation:cooldown", sim.scn.negotiation.cooldown)


def choose_channel(sim: Simulation, members: tuple[int, ...]) -> str | None:
    """ "direct" if every pair talks directly, else the first intermediary connecting all of
    them with free capacity, "busy" if all connecting ones are full, None if none connects."""
    scn = sim.scn
    if all(sim.direct[a, b] for a in members for b in members if a < b):
        return "direct"
    ids = {scn.parties[q].id for q in members}
    connecting = [m for m in scn.intermediaries if ids <= set(m.connects)]
    if not connecting:
        return None
    for m in connecting:
        if sim.busy.get(m.id, 0) < m.capacity:
            return m.id
    return "busy"


# ---------------------------------------------------------------------------- talks
def _mean_delay(sim: Simulation, channel: str) -> float:
    """Mean days to relay one offer over ``channel``."""
    if channel == "direct":
        return sim.scn.negotiation.direct_delay.mean()
    return sim.scn.intermediary(channel).delay.mean()


def _relay(sim: Simulation, channel: str) -> tuple[float, bool]:
    """Delay of one relayed offer and whether it arrives."""
    scn = sim.scn
    if channel == "direct":
        return sim.draw("negotiation:direct", scn.negotiation.direct_delay), True
    m = scn.intermediary(channel)
    delay = sim.draw(f"intermediary:{m.id}:delay", m.delay)
    ok = m.reliability >= 1.0 or sim.uniform(f"intermediary:{m.id}:loss") < m.reliability
    return delay, ok


def talks(
    sim: Simulation,
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
            members, avail, _weights(sim, members, list(avail), t0), sim.scn.parties, sim.allies
        )
    # who refuses to deal over a nationality it does not acknowledge
    refusal = _refusal(sim, members, agenda)
    proposer_pos = members.index(initiator)
    while True:
        scn = sim.scn
        tau = env.now - t0
        if tau >= min(scn.parties[q].deadline for q in members):
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
        if tau >= min(scn.parties[r].deadline for r in members):
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
    sim: Simulation, tk: Talks, agenda: Agenda, x: np.ndarray, proposer_pos: int, tau: float
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
    sim: Simulation,
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
    state = ConcessionState(
        tau,
        party.deadline,
        party.reservation,
        tk.received[q],
        discount=party.discount,
        proposer=proposer,
        **ctx,
    )
    asp = aspiration(party.strategy, state)
    if party.discount < 1.0:
        asp /= party.discount ** (tau + ctx["round_days"] if proposer else tau)
    return asp if party.accepts_losses else max(asp, agenda._e[pos])


def _refusal(sim: Simulation, members: tuple[int, ...], agenda: Agenda) -> tuple[str, str] | None:
    nats = agenda.nationalities()
    for q in members:
        ack = sim.scn.parties[q].acknowledges
        for n in sorted(nats):
            nid = sim.scn.parties[n].id
            if ack.get(nid, True) is False:
                return sim.scn.parties[q].id, nid
    return None


def _describe(sim: Simulation, agenda: Agenda, x: np.ndarray) -> list[tuple[str, str, str, int]]:
    pid = sim.party_ids
    return [
        (pid[tr.holder], pid[tr.nat], pid[tr.dest], n)
        for tr, n in sorted(
            agenda.transfers(x).items(), key=lambda kv: (kv[0].holder, kv[0].nat, kv[0].dest)
        )
    ]


# ---------------------------------------------------------------------------- deals
def execute(sim: Simulation, deal_id: int, tk: Talks, transfers: dict[Transfer, int]) -> Proc:
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


def eligible_prisoners(sim: Simulation, tr: Transfer) -> np.ndarray:
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


def hand_over(sim: Simulation, tr: Transfer, chosen: np.ndarray, deal_id: int) -> int:
    """Move the ``chosen`` prisoners now."""
    fate = RESETTLED if tr.resettle else REPATRIATED
    key = tr.holder * sim.n_parties + tr.nat
    sim.table.mark_deal(chosen, key, sim.env.now, fate, tr.dest, deal_id)
    sim.version += 1
    return len(chosen)


# ---------------------------------------------------------------------------- timeline
def timeline(sim: Simulation, phases: list[tuple[float, Any]]) -> Proc:
    """Apply each dated change of the scenario at its day."""
    for day, state in phases:
        if day > sim.env.now:
            yield sim.env.timeout(day - sim.env.now)
        sim.change_phase(state)
