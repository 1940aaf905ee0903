"""Concession strategies: how a party's aspiration (the least it accepts, 0..1) moves during talks.

A strategy is a function ``(spec, state) -> aspiration`` registered by name, so a user can add
one with ``@register_strategy("name")``. Built in, from the negotiation literature:

* time-dependent concession (Faratin, Sierra & Jennings 1998):
  ``u(t) = 1 - (1 - r) * (t / T) ** (1 / e)``; ``boulware`` (default e = 0.2, concedes late),
  ``linear`` (e = 1), ``conceder`` (default e = 5, concedes early);
* ``tit_for_tat`` (relative tit-for-tat): concedes, in its own utility, as much as the others
  have conceded to it so far;
* ``hardliner``: holds to a fixed level (default 1) whatever happens.

Every aspiration is clipped to ``[reservation, 1]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.schema import StrategySpec


@dataclass
class ConcessionState:
    """What a strategy may look at: time into the talks and what it has been offered."""

    elapsed: float
    deadline: float
    reservation: float
    received: list[float] = field(default_factory=list)


StrategyFn = Callable[["StrategySpec", ConcessionState], float]
STRATEGIES: dict[str, StrategyFn] = {}


def register_strategy(name: str) -> Callable[[StrategyFn], StrategyFn]:
    """Register ``fn`` under ``name`` so scenarios can select it with ``strategy: name``."""

    def deco(fn: StrategyFn) -> StrategyFn:
        STRATEGIES[name] = fn
        return fn

    return deco


def time_dependent(elapsed: float, deadline: float, reservation: float, e: float) -> float:
    """Faratin–Sierra–Jennings aspiration ``1 - (1 - r) (t/T)^(1/e)``, t clipped to [0, T]."""
    frac = min(max(elapsed / deadline, 0.0), 1.0)
    return 1.0 - (1.0 - reservation) * frac ** (1.0 / e)


def agreement_time(deadline: float, reservation: float, e: float) -> float:
    """When two symmetric time-dependent agents over a linear split first agree:
    ``t* = T (1 / (2 (1 - r)))^e`` (the aspirations sum to 1)."""
    return deadline * (1.0 / (2.0 * (1.0 - reservation))) ** e


def _td(default_e: float) -> StrategyFn:
    def fn(spec: StrategySpec, s: ConcessionState) -> float:
        e = spec.e if spec.e is not None else default_e
        return time_dependent(s.elapsed, s.deadline, s.reservation, e)

    return fn


register_strategy("boulware")(_td(0.2))
register_strategy("linear")(_td(1.0))
register_strategy("conceder")(_td(5.0))


@register_strategy("tit_for_tat")
def tit_for_tat(spec: StrategySpec, s: ConcessionState) -> float:
    if len(s.received) < 2:
        return 1.0
    conceded = max(0.0, s.received[-1] - s.received[0])
    return max(s.reservation, 1.0 - conceded)


@register_strategy("hardliner")
def hardliner(spec: StrategySpec, s: ConcessionState) -> float:
    level = spec.level if spec.level is not None else 1.0
    return max(s.reservation, level)


def aspiration(spec: StrategySpec, state: ConcessionState) -> float:
    """The registered strategy's aspiration, clipped to ``[reservation, 1]``."""
    value = STRATEGIES[spec.name](spec, state)
    return min(1.0, max(state.reservation, value))
