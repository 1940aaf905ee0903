"""Offers, deals and acceptance as pure functions (no SimPy, no randomness).

Talks among a set of parties are over an *agenda*: lines, each a bundle of transfers
(holder → destination of prisoners of one nationality) in fixed proportions, with a bound on how
many units of it are available. Every party values one unit of a line linearly (own nationals
home, an ally's nationals home, a defector taken in, minus chips given up), weighted by the
categories of the prisoners concerned. Values are normalised per party to 0..1 over the agenda
(0 = its worst deal, 1 = its best), which is the scale of aspirations and reservations.

Norms shape the agenda: ``all_for_all`` turns it into one all-or-nothing line; ``one_for_one``
pairs what a party gives with what it gets so every unit is balanced for it. An offer by a party
at aspiration ``a`` is the deal that gives the others the most (sum of their normalised values)
while keeping the proposer at ``a`` or above: a one-constraint linear programme over a box,
solved exactly by a greedy (fractional-knapsack) pass, then rounded in the proposer's favour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from math import gcd
from typing import NamedTuple

import numpy as np

from sim.scenario.parties import Party


class Transfer(NamedTuple):
    """Prisoners of nationality ``nat`` moving from ``holder`` to ``dest``.

    ``resettle`` is False for repatriation (``dest`` is the home party ``nat``) and True for
    resettlement with a party offering asylum."""

    holder: int
    nat: int
    dest: int
    resettle: bool = False


@dataclass
class Line:
    """A bundle: each unit moves ``count`` prisoners of each of its transfers."""

    parts: tuple[tuple[Transfer, int], ...]
    bound: int


class Agenda:
    """Lines under discussion and every participant's value of one unit of each line.

    Agendas are small (a handful of lines), so the arithmetic is plain Python on lists; the
    numpy views (``values``, ``d``, ``e``) are for callers and tests, made when first read."""

    __slots__ = ("_d", "_e", "_m", "_v", "lines", "parties")

    def __init__(
        self,
        parties: tuple[int, ...],
        lines: list[Line],
        values: np.ndarray | list[list[float]],
    ) -> None:
        self.parties = parties
        self.lines = lines
        self._v: list[list[float]] = (
            [[float(v) for v in row] for row in values.tolist()]
            if isinstance(values, np.ndarray)
            else values
        )
        self.renormalise()

    @property
    def values(self) -> np.ndarray:
        """(n_parties, n_lines) raw value of one unit to each party."""
        return np.array(self._v, dtype=float).reshape(len(self.parties), len(self.lines))

    @property
    def d(self) -> np.ndarray:
        """Normalised value per unit."""
        return np.array(self._d, dtype=float).reshape(len(self.parties), len(self.lines))

    @property
    def e(self) -> np.ndarray:
        """Normalised value of the empty deal."""
        return np.array(self._e, dtype=float)

    def renormalise(self) -> None:
        """Scale each party's values so its worst deal is 0 and its best is 1."""
        m = [float(ln.bound) for ln in self.lines]
        d: list[list[float]] = []
        e: list[float] = []
        for row in self._v:
            lo = 0.0
            span = 0.0
            for v, b in zip(row, m, strict=True):
                if v < 0:
                    lo += v * b
                    span -= v * b
                else:
                    span += v * b
            if span > 0:
                d.append([v / span for v in row])
                e.append(-lo / span)
            else:
                d.append([0.0] * len(row))
                e.append(1.0)
        self._m, self._d, self._e = m, d, e

    def potential(self) -> float:
        """Joint potential: what all members could gain at most, in their own units."""
        m = self._m
        return sum(v * b for row in self._v for v, b in zip(row, m, strict=True) if v > 0)

    def best_for(self, pos: int) -> float:
        """The most one unit of any line is worth to the party at ``pos`` (0 if none helps)."""
        return max(self._v[pos], default=0.0)

    def bounds(self) -> np.ndarray:
        return np.asarray(self._m, dtype=float)

    def utilities(self, x: list[float]) -> list[float]:
        """Normalised value of deal ``x`` (units per line) to each party, 0..1."""
        return [
            sum(a * b for a, b in zip(dq, x, strict=True)) + eq
            for dq, eq in zip(self._d, self._e, strict=True)
        ]

    def utility(self, x: np.ndarray | list[float]) -> np.ndarray:
        return np.array(self.utilities([float(v) for v in x]))

    def is_empty(self) -> bool:
        return not self.lines or all(ln.bound <= 0 for ln in self.lines)

    def transfers(self, x: np.ndarray | list[float]) -> dict[Transfer, int]:
        """Prisoners per transfer in deal ``x``."""
        out: dict[Transfer, int] = {}
        for units, line in zip(x, self.lines, strict=True):
            if units <= 0:
                continue
            for tr, k in line.parts:
                out[tr] = out.get(tr, 0) + int(units) * k
        return out

    def nationalities(self) -> set[int]:
        return {tr.nat for ln in self.lines if ln.bound > 0 for tr, _ in ln.parts}


