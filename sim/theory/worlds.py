"""The stripped-down worlds the theory checks simulate, as scenario text built in code.

Owns ``quiet_world`` (captures and deaths, never any talks), ``split_world`` (two parties
bargaining over a linear split, nothing else), the split of a check's parameters into theory's
and the simulated world's (``theory_and_world``), and reading the first talks of a run
(``first_talks``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sim.model.records import RunResult


def quiet_world(rate: float, horizon: float, hazard: float = 0.0, batch: int = 1) -> str:
    """Two parties that never negotiate; ``a`` captures ``b`` in ``rate`` incidents a day,
    ``batch`` people each; prisoners die at ``hazard`` a day."""
    return f"""
name: check_quiet
start_date: 2025-01-01
horizon: {horizon}
parties:
  - {{id: a, initiative: null}}
  - {{id: b, initiative: null}}
capture_streams:
  - {{id: ab, captor: a, nationality: b, rate: {rate}, batch: {{dist: fixed, value: {batch}}}}}
captivity:
  death_hazard: {{healthy: {hazard}, wounded: {hazard}}}
"""


def split_world(
    strategy_a: str,
    strategy_b: str,
    *,
    delay: float,
    deadline: float = 100.0,
    reservation: float = 0.0,
    count: int = 1000,
    extra_a: str = "",
    extra_b: str = "",
    horizon: float = 400.0,
) -> str:
    """A linear split: each side holds ``count`` of the other's people and values its own
    coming home as much as a prisoner kept (own = chip), so the two normalised values of any
    deal sum to 1; both accept losses (any agreement beats none, as in the textbook models).
    ``a`` opens talks at day 1 (once), fixed relay delay, no breakdowns, no collapse."""
    party = """
  - id: {id}
    values: {{own: 1.0, chip: 1.0}}
    strategy: {strategy}
    reservation: {reservation}
    deadline: {deadline}
    accepts_losses: true
    initiative: {initiative}
    {extra}"""
    a = party.format(
        id="a",
        strategy=strategy_a,
        reservation=reservation,
        deadline=deadline,
        initiative="{dist: fixed, value: 1}\n    direct_channels: [b]",
        extra=extra_a,
    )
    b = party.format(
        id="b",
        strategy=strategy_b,
        reservation=reservation,
        deadline=deadline,
        initiative="null",
        extra=extra_b,
    )
    return f"""
name: check_split
start_date: 2025-01-01
horizon: {horizon}
parties:{a}{b}
holdings:
  - {{holder: a, nationality: b, count: {count}}}
  - {{holder: b, nationality: a, count: {count}}}
negotiation:
  direct_delay: {{dist: fixed, value: {delay}}}
  breakdown_risk: 0
  max_rounds: 10000
  cooldown: {{dist: fixed, value: 10000}}
  collapse: 0
timeline:
  - {{at: 1.5, set: {{parties.a.initiative: null}}}}
"""


def attrition_world(cost1: float, prize1: float, cost2: float, prize2: float, delay: float) -> str:
    """Two war-of-attrition agents (cost and prize each) over a split of 10 prisoners a side,
    ``delay``-day relays, and deadline and horizon far beyond any concession."""
    return split_world(
        f"{{name: attrition, cost: {cost1}, prize: {prize1}}}",
        f"{{name: attrition, cost: {cost2}, prize: {prize2}}}",
        delay=delay,
        deadline=10000.0,
        count=10,
        horizon=2000.0,
    )


def theory_and_world(
    defaults: Mapping[str, Any],
    params: Mapping[str, Any],
    world: Mapping[str, Any] | None,
    world_only: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Theory's parameters (defaults updated by ``params``) and the simulated world's (those
    updated by ``world``, which may also set the ``world_only`` knobs theory assumes away)."""
    theory = {**defaults, **params}
    extra = dict(world_only or {})
    unknown = (set(params) - set(defaults)) | (set(world or {}) - set(defaults) - set(extra))
    if unknown:
        raise TypeError(f"unknown check parameter(s): {', '.join(sorted(unknown))}")
    return theory, {**extra, **theory, **(world or {})}


def first_talks(res: RunResult) -> dict[str, Any]:
    """The first talks of run result ``res`` (outcome, opened, closed, rounds); none: NaN."""
    if not res.talks:
        return {"outcome": "none", "opened": math.nan, "closed": math.nan, "rounds": 0}
    return dict(res.talks[0])
