"""Parties taking the initiative: when a party tries to open talks, with whom, over which agenda,
and through which channel (a direct line or an intermediary with spare capacity).

Only decisions are events: captures, deaths and wish changes are times in the prisoner table
(``sim.model.prisoners``), read here when a party counts what it could trade.
"""

from __future__ import annotations

from sim.model.negotiation import (
    Agenda,
    Transfer,
    build_agenda,
    unit_value,
)
from sim.model.talks import talks
from sim.model.tradeable import agenda_weights, available_transfers
from sim.model.world import Proc, World


# ---------------------------------------------------------------------------- parties
def party_initiative(sim: World, p: int) -> Proc:
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


def candidate_sets(sim: World, p: int, avail: dict[Transfer, int]) -> list[tuple[int, ...]]:
    """The sets of parties ``p`` could usefully talk with (see ``_candidate_sets``): they
    depend only on which transfers are possible, not on how many, so they are remembered per
    scenario in force."""
    key = ("candidates", p, frozenset(avail))
    sets = sim.memo.get(key)
    if sets is None:
        sets = sim.memo[key] = _candidate_sets(sim, p, avail)
    return sets


def _candidate_sets(sim: World, p: int, avail: dict[Transfer, int]) -> list[tuple[int, ...]]:
    """Sets of parties ``p`` could usefully talk with: each counterpart holding what p wants,
    extended by the parties needed to make the trade: holders of what a member wants, if that
    member would give something up in trading with the other (it must be paid by a third
    party: Ukraine gives up a chip by sending a North Korean home, so Russia, holding
    Ukrainians, is needed), and homes of the prisoners on offer. A member that loses nothing
    (a holder handing a prisoner to the country he asked to go to) brings nobody else in: a
    South Korean asylum request is talks between South Korea and Ukraine, not with Russia."""
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

    def gives_up(q: int, other: int) -> bool:
        """Whether q, as holder, loses value by handing ``other`` what it wants from q."""
        party = scn.parties[q]
        return any(
            tr.holder == q
            and (tr.dest == other or (not tr.resettle and tr.nat in sim.allies[other]))
            and unit_value(party, q, tr, 1.0, sim.allies[q]) < 0
            for tr in avail
        )

    bases = sorted(wants(p))
    sets: list[tuple[int, ...]] = []
    for h in bases:
        base = {p, h}
        sets.append(tuple(sorted(base)))
        ext = set(base)
        for q, other in ((p, h), (h, p)):
            if not gives_up(q, other):
                continue
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
    return agenda.potential()


def try_open(sim: World, p: int) -> None:
    """Party ``p`` opens the most promising talks it can open now: candidates ranked by joint
    potential, skipping those in cool-down or already running and those no channel reaches;
    the first with a free channel wins. Only if no candidate at all (running, cooling down or
    not) can be reached is "no channel" recorded; if all channels are busy, that is."""
    t = sim.env.now
    everyone = tuple(range(sim.n_parties))
    avail_all = available_transfers(sim, everyone, t)
    if not avail_all:
        return
    candidates = candidate_sets(sim, p, avail_all)
    reachable = {m for m in candidates if choose_channel(sim, m) is not None}
    ranked: list[tuple[float, int, tuple[int, ...], Agenda]] = []
    for k, members in enumerate(candidates):
        if sim.cooldown_until.get(members, -1.0) > t or members in sim.active_sets:
            continue
        if reachable and members not in reachable:
            continue  # it talks with those it can reach
        avail = {
            tr: n for tr, n in avail_all.items() if tr.holder in members and tr.dest in members
        }
        agenda = build_agenda(
            members,
            avail,
            agenda_weights(sim, members, list(avail), t),
            sim.scn.parties,
            sim.allies,
        )
        if agenda.is_empty() or max(agenda.best_for(members.index(p)), 0.0) <= 0:
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


def choose_channel(sim: World, members: tuple[int, ...]) -> str | None:
    """ "direct" if every pair talks directly, else the first intermediary connecting all of
    them with free capacity, "busy" if all connecting ones are full, None if none connects."""
    route = _routes(sim, members)
    if route is None or isinstance(route, str):
        return route
    for mid, capacity in route:
        if sim.busy.get(mid, 0) < capacity:
            return mid
    return "busy"


def _routes(sim: World, members: tuple[int, ...]) -> str | list[tuple[str, int]] | None:
    """How ``members`` can talk under the scenario in force: "direct", the intermediaries
    connecting them all (id, capacity) in order, or None (remembered per scenario)."""
    key = ("routes", members)
    if key in sim.memo:
        route: str | list[tuple[str, int]] | None = sim.memo[key]
        return route
    scn = sim.scn
    if all(sim.direct[a, b] for a in members for b in members if a < b):
        route = "direct"
    else:
        ids = {scn.parties[q].id for q in members}
        connecting = [(m.id, m.capacity) for m in scn.intermediaries if ids <= set(m.connects)]
        route = connecting or None
    sim.memo[key] = route
    return route