def unit_value(party: Party, q: int, tr: Transfer, weight: float, allies: set[int]) -> float:
    """Value to party ``q`` of one prisoner moving by ``tr`` (weight = category multiplier)."""
    v = 0.0
    if tr.holder == q and not (tr.resettle and party.honours_preferences):
        # a prisoner who refuses to go home is no chip for a holder that honours his wish
        v -= party.values.chip
    if tr.dest == q:
        v += party.values.defector if tr.resettle else party.values.own
    elif not tr.resettle and tr.nat in allies:
        v += party.values.ally
    return v * weight


def _net(line: Line, q: int, allies: set[int]) -> int:
    """Gets minus gives for party ``q`` per unit (gets: own or ally nationals coming home)."""
    net = 0
    for tr, k in line.parts:
        if tr.resettle:
            continue
        if tr.holder == q:
            net -= k
        if tr.dest == q or tr.nat in allies:
            net += k
    return net


def pair_one_for_one(lines: list[Line], q: int, allies: set[int]) -> list[Line]:
    """Rebuild ``lines`` so every unit gives party ``q`` as many as it gets back."""
    keep: list[Line] = []
    pos: list[list] = []
    neg: list[list] = []
    for ln in lines:
        n = _net(ln, q, allies)
        if n == 0:
            keep.append(ln)
        elif n > 0:
            pos.append([ln, n, ln.bound])
        else:
            neg.append([ln, -n, ln.bound])
    # scarce lines first, so a handful of special prisoners is not crowded out by a mass line
    pos.sort(key=lambda e: e[2])
    neg.sort(key=lambda e: e[2])
    i = j = 0
    while i < len(pos) and j < len(neg):
        lp, a, cap_p = pos[i]
        ln_, b, cap_n = neg[j]
        g = gcd(a, b)
        ua, ub = b // g, a // g  # units of positive line, units of negative line per composite
        units = min(cap_p // ua, cap_n // ub)
        if units > 0:
            parts: dict[Transfer, int] = {}
            for tr, k in lp.parts:
                parts[tr] = parts.get(tr, 0) + k * ua
            for tr, k in ln_.parts:
                parts[tr] = parts.get(tr, 0) + k * ub
            keep.append(Line(tuple(parts.items()), int(units)))
        pos[i][2] -= units * ua
        neg[j][2] -= units * ub
        if pos[i][2] < ua:
            i += 1
        if neg[j][2] < ub:
            j += 1
    return keep


def build_agenda(
    participants: tuple[int, ...],
    available: dict[Transfer, int],
    weights: dict[tuple[int, Transfer], float],
    parties: list[Party],
    allies: list[set[int]],
) -> Agenda:
    """The lines of talks among ``participants``, with every participant's norms applied."""
    lines = [Line(((tr, 1),), n) for tr, n in available.items() if n > 0]
    if any(parties[q].norms.all_for_all for q in participants) and lines:
        lines = [Line(tuple((ln.parts[0][0], ln.bound) for ln in lines), 1)]
    for q in participants:
        if parties[q].norms.one_for_one:
            lines = pair_one_for_one(lines, q, allies[q])
    lines = [ln for ln in lines if ln.bound > 0]
    values: list[list[float]] = []
    for q in participants:
        party, own_allies = parties[q], allies[q]
        row: list[float] = []
        for ln in lines:
            v = 0.0
            for tr, k in ln.parts:
                v += k * unit_value(party, q, tr, weights.get((q, tr), 1.0), own_allies)
            row.append(v)
        values.append(row)
    return Agenda(participants, lines, values)


def make_offer(agenda: Agenda, proposer: int, aspiration: float) -> np.ndarray:
    """Units per line: the best deal for the others that keeps ``proposer`` (position in
    ``agenda.parties``) at ``aspiration`` or above, rounded in the proposer's favour."""
    m = agenda._m
    d = agenda._d
    dp = d[proposer]
    n = len(m)
    # the others' total marginal value per unit of each line
    c = [sum(row[i] for row in d) - dp[i] for i in range(n)]
    x = [m[i] if (c[i] > 0 or (c[i] == 0 and dp[i] > 0)) else 0.0 for i in range(n)]
    deficit = aspiration - (sum(a * b for a, b in zip(dp, x, strict=True)) + agenda._e[proposer])
    if deficit > 1e-12:
        # fractional knapsack: buy the proposer's value where it costs the others least
        moves = []
        for i in range(n):
            up = dp[i] > 0 and x[i] < m[i]
            if up or (dp[i] < 0 and x[i] > 0):
                gain = abs(dp[i])
                moves.append(((-c[i] if up else c[i]) / gain, i, up, gain))
        moves.sort()
        for _, i, up, gain in moves:
            step = min(m[i] - x[i] if up else x[i], deficit / gain)
            x[i] += step if up else -step
            deficit -= step * gain
            if deficit <= 1e-12:
                break
        x = [math.ceil(v - 1e-9) if dp[i] > 0 else math.floor(v + 1e-9) for i, v in enumerate(x)]
    return np.array([min(max(float(v), 0.0), m[i]) for i, v in enumerate(x)])


def accepts(
    agenda: Agenda,
    x: np.ndarray | list[float],
    aspirations: np.ndarray | list[float],
    rational: list[bool] | None = None,
) -> list[bool]:
    """Which parties accept deal ``x``: its value reaches their aspiration and, for the
    ``rational`` ones, is strictly better than no deal. Nobody accepts an empty deal."""
    xs = [float(v) for v in x]
    if not any(v > 0 for v in xs):
        return [False] * len(agenda.parties)
    u = agenda.utilities(xs)
    return [
        u[i] >= float(aspirations[i]) - 1e-9
        and not (rational is not None and rational[i] and u[i] <= agenda._e[i] + 1e-9)
        for i in range(len(u))
    ]


def balance_one_for_one(
    counts: dict[Transfer, int],
    participants: tuple[int, ...],
    parties: list[Party],
    allies: list[set[int]],
) -> dict[Transfer, int]:
    """Trim handover counts (e.g. after deaths during preparation) so every one-for-one
    participant still gives exactly as many as it gets back."""
    out = dict(counts)
    for _ in range(4):
        changed = False
        for q in participants:
            if not parties[q].norms.one_for_one:
                continue
            gives = [tr for tr in out if not tr.resettle and tr.holder == q]
            gets = [
                tr
                for tr in out
                if not tr.resettle and tr.holder != q and (tr.dest == q or tr.nat in allies[q])
            ]
            diff = sum(out[tr] for tr in gives) - sum(out[tr] for tr in gets)
            if diff == 0:
                continue  # balanced already
            side = gives if diff > 0 else gets
            excess = abs(diff)
            for tr in sorted(side, key=lambda tr: -out[tr]):
                cut = min(excess, out[tr])
                out[tr] -= cut
                excess -= cut
                changed = changed or cut > 0
        if not changed:
            break
    return out
