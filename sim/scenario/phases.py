"""The scenario in force: timeline phases crossed with format states, each validated.

A run starts from the scenario as written and changes it in two ways: the timeline's dated
changes (known in advance) and the formats' states (entered at random times, see
``sim.scenario.formats``). What holds at any moment is the base, plus the timeline changes so
far (a *phase*), plus the overrides of each format's current state, in the order the formats
are listed. This module owns that composition: ``PhaseBook`` keeps the raw data of every
phase, and ``in_force(scn, phase, states)`` gives the validated ``Scenario`` for a phase and a
tuple of state indices, built once and cached on the scenario (so the replications of a chunk
share them).

Everything that can be wrong is found when the scenario is loaded, with the file, line and
field: each timeline change is applied and validated in date order, and every combination of
phase and format states is validated when there are at most ``MAX_CHECKED`` of them (else
each state alone, in every phase). The values a run cannot change (its dates, seed, holdings,
the timeline and the formats themselves) are refused in both.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from sim.errors import ScenarioError
from sim.scenario.formats import Format
from sim.scenario.paths import PathT, set_path, split_path
from sim.scenario.references import check_references
from sim.scenario.schema import Scenario
from sim.scenario.validation import Origins, validate_data

FIXED = ("timeline", "formats", "start_date", "horizon", "seed", "replications", "name", "holdings")
MAX_CHECKED = 512  # combinations of phase and format states validated at load time

States = tuple[int, ...]


@dataclass(eq=False)
class PhaseBook:
    """The raw data of each timeline phase (phase 0 is the scenario as written) and the
    formats whose states are laid over it; validated scenarios are cached by (phase, states).

    Two books are equal when their phases are: the same days and notes, and equal validated
    scenarios after each timeline change (the raw data may be written differently, e.g. with
    or without defaults, and the caches may hold different variants)."""

    days: list[float]  # day each phase starts (days[0] == 0)
    notes: list[str]  # the timeline note of each phase ("" for phase 0)
    data: list[dict[str, Any]]  # without timeline and formats
    formats: list[Format]
    cache: dict[tuple[int, States], Scenario] = field(default_factory=dict)

    @property
    def initial(self) -> States:
        return tuple(f.state_index(f.initial) for f in self.formats)

    def _phases(self) -> list[Scenario | None]:
        return [self.cache.get((p, self.initial)) for p in range(1, len(self.days))]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PhaseBook):
            return NotImplemented
        same = (self.days, self.notes, self.formats) == (other.days, other.notes, other.formats)
        return same and self._phases() == other._phases()


def _refuse_fixed(key: str) -> None:
    if split_path(key)[0] in FIXED:
        raise ValueError(f"{split_path(key)[0]} cannot change during a run")


def _apply(
    current: dict[str, Any], changes: dict[str, Any], origins: Origins, where: tuple[PathT, str]
) -> None:
    """Set ``changes`` in ``current``; errors at the changed paths are reported at ``where``
    (the line map path of the change list, and the field prefix to name)."""
    base, prefix = where
    for key, value in changes.items():
        line_path: PathT = (*base, key)
        try:
            _refuse_fixed(key)
            resolved = set_path(current, key, copy.deepcopy(value))
        except ValueError as exc:
            src, line, _ = origins.locate(line_path)
            raise ScenarioError(str(exc), source=src, line=line, field=prefix + key) from None
        origins.overrides.pop(resolved, None)
        line = origins.lines.get(line_path) or origins.lines.get(base[:-1])
        origins.overrides[resolved] = (origins.source, line, prefix)


def _validated(data: dict[str, Any], origins: Origins) -> Scenario:
    scn = validate_data({**data, "timeline": [], "formats": []}, origins)
    problems = check_references(scn)
    if problems:
        path, msg = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise origins.error(path, msg + more)
    return scn


def _fork(origins: Origins) -> Origins:
    out = Origins(origins.source, origins.lines)
    out.overrides = dict(origins.overrides)
    return out


def _variant(book: PhaseBook, phase: int, states: States, origins: Origins) -> Scenario:
    data = copy.deepcopy(book.data[phase])
    here = _fork(origins)
    for i, (fmt, s) in enumerate(zip(book.formats, states, strict=True)):
        state = fmt.states[s]
        where = (("formats", fmt.id, "states", state.id, "set"), f"formats[{i}].states[{s}].set.")
        _apply(data, state.set, here, where)
    return _validated(data, here)


def resolve_phases(scn: Scenario, data: dict[str, Any], origins: Origins) -> PhaseBook:
    """Apply the timeline in date order and check every phase and format state (see above)."""
    current = copy.deepcopy(data)
    current.pop("timeline", None)
    current.pop("formats", None)
    book = PhaseBook([0.0], [""], [copy.deepcopy(current)], list(scn.formats))
    order = sorted(range(len(scn.timeline)), key=lambda i: (scn.timeline[i].at, i))
    for i in order:
        change = scn.timeline[i]
        if change.at < 0 or change.at > scn.horizon:
            src, line, _ = origins.locate(("timeline", i, "at"))
            raise ScenarioError(
                f"expected a day between 0 and the horizon ({scn.horizon:g}), got {change.at:g}",
                source=src,
                line=line,
                field=f"timeline[{i}].at",
            )
        _apply(current, change.set, origins, (("timeline", i, "set"), f"timeline[{i}].set."))
        book.days.append(change.at)
        book.notes.append(change.note or ", ".join(f"{k}={v}" for k, v in change.set.items()))
        book.data.append(copy.deepcopy(current))
        if book.formats:  # the phase alone first, so that an error names the timeline change
            _validated(copy.deepcopy(current), _fork(origins))
        phase = len(book.days) - 1
        book.cache[(phase, book.initial)] = _variant(book, phase, book.initial, origins)
    _check_formats(book, origins)
    return book


def _check_formats(book: PhaseBook, origins: Origins) -> None:
    if not book.formats:
        return
    sizes = [len(f.states) for f in book.formats]
    if len(book.days) * math.prod(sizes) <= MAX_CHECKED:
        combos: list[States] = list(itertools.product(*(range(n) for n in sizes)))
    else:  # each state alone, the others initial
        combos = [book.initial]
        for i, n in enumerate(sizes):
            combos += [(*book.initial[:i], s, *book.initial[i + 1 :]) for s in range(n)]
    for phase in range(len(book.days)):
        for states in combos:
            key = (phase, states)
            if key not in book.cache:
                book.cache[key] = _variant(book, phase, states, origins)


def phase_book(scn: Scenario) -> PhaseBook:
    """The scenario's phases (resolved when it was loaded, or now from its own values)."""
    if scn._phases is None:
        data = scn.model_dump(mode="json", by_alias=True)
        scn._phases = resolve_phases(scn, data, Origins("<scenario>", {}))
    book: PhaseBook = scn._phases
    return book


def in_force(scn: Scenario, phase: int, states: States) -> Scenario:
    """The validated scenario of timeline phase ``phase`` with format states ``states``."""
    book = phase_book(scn)
    key = (phase, states)
    found = book.cache.get(key)
    if found is None:
        found = book.cache[key] = _variant(book, phase, states, Origins(scn.name, {}))
    return found


def timeline_phases(scn: Scenario) -> list[tuple[float, Scenario]]:
    """The validated scenario after each timeline change (formats in their initial states),
    ordered by day."""
    book = phase_book(scn)
    return [(book.days[p], in_force(scn, p, book.initial)) for p in range(1, len(book.days))]
