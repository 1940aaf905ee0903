"""Structural zeros: exchanges that a scenario's own assumptions rule out in every run.

"0 of 500 runs" and "no run can" are different answers. The first is an estimate, with an
interval ("0% [0–0.8%]"); the second follows from the scenario, whatever the random draws: if
the holder or the prisoners' home refuses to talk about them, if no channel reaches both, or if
the holder gives them up only for something in return and everyone who could give it refuses
too, no run of that scenario can ever have such an exchange, and more runs would not change a
thing. ``impossible(scenario, nationality, destination)`` finds such assumptions by reading the
scenario (every timeline phase, and every combination of format states), not by counting runs;
``questions.describe_chance`` words an answer accordingly.

The rules mirror the model (``sim.model.initiative``, ``talks``, ``negotiation``) and are
conservative: a reason is given only when it holds for sure; anything the rules do not cover
(category weights of zero, a party that accepts losses, more than ``MAX_WORLDS`` combinations of
phases and states) counts as possible.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from sim.scenario.parties import Party
from sim.scenario.phases import in_force, phase_book
from sim.scenario.schema import CaptureStream, Holding, Scenario

MAX_WORLDS = 512  # combinations of timeline phase and format states read at most


@dataclass(frozen=True)
class Impossible:
    """Why no run can move a prisoner of ``nationality`` to ``destination``: each reason is an
    assumption of the scenario (named by its dotted path) that rules it out in every phase."""

    nationality: str
    destination: str
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return "; ".join(self.reasons)


def _name(p: Party) -> str:
    return p.name or p.id


def _reachable(scn: Scenario, members: set[str]) -> bool:
    """A direct channel between every pair, or one intermediary connecting them all (the
    model's ``choose_channel``, capacity aside)."""
    direct = {(a.id, b) for a in scn.parties for b in a.direct_channels}
    if all((a, b) in direct or (b, a) in direct for a, b in itertools.combinations(members, 2)):
        return True
    return any(members <= set(m.connects) for m in scn.intermediaries)


def _wishes(scn: Scenario, nationality: str) -> set[str]:
    """Every wish a prisoner of ``nationality`` can have, now or after a drift."""
    out: set[str] = set()
    sources: list[Holding | CaptureStream] = [*scn.holdings, *scn.capture_streams]
    for s in sources:
        if s.nationality != nationality:
            continue
        out |= {k for k, v in s.preferences.items() if v > 0}
        drift = s.preference_drift or scn.captivity.preference_drift
        if drift.rate > 0:
            out |= {k for k, v in drift.to.items() if v > 0}
    return out


def _holders(worlds: list[Scenario], nationality: str) -> set[str]:
    """Parties holding prisoners of ``nationality`` at the start or capturing them at any time."""
    out = {h.holder for h in worlds[0].holdings if h.nationality == nationality and h.count > 0}
    for w in worlds:
        out |= {
            s.captor
            for s in w.capture_streams
            if s.nationality == nationality and any(r.per_day > 0 for r in s.rate)
        }
    return out


def _owner(source: Holding | CaptureStream) -> str:
    return source.holder if isinstance(source, Holding) else source.captor


def _payers(worlds: list[Scenario], party: Party) -> set[str]:
    """Parties that hold or take people ``party`` values coming to it: its own nationals (if it
    values them), its allies' nationals, or prisoners who may ask to resettle with it."""
    wanted = set(party.allies) if party.values.ally > 0 else set()
    if party.values.own > 0:
        wanted.add(party.id)
    out: set[str] = set()
    for w in worlds:
        sources: list[Holding | CaptureStream] = [*w.holdings, *w.capture_streams]
        for s in sources:
            drift = s.preference_drift or w.captivity.preference_drift
            asks = f"resettle:{party.id}" in {*s.preferences, *drift.to}
            if s.nationality in wanted or (asks and party.asylum and party.values.defector > 0):
                out.add(_owner(s))
    out.discard(party.id)
    return out


def _sure_loss(party: Party, holds: bool, nationality: str, destination: str) -> str | None:
    """The value (as its dotted path and value) that makes every prisoner handed over a loss
    to ``party`` (the holder if ``holds``, else the destination), when it refuses losses;
    None if it is not a sure loss."""
    weights = [party.wounded_weight, *party.category_weights.values()]
    if party.accepts_losses or not all(x > 0 for x in weights):
        return None
    if holds:
        resettle_honoured = destination != nationality and party.honours_preferences
        if party.values.chip > 0 and not resettle_honoured:
            return f"parties.{party.id}.values.chip: {party.values.chip:g}"
        return None
    field = "own" if destination == nationality else "defector"
    value = getattr(party.values, field)
    return f"parties.{party.id}.values.{field}: {value:g}" if value < 0 else None


def _denies(scn: Scenario, party: str, nationality: str) -> str | None:
    if scn.party(party).acknowledges.get(nationality, True) is False:
        who = _name(scn.party(party))
        return (
            f"{who} does not acknowledge {_name(scn.party(nationality))}'s involvement "
            f"(parties.{party}.acknowledges.{nationality}: false)"
        )
    return None


def _blocked(
    w: Scenario, worlds: list[Scenario], holder: str, nationality: str, destination: str
) -> list[str]:
    """Every reason why ``holder`` cannot hand them to ``destination`` in world ``w``."""
    reasons: list[str] = []
    if w.negotiation.frozen:
        reasons.append("no talks open (negotiation.frozen: true)")
    for pid in dict.fromkeys((holder, destination)):
        denial = _denies(w, pid, nationality)
        if denial:
            reasons.append(denial)
    if not _reachable(w, {holder, destination}):
        reasons.append(
            f"no channel connects {_name(w.party(holder))} and {_name(w.party(destination))}"
        )
    for who, holds in ((holder, True), (destination, False)):
        party = w.party(who)
        loss = _sure_loss(party, holds, nationality, destination)
        if loss is None:
            continue
        payers = _payers(worlds, party)
        able = [
            p
            for p in sorted(payers)
            if p in (holder, destination)
            or (
                _denies(w, p, nationality) is None
                and len({holder, destination, p}) <= w.negotiation.max_parties
                and _reachable(w, {holder, destination, p})
            )
        ]
        if able:
            continue
        what = "gives them up" if holds else "takes them in"
        refusing = [r for p in sorted(payers) if (r := _denies(w, p, nationality))]
        if refusing:
            why = "every party that could pay for them refuses: " + "; ".join(refusing)
        elif payers:
            why = "no channel reaches a party that could pay for them"
        else:
            why = "nobody holds anything it wants in return"
        reasons.append(
            f"{_name(party)} {what} only at a loss ({loss}, accepts_losses: false): {why}"
        )
    return reasons


def _worlds(scn: Scenario) -> list[Scenario] | None:
    """The scenario in force in every timeline phase under every combination of format
    states (None if there are more than ``MAX_WORLDS``)."""
    book = phase_book(scn)
    sizes = [len(f.states) for f in book.formats]
    combos: Iterable[tuple[int, ...]] = itertools.product(*(range(n) for n in sizes))
    count = len(book.days)
    for n in sizes:
        count *= n
    if count > MAX_WORLDS:
        return None
    combos = list(combos)
    return [in_force(scn, phase, states) for phase in range(len(book.days)) for states in combos]


def impossible(
    scenario: Scenario, nationality: str, destination: str | None = None
) -> Impossible | None:
    """The assumptions of ``scenario`` under which no run can hand a prisoner of
    ``nationality`` to ``destination`` (default: home) in an executed deal, or None if some
    run might. Reasons that hold in every phase are given; if each phase is ruled out by a
    different one, all of them."""
    dest = nationality if destination is None else destination
    worlds = _worlds(scenario)
    if worlds is None:
        return None
    holders = _holders(worlds, nationality)
    if not holders:
        return Impossible(nationality, dest, (f"nobody holds or captures {nationality} prisoners",))
    wish = "return" if dest == nationality else f"resettle:{dest}"
    honour = all(w.party(h).honours_preferences for w in worlds for h in holders)
    if wish not in _wishes(scenario, nationality) and (honour or dest != nationality):
        return Impossible(nationality, dest, (f"none of them ever wishes to {wish}",))
    per_world: list[list[str]] = []
    for w in worlds:
        found: list[str] = []
        for h in sorted(holders):
            why = _blocked(w, worlds, h, nationality, dest)
            if not why:
                return None  # this holder can, in this phase
            found += [r for r in why if r not in found]
        per_world.append(found)
    common = [r for r in per_world[0] if all(r in rs for rs in per_world)]
    every = list(dict.fromkeys(r for rs in per_world for r in rs))
    return Impossible(nationality, dest, tuple(common or every))
