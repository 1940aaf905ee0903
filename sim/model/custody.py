"""Neutral custody: prisoners who refuse to go home, handed to a neutral custodian for an
explanation period, after which each goes home, stays with the side that held him, or leaves
for a third country (``sim.scenario.custody``; Geneva III art. 111 and 118; the Korean War's
Neutral Nations Repatriation Commission, 1953).

*Who.* At a handover, the refusers in scope: prisoners still held by one of the entry's holders,
of one of its nationalities, whose wish at that moment is not ``return`` (whatever the holder's
``honours_preferences``: custody is how their wish is honoured). Prisoners promised to a deal
in preparation are not spared: the deal then hands over whoever is still held.

*When.* ``trigger: deal``: ``delay`` days after each executed deal that repatriated one of its
nationalities from one of its holders, that (holder, nationality) group's refusers
(``custody_after_deal``, called by ``sim.model.deals``). ``trigger: activation``: ``delay`` days
after the entry becomes active, every refuser in scope (``custody_watch``, one process per
entry, woken by each change of the scenario in force). Never while ``active`` is false.

*What then.* One explanation period is drawn per handover (stream ``custody:ID:explanation``);
each prisoner's choice is drawn at the handover from ``choices`` (stream ``custody:ID``, in one
block) and takes effect at the period's end: ``return`` is a repatriation (fate REPATRIATED to
the home party), ``stay`` a resettlement with the holder, ``resettle:PARTY`` a resettlement
with that party. With ``death_hazard`` h > 0, each prisoner dies in custody after an
exponential time of rate h if that comes first (fate DIED then). The prisoner table records
it all as times (``PrisonerTable.mark_custody``), so the census at every event reads
``initial_held + captured = repatriated + resettled + died + held + in_custody``.

The handover and the end of each period are events (``custody`` and ``custody_end`` in the
trace, with counts); the choices themselves are draws, not events.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sim.model.prisoners import DIED, REPATRIATED, RESETTLED, RETURN
from sim.model.world import Proc, World
from sim.scenario.custody import Custody


def _entry(sim: World, i: int) -> Custody:
    """Custody entry ``i`` as the scenario in force has it (its values may change)."""
    return sim.scn.custody[i]


def _scope(sim: World, spec: Custody) -> tuple[set[int], set[int]]:
    """Indices of the holders and nationalities an entry covers."""
    index = {pid: q for q, pid in enumerate(sim.party_ids)}
    holders = {index[p] for p in spec.holders} or {
        q for q, pid in enumerate(sim.party_ids) if pid != spec.custodian
    }
    nats = {index[p] for p in spec.nationalities} or set(range(sim.n_parties))
    return holders, nats


def custody_watch(sim: World, i: int) -> Proc:
    """``trigger: activation``: hand over every refuser in scope, ``delay`` days after the entry
    becomes active (at day 0 if active from the start)."""
    was_active = False
    while True:
        spec = _entry(sim, i)
        if spec.active and not was_active and spec.trigger == "activation":
            sim.env.process(_handover_later(sim, i, None))
        was_active = spec.active
        yield sim.phase_changed


def custody_after_deal(sim: World, moved: Iterable[tuple[str, str, str, int]]) -> None:
    """``trigger: deal``: after an executed deal (its lines as (holder, nationality, destination,
    count) by party id), start the handovers its repatriations call for."""
    if not sim.scn.custody:
        return
    index = {pid: q for q, pid in enumerate(sim.party_ids)}
    for i, spec in enumerate(sim.scn.custody):
        if spec.trigger != "deal" or not spec.active:
            continue
        holders, nats = _scope(sim, spec)
        groups = {
            (index[h], index[n])
            for h, n, dest, count in moved
            if count > 0 and dest == n and index[h] in holders and index[n] in nats
        }
        if groups:
            sim.env.process(_handover_later(sim, i, groups))


def _handover_later(sim: World, i: int, groups: set[tuple[int, int]] | None) -> Proc:
    spec = _entry(sim, i)
    yield sim.env.timeout(sim.draw(f"custody:{spec.id}:delay", spec.delay))
    hand_to_custody(sim, i, groups)


def refusers(
    sim: World, spec: Custody, groups: set[tuple[int, int]] | None
) -> dict[int, np.ndarray]:
    """Rows of the prisoners held now who refuse to go home, by group key (holder × n +
    nationality), within the entry's scope (and ``groups``, if given)."""
    t = sim.env.now
    tab = sim.table
    c = tab.cols
    holders, nats = _scope(sim, spec)
    out: dict[int, np.ndarray] = {}
    for key in sorted(tab.groups):
        h, n = divmod(key, sim.n_parties)
        if h not in holders or n not in nats or (groups is not None and (h, n) not in groups):
            continue
        rows = tab.groups[key].held_rows(t, c["t_out"])
        pref = np.where(c["t_drift"][rows] <= t, c["pref1"][rows], c["pref0"][rows])
        rows = rows[pref != RETURN]
        if len(rows):
            out[key] = rows
    return out


