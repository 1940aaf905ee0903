"""Concession strategies: how a party's aspiration (the least it accepts, 0..1) moves during talks.

A strategy is a function ``(spec, state) -> aspiration`` registered by name, so a user can add
one with ``@register_strategy("name")``. Built in, from the negotiation literature:

* time-dependent concession (Faratin, Sierra & Jennings 1998):
  ``u(t) = 1 - (1 - r) * (t / T) ** (1 / e)``; ``boulware`` (default e = 0.2, concedes late),
  ``linear`` (e = 1), ``conceder`` (default e = 5, concedes early);
* ``tit_for_tat`` (relative tit-for-tat): concedes, in its own utility, as much as the others
  have conceded to it so far;
* ``hardliner``: holds to a fixed level (default 1) whatever happens;
* ``rubinstein`` (Rubinstein 1982): the subgame-perfect demand of alternating offers with
  discounting: as proposer its equilibrium share ``(1 - d_o) / (1 - d_s d_o)`` (per-round
  factors ``d = discount ** round_days``), as responder what waiting one round is worth;
* ``attrition`` (war of attrition): holds out for everything, then concedes everything at a
  time drawn once per talks, exponential with rate ``cost / prize`` (default 1/30 a day).

Every aspiration is clipped to ``[reservation, 1]``. A party whose ``discount`` is below 1
values a deal reached ``tau`` days into talks at ``discount ** tau`` times its normalised value;
its aspiration is on that discounted scale (see ``sim.model.talks._aspiration``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sim.scenario.dists import Exponential

if TYPE_CHECKING:
    from sim.scenario.dists import _Dist


class StrategySpec(Protocol):
    """What a strategy reads of its scenario entry (``sim.scenario.schema.StrategySpec`` is one):
    the registry sits below the schema, which checks names against it."""

    @property
    def name(self) -> str: ...
    @property
    def e(self) -> float | None: ...
    @property
    def level(self) -> float | None: ...
    @property
    def cost(self) -> float | None: ...
    @property
    def prize(self) -> float | None: ...


@dataclass
class ConcessionState:
    """What a strategy may look at: time into the talks and what it has been offered.

    ``discount`` is the party's per-day discount factor and ``other_discount`` the other
    side's (with more than two parties, the most patient other's); ``round_days`` is the
    mean relay delay of the channel (one offer); ``proposer`` says whether the party is about
    to make an offer (else it answers one); ``step`` is the normalised value to it of one unit
    of the agenda's coarsest line (offers are whole prisoners). ``memo`` persists for the
    party through one talks, and ``draw`` draws one value of a distribution from the party's
    own random stream for the strategy (``party:ID:STRATEGY``)."""

    elapsed: float
    deadline: float
    reservation: float
    received: list[float] = field(default_factory=list)
    discount: float = 1.0
    other_discount: float = 1.0
    round_days: float = 0.0
    proposer: bool = False
    step: float = 0.0
    memo: dict[str, Any] = field(default_factory=dict)
    draw: Callable[[_Dist], float] | None = None


StrategyFn = Callable[[StrategySpec, ConcessionState], float]
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


def rubinstein_share(delta_self: float, delta_other: float) -> float:
    """The proposer's subgame-perfect share of a unit pie under alternating offers with
    per-round discount factors: ``(1 - d_other) / (1 - d_self d_other)`` (Rubinstein 1982);
    1/2 without discounting (the limit of equal discount rates)."""
    denom = 1.0 - delta_self * delta_other
    if denom <= 0.0:
        return 0.5
    return (1.0 - delta_other) / denom


@register_strategy("rubinstein")
def rubinstein(spec: StrategySpec, s: ConcessionState) -> float:
    """Subgame-perfect alternating offers. Proposing, it demands its equilibrium share of a
    deal agreed one round later; answering, it accepts what waiting one round and then
    proposing is worth, ``d_self * share`` (less one unit, since the proposer rounds whole
    prisoners in its own favour). Both on the discounted scale (``discount ** days``)."""
    d_self = s.discount**s.round_days
    share = rubinstein_share(d_self, s.other_discount**s.round_days)
    now = s.discount**s.elapsed
    if s.proposer:
        return now * d_self * share
    return now * (d_self * share - s.step)


_UNIT_EXPONENTIAL = Exponential(dist="exponential", mean_=1.0)


@register_strategy("attrition")
def attrition(spec: StrategySpec, s: ConcessionState) -> float:
    """War of attrition: demands everything until its concession time, then nothing. The
    time is drawn once per talks, exponential with rate ``cost / prize`` (holding out costs
    ``cost`` a day, winning is worth ``prize``). In the complete-information mixed equilibrium
    a party concedes at the rate that leaves its *opponent* indifferent, ``c_j / V_j``; give
    each party the ratio that applies. Without a random stream it never concedes."""
    at = s.memo.get("concede_at")
    if at is None:
        cost = spec.cost if spec.cost is not None else 1.0
        prize = spec.prize if spec.prize is not None else 30.0
        unit = s.draw(_UNIT_EXPONENTIAL) if s.draw is not None else float("inf")
        at = s.memo["concede_at"] = unit * prize / cost
    return 1.0 if s.elapsed < at else s.reservation


def aspiration(spec: StrategySpec, state: ConcessionState) -> float:
    """The registered strategy's aspiration, clipped to ``[reservation, 1]``."""
    value = STRATEGIES[spec.name](spec, state)
    return min(1.0, max(state.reservation, value))
