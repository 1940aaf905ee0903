"""Cross-references a schema cannot check field by field: every party, nationality, stream,
intermediary and channel a scenario names must exist, and be used consistently.
"""

from __future__ import annotations

from collections.abc import Mapping

from sim.scenario.custody import custody_problems
from sim.scenario.paths import PathT
from sim.scenario.remains import remains_problems
from sim.scenario.schema import AGENDA_FLAGS, Scenario


def check_references(scn: Scenario) -> list[tuple[PathT, str]]:
    """Cross-field problems a schema cannot see: undefined ids, impossible combinations."""
    problems: list[tuple[PathT, str]] = []
    ids = scn.party_ids
    known = set(ids)
    listing = ", ".join(ids)

    def need(pid: str, path: PathT, what: str = "party") -> None:
        if pid not in known:
            problems.append((path, f"{what} {pid!r} is not defined; parties are: {listing}"))

    seen: set[str] = set()
    for p in scn.parties:
        if p.id in seen:
            problems.append((("parties", p.id, "id"), f"party id {p.id!r} is used twice"))
        seen.add(p.id)
    for p in scn.parties:
        base: PathT = ("parties", p.id)
        for a in p.allies:
            need(a, (*base, "allies"))
            if a == p.id:
                problems.append(((*base, "allies"), "a party cannot be its own ally"))
        for c in p.direct_channels:
            need(c, (*base, "direct_channels"))
            if c == p.id:
                problems.append(((*base, "direct_channels"), "a party cannot talk to itself"))
        for n in p.acknowledges:
            need(n, (*base, "acknowledges", n), "nationality")
        if p.norms.one_for_one and p.norms.all_for_all:
            problems.append(((*base, "norms"), "one_for_one and all_for_all cannot both be true"))
    asylum = {p.id for p in scn.parties if p.asylum}

    def check_prefs(prefs: Mapping[str, float], path: PathT, holder: str | None) -> None:
        total = 0.0
        for key, share in prefs.items():
            total += share
            if key in ("return", "stay"):
                if key == "stay" and holder is not None and holder not in asylum:
                    pass  # allowed: they stay held (the holder offers no asylum)
                continue
            if key.startswith("resettle:"):
                target = key.split(":", 1)[1]
                if target not in known:
                    problems.append(
                        ((*path, key), f"party {target!r} is not defined; parties are: {listing}")
                    )
                elif target not in asylum:
                    problems.append(
                        (
                            (*path, key),
                            f"prisoners cannot resettle to {target!r}: that party offers "
                            f"no asylum (set parties.{target}.asylum: true)",
                        )
                    )
                continue
            problems.append(((*path, key), "expected a wish of return, stay or resettle:PARTY"))
        if prefs and abs(total - 1.0) > 1e-6:
            problems.append((path, f"shares must sum to 1, they sum to {total:g}"))

    def check_shares(shares: Mapping[str, float], path: PathT) -> None:
        total = sum(shares.values())
        if not shares:
            problems.append((path, "expected at least one category"))
        elif abs(total - 1.0) > 1e-6:
            problems.append((path, f"shares must sum to 1, they sum to {total:g}"))

    for i, h in enumerate(scn.holdings):
        base = ("holdings", i)
        need(h.holder, (*base, "holder"))
        need(h.nationality, (*base, "nationality"), "nationality")
        if h.holder == h.nationality:
            problems.append(
                ((*base, "nationality"), f"a party cannot hold its own nationals ({h.holder!r})")
            )
        check_prefs(h.preferences, (*base, "preferences"), h.holder)
        if h.preference_drift is not None:
            check_prefs(h.preference_drift.to, (*base, "preference_drift", "to"), h.holder)
        check_shares(h.categories, (*base, "categories"))
    for s in scn.capture_streams:
        base = ("capture_streams", s.id)
        need(s.captor, (*base, "captor"))
        need(s.nationality, (*base, "nationality"), "nationality")
        if s.captor == s.nationality:
            problems.append(
                (
                    (*base, "nationality"),
                    f"a capture stream's captor cannot capture its own nationals ({s.captor!r})",
                )
            )
        check_prefs(s.preferences, (*base, "preferences"), s.captor)
        if s.preference_drift is not None:
            check_prefs(s.preference_drift.to, (*base, "preference_drift", "to"), s.captor)
        check_shares(s.categories, (*base, "categories"))
    check_prefs(scn.captivity.preference_drift.to, ("captivity", "preference_drift", "to"), None)
    ids_seen: set[str] = set()
    for s in scn.capture_streams:
        if s.id in ids_seen:
            problems.append((("capture_streams", s.id, "id"), f"stream id {s.id!r} is used twice"))
        ids_seen.add(s.id)
    iseen: set[str] = set()
    for m in scn.intermediaries:
        base = ("intermediaries", m.id)
        if m.id in iseen:
            problems.append(((*base, "id"), f"intermediary id {m.id!r} is used twice"))
        if m.id in known:
            problems.append(((*base, "id"), f"{m.id!r} is already a party id"))
        iseen.add(m.id)
        for c in m.connects:
            need(c, (*base, "connects"))
        if len(set(m.connects)) < 2:
            problems.append(((*base, "connects"), "expected at least two different parties"))
    if scn.horizon <= 0:
        problems.append((("horizon",), "expected a horizon after the start date"))
    problems += format_problems(scn)
    problems += agenda_problems(scn)
    problems += custody_problems(scn.custody, ids, [m.id for m in scn.intermediaries])
    problems += remains_problems(scn.remains, ids, scn.horizon)
    return problems


def agenda_problems(scn: Scenario) -> list[tuple[PathT, str]]:
    """An agenda by category must name prisoners who can exist: an attribute or a category
    some holding or capture stream has."""
    categories = {c for h in scn.holdings for c in h.categories}
    categories |= {c for s in scn.capture_streams for c in s.categories}
    known = [*AGENDA_FLAGS, *sorted(categories)]
    return [
        (
            ("negotiation", "agenda_only"),
            f"no prisoner can be {name!r}; expected one of: {', '.join(known)}",
        )
        for name in scn.negotiation.agenda_only
        if name not in known
    ]


def format_problems(scn: Scenario) -> list[tuple[PathT, str]]:
    """Formats: unique ids, and every ``when: FORMAT.STATE`` naming another format's state."""
    problems: list[tuple[PathT, str]] = []
    states = {f.id: [s.id for s in f.states] for f in scn.formats}
    if len(states) != len(scn.formats):
        ids = [f.id for f in scn.formats]
        dup = next(i for i in ids if ids.count(i) > 1)
        problems.append((("formats", dup, "id"), f"format id {dup!r} is used twice"))
    for f in scn.formats:
        for j, t in enumerate(f.transitions):
            if t.when is None:
                continue
            other, state = t.when.split(".")
            path: PathT = ("formats", f.id, "transitions", j, "when")
            if other == f.id:
                problems.append((path, "`when` must name another format (use `hazard` or `at`)"))
            elif other not in states:
                problems.append(
                    (path, f"no format {other!r}; formats are: {', '.join(states) or 'none'}")
                )
            elif state not in states[other]:
                problems.append(
                    (path, f"format {other!r} has no state {state!r}: {', '.join(states[other])}")
                )
    return problems
