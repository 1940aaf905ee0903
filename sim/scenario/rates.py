"""Piecewise-constant rates per day, as capture streams and remains additions write them: a
number (one rate from day 0), or phases ``[{from, per_day}]`` in increasing order of ``from``.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from sim.scenario.fields import Day, Model


class RatePhase(Model):
    """From day `from` on, events happen at `per_day` (until the next phase)."""

    from_: Day = Field(0.0, alias="from", description="day (or date) the phase starts")
    per_day: float = Field(
        ge=0, le=10_000, description="per day (capture incidents; remains added)"
    )


def rate_shorthand(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [{"from": 0.0, "per_day": value}]
    return value


def increasing(v: list[RatePhase]) -> list[RatePhase]:
    """Rate phases must start in increasing order."""
    for a, b in itertools.pairwise(v):
        if b.from_ <= a.from_:
            raise ValueError("rate phases must be in increasing order of `from`")
    return v


# a rate written as a number or as phases (the validator of phase order comes with it)
Rates = Annotated[list[RatePhase], BeforeValidator(rate_shorthand), AfterValidator(increasing)]
