"""Remains of the dead in the scenario schema: stocks held by each side, added to by the
fighting, handed over with deals or in repatriations of their own; counted apart from prisoners.

Real exchanges trade bodies alongside the living, and often in far larger numbers: Ukraine
received 909 bodies on 2025-04-18 and 6,057 in June 2025 under the Istanbul deal, against 41 and
78 returned to Russia (``ua_ru_exchanges.csv``, rows of kind ``bodies``). A ``remains`` entry is
one stock: remains of ``nationality``'s dead held by ``holder``, ``initial`` at day 0, with
additions as a Poisson process at ``added`` per day (piecewise, like capture rates: the dead
recovered from the battlefield). They leave the stock only by being handed over to the
nationality's side:

- with deals: each executed deal whose parties include the holder and the nationality takes
  ``with_deals`` (a share of the stock then held, rounded to the nearest whole) with it;
- in repatriations of remains apart from deals (``returns``): on dated days (``at``) and at
  random times (``rate`` per day), each handing over ``share`` of the stock then held.

Remains never enter the prisoner table: no people count (``repatriated``, ``exchanged``,
``cumulative_returned``) includes them. For each stock, at every moment,
``initial + added = repatriated + held``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from sim.scenario.fields import Day, Id, Model, Share
from sim.scenario.paths import PathT
from sim.scenario.rates import Rates


class RemainsReturns(Model):
    """Repatriations of remains apart from deals: on dates, and at random times."""

    at: list[Day] = Field(default_factory=list, description="days (or dates) of handovers")
    rate: float = Field(0.0, ge=0, le=10, description="handovers per day at random times (Poisson)")
    share: Share = Field(1.0, description="share of the stock then held handed over each time")


class Remains(Model):
    """A stock of remains of one nationality's dead held by one party, and what adds to it."""

    id: Id = Field(description="identifier (names its random stream `remains:ID`)")
    holder: Id = Field(description="party holding the remains")
    nationality: Id = Field(description="nationality of the dead (a party id)")
    initial: int = Field(0, ge=0, le=10_000_000, description="remains held at day 0")
    added: Rates = Field(
        default_factory=list,
        description="remains added per day (Poisson): a number, or phases [{from, per_day}]",
    )
    with_deals: Share = Field(
        0.0,
        description="share of the stock handed over with each executed deal between the "
        "holder and the nationality",
    )
    returns: RemainsReturns | None = Field(
        None, description="repatriations of remains apart from deals"
    )


def remains_problems(
    items: Sequence[Remains], parties: Sequence[str], horizon: float
) -> list[tuple[PathT, str]]:
    """Cross-references of the remains stocks: ids unique, parties defined and different,
    dated handovers within the run."""
    problems: list[tuple[PathT, str]] = []
    known = set(parties)
    listing = ", ".join(parties)
    seen: set[str] = set()
    for r in items:
        base: PathT = ("remains", r.id)
        if r.id in seen:
            problems.append(((*base, "id"), f"remains id {r.id!r} is used twice"))
        seen.add(r.id)
        for key in ("holder", "nationality"):
            pid = getattr(r, key)
            if pid not in known:
                problems.append(
                    ((*base, key), f"party {pid!r} is not defined; parties are: {listing}")
                )
        if r.holder == r.nationality:
            problems.append(
                ((*base, "nationality"), f"a party does not hold its own dead ({r.holder!r})")
            )
        if r.returns is not None:
            for j, day in enumerate(r.returns.at):
                if not 0 <= day <= horizon:
                    problems.append(
                        (
                            (*base, "returns", "at", j),
                            f"expected a day between 0 and the horizon ({horizon:g}), got {day:g}",
                        )
                    )
    return problems
