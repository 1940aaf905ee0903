"""Neutral custody in the scenario schema: prisoners who refuse to go home, handed to a neutral
custodian for an explanation period, after which each chooses home, staying, or a third country.

Geneva III (art. 118) obliges release and repatriation at the end of hostilities; the Korean
armistice (1953) added the alternative that shaped every later debate on non-repatriation:
prisoners who did not wish to return were handed to the Neutral Nations Repatriation Commission
(India chairing, an Indian custodial force), their own side could "explain" to them for 90 days,
and then each went home, stayed with the side that had held him, or left for a neutral country.
Art. 111 provides for internment in a neutral state more generally.

A ``custody`` entry names the custodian (a party or an intermediary), whose refusers it takes
(holders, nationalities), when (``trigger``), the explanation period and the choices made at
its end. A *refuser* is a prisoner still held whose wish at that moment is not ``return``.
Handing over:

- ``trigger: deal`` (default): each executed deal that repatriates one of its nationalities from one
  of its holders is followed, ``delay`` days later, by the handover of that group's refusers;
- ``trigger: activation``: every refuser in scope is handed over ``delay`` days after the entry
  becomes ``active`` (at day 0 if it is active from the start; later when a timeline change or a
  format state sets ``custody.ID.active: true``).

Nothing is handed over while ``active`` is false, so a dated arrangement is a timeline change of
``active``. The explanation period is one draw per handover (the commission's period is the
same for everyone handed over together); each prisoner's choice is drawn at the handover and
takes effect at its end; ``death_hazard`` (per day) may end a custody earlier by death.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import Field

from sim.scenario.dists import Dist, Fixed
from sim.scenario.fields import Id, Model
from sim.scenario.paths import PathT

CHOICES_HELP = (
    "share by choice at the end of the explanation: return (home), stay (with the side that "
    "held them), resettle:PARTY (a third country); shares sum to 1"
)


class Custody(Model):
    """Neutral custody of prisoners who refuse to go home, for an explanation period."""

    id: Id = Field(description="identifier (names its random stream `custody:ID`)")
    name: str | None = Field(None, description="display name")
    custodian: Id = Field(
        description="the neutral custodian: a party or an intermediary id (not one of `holders`)"
    )
    holders: list[Id] = Field(
        default_factory=list,
        description="parties that hand their refusers over (default: every party but the "
        "custodian)",
    )
    nationalities: list[Id] = Field(
        default_factory=list, description="whose refusers (default: every nationality)"
    )
    trigger: Literal["deal", "activation"] = Field(
        "deal",
        description="deal: after each executed deal repatriating one of its nationalities from "
        "one of its holders, that group's refusers; activation: every refuser in scope, when "
        "it becomes active",
    )
    active: bool = Field(
        True, description="hands over only while true (a timeline or a format can change it)"
    )
    delay: Dist = Field(
        default_factory=lambda: Fixed(dist="fixed", value=0.0),
        description="days from the trigger to the handover",
    )
    explanation: Dist = Field(
        default_factory=lambda: Fixed(dist="fixed", value=90.0),
        description="days in custody before the choice takes effect (one draw per handover)",
    )
    choices: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {"stay": 1.0}, description=CHOICES_HELP
    )
    death_hazard: float = Field(0.0, ge=0, le=1, description="per day in custody")
    note: str = Field("", description="what it is (shown in traces)")


def custody_problems(
    items: Sequence[Custody], parties: Sequence[str], intermediaries: Sequence[str]
) -> list[tuple[PathT, str]]:
    """Cross-references of the custody entries: ids unique, every party named exists, the
    custodian exists and is none of the holders, choices are known and sum to 1."""
    problems: list[tuple[PathT, str]] = []
    known = set(parties)
    listing = ", ".join(parties)
    seen: set[str] = set()
    for c in items:
        base: PathT = ("custody", c.id)
        if c.id in seen:
            problems.append(((*base, "id"), f"custody id {c.id!r} is used twice"))
        seen.add(c.id)
        if c.custodian not in known and c.custodian not in intermediaries:
            problems.append(
                (
                    (*base, "custodian"),
                    f"{c.custodian!r} is neither a party nor an intermediary; parties are: "
                    f"{listing}; intermediaries are: {', '.join(intermediaries) or 'none'}",
                )
            )
        for key in ("holders", "nationalities"):
            for pid in getattr(c, key):
                if pid not in known:
                    problems.append(
                        ((*base, key), f"party {pid!r} is not defined; parties are: {listing}")
                    )
        if c.custodian in c.holders:
            problems.append(
                (
                    (*base, "holders"),
                    f"the custodian {c.custodian!r} cannot be one of the holders: custody is "
                    "neutral",
                )
            )
        total = 0.0
        for key, share in c.choices.items():
            total += share
            path: PathT = (*base, "choices", key)
            if key in ("return", "stay"):
                continue
            if key.startswith("resettle:"):
                target = key.split(":", 1)[1]
                if target not in known:
                    problems.append(
                        (path, f"party {target!r} is not defined; parties are: {listing}")
                    )
                elif target in c.nationalities and len(c.nationalities) == 1:
                    problems.append((path, f"resettle:{target} is going home: use `return`"))
                continue
            problems.append((path, "expected a choice of return, stay or resettle:PARTY"))
        if not c.choices:
            problems.append(((*base, "choices"), "expected at least one choice"))
        elif abs(total - 1.0) > 1e-6:
            problems.append(((*base, "choices"), f"shares must sum to 1, they sum to {total:g}"))
    return problems