def hand_to_custody(sim: World, i: int, groups: set[tuple[int, int]] | None = None) -> int:
    """Hand the refusers in scope to custody entry ``i`` now; returns how many."""
    spec = _entry(sim, i)
    found = refusers(sim, spec, groups)
    if not found:
        return 0
    env = sim.env
    t = env.now
    rng = sim.streams.get(f"custody:{spec.id}")
    end = t + sim.draw(f"custody:{spec.id}:explanation", spec.explanation)
    keys = list(spec.choices)
    p = np.array([spec.choices[k] for k in keys], dtype=float)
    handed = []
    for key, rows in found.items():
        h, n = divmod(key, sim.n_parties)
        pick = rng.choice(len(keys), size=len(rows), p=p / p.sum())
        fate = np.full(len(rows), RESETTLED, dtype=np.int8)
        dest = np.full(len(rows), h, dtype=np.int16)  # stay: with the holder
        for j, choice in enumerate(keys):
            chosen = pick == j
            if choice == "return":
                fate[chosen], dest[chosen] = REPATRIATED, n
            elif choice.startswith("resettle:"):
                to = sim.party_ids.index(choice.split(":", 1)[1])
                fate[chosen] = REPATRIATED if to == n else RESETTLED
                dest[chosen] = to
        ends = np.full(len(rows), end)
        if spec.death_hazard > 0:
            dies = t + rng.exponential(1.0 / spec.death_hazard, len(rows))
            died = dies < end
            fate[died], ends[died] = DIED, dies[died]
        sim.table.mark_custody(rows, key, t, ends, fate, dest, i)
        handed.append((sim.party_ids[h], sim.party_ids[n], len(rows)))
    sim.version += 1
    sim.counters["custody_handovers"] += 1
    total = sum(n for *_, n in handed)
    sim.record(t, "custody", custody=spec.id, custodian=spec.custodian, handed=handed, until=end)
    env.process(_custody_end(sim, i, t, end))
    return total


def _custody_end(sim: World, i: int, since: float, end: float) -> Proc:
    """Record what the prisoners handed over at ``since`` chose, when their period ends."""
    yield sim.env.timeout(end - sim.env.now)
    if not sim.record_events:
        return
    c = sim.table.cols
    rows = np.flatnonzero((c["cust_id"] == i) & (c["t_cust"] == since))
    fate, dest, nat, holder = (
        c["cust_fate"][rows],
        c["cust_dest"][rows],
        c["nat"][rows],
        c["holder"][rows],
    )
    ids = sim.party_ids
    third = (fate == RESETTLED) & (dest != holder)
    sim.record(
        sim.env.now,
        "custody_end",
        custody=_entry(sim, i).id,
        handed=len(rows),
        home=int((fate == REPATRIATED).sum()),
        stayed=int(((fate == RESETTLED) & (dest == holder)).sum()),
        resettled=[(ids[int(d)], int((dest[third] == d).sum())) for d in np.unique(dest[third])],
        died=int((fate == DIED).sum()),
        nationalities=sorted({ids[int(q)] for q in nat}),
    )
