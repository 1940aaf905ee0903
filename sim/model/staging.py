"""How an agreed deal is carried out: its kind, its risk of collapse, and its stages.

Pure functions, kept apart from the SimPy process that uses them (``sim.model.deals``).

*Kind.* A deal whose every transfer hands prisoners to a third party is an **asylum** transfer;
one whose prisoners all come from one holder is a **release** (one way); anything else is an
**exchange**. Real deals differ in how often they fall through: the 2024-01-24 swap collapsed,
while a one-person asylum transfer is a unilateral act of the holder.

*Collapse risk.* ``negotiation.collapse_by_kind`` names the probability for a kind (default: 0
for asylum transfers); otherwise the largest ``collapse_by_size`` threshold the deal meets;
otherwise ``negotiation.collapse``. A guarantor (an intermediary with ``guarantee``) multiplies
it by ``guarantee_factor``.

*Stages.* Large deals were carried out in daily stages (the 2025 1,000-for-1,000 in three), or
category by category (under-25s, then the severely wounded, then others). With
``negotiation.stages``, a deal moving at least ``min_size`` people goes in ``count`` stages
``gap`` days apart; each transfer line sends ``ceil(left / stages left)`` of what it still owes
in each stage, taking its prisoners in handover order, which ``by: category`` sorts by
``order`` first. A stage may slip (``slip``: late by ``slip_delay``), and after each stage the
rest of the deal may be cancelled (``cancel``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from sim.model.negotiation import Transfer
from sim.model.prisoners import PrisonerTable
from sim.model.tradeable import on_agenda
from sim.scenario.schema import Negotiation


def deal_kind(transfers: Iterable[Transfer]) -> str:
    """``asylum``, ``release`` or ``exchange`` (see the module docstring)."""
    lines = list(transfers)
    if lines and all(tr.resettle for tr in lines):
        return "asylum"
    if len({tr.holder for tr in lines}) <= 1:
        return "release"
    return "exchange"


def collapse_risk(neg: Negotiation, size: int, kind: str, guaranteed: bool) -> float:
    """Probability that an agreed deal of ``size`` people and ``kind`` collapses."""
    by_kind: dict[str, float] = {str(k): v for k, v in neg.collapse_by_kind.items()}
    if kind in by_kind:
        p = by_kind[kind]
    else:
        met = [r for r in neg.collapse_by_size if size >= r.at_least]
        p = max(met, key=lambda r: r.at_least).collapse if met else neg.collapse
    return p * neg.guarantee_factor if guaranteed else p


def stage_count(drawn: float, size: int) -> int:
    """A drawn number of stages, rounded, at least 1 and at most one person per stage."""
    return max(1, min(size, round(drawn)))


def stage_quota(left: int, stages_left: int) -> int:
    """What a transfer line sends in this stage: an even share of what it still owes."""
    return math.ceil(left / stages_left) if stages_left > 0 else left


def category_rank(order: Sequence[str], table: PrisonerTable, rows: np.ndarray) -> np.ndarray:
    """Rank of each of ``rows`` in ``order`` (names as in agendas by category: ``wounded``,
    ``severely_wounded``, ``young`` or a category; the first entry a prisoner matches counts);
    prisoners matching none come last."""
    rank = np.full(len(rows), len(order), dtype=np.int64)
    for j in range(len(order) - 1, -1, -1):
        rank[on_agenda(table, rows, [order[j]])] = j
    return rank
