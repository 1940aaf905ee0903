"""Negotiating formats as SimPy processes: each format moves between its states by itself.

One process per format (``sim.scenario.formats``). In a state, the process waits for the first
of: the competing hazards of the state's transitions (an exponential time at their summed
rate, then one of them with probability proportional to its rate: drawn from the format's own
stream ``format:ID``, so formats never disturb the draws of captures or talks), the next dated
transition out of the state, and any ``when`` transition's event (another format entering a
state, or being in it already). Then it enters the new state through ``World.enter_state``,
which lays the state's overrides over the scenario in force (``sim.scenario.phases.in_force``)
and records it.
"""

from __future__ import annotations

import math

import simpy

from sim.model.world import Proc, World
from sim.scenario.formats import Format, Transition


def _next_dated(outs: list[Transition], now: float) -> Transition | None:
    dated = [t for t in outs if t.at is not None and t.at >= now]
    return min(dated, key=lambda t: t.at or 0.0) if dated else None


def _hazard_pick(sim: World, stream: str, hazards: list[Transition]) -> tuple[float, Transition]:
    """Waiting time and winner of competing exponential hazards."""
    total = sum(t.hazard or 0.0 for t in hazards)
    wait = -math.log1p(-sim.uniform(stream)) / total
    u = sim.uniform(stream) * total
    for t in hazards:
        u -= t.hazard or 0.0
        if u < 0:
            return wait, t
    return wait, hazards[-1]


def format_process(sim: World, i: int, fmt: Format) -> Proc:
    """Move format ``i`` between its states until the run ends."""
    stream = f"format:{fmt.id}"
    env = sim.env
    while True:
        here = fmt.states[sim.states[i]].id
        outs = [t for t in fmt.transitions if t.from_ == here]
        hazards = [t for t in outs if t.hazard is not None]
        dated = _next_dated(outs, env.now)
        waits: dict[simpy.Event, Transition] = {}
        if hazards:
            wait, pick = _hazard_pick(sim, stream, hazards)
            if dated is None or env.now + wait < (dated.at or 0.0):
                waits[env.timeout(wait)] = pick
                dated = None
        if dated is not None:
            waits[env.timeout((dated.at or 0.0) - env.now)] = dated
        for t in outs:
            if t.when is not None:
                other, state = t.when.split(".")
                waits[sim.format_event(other, state)] = t
        if not waits:
            return  # an absorbing state
        fired = yield env.any_of(list(waits))
        chosen = next(waits[e] for e in waits if e in fired)
        sim.enter_state(i, fmt.state_index(chosen.to), chosen.note)
