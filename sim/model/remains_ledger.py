"""The remains ledger of one run: every stock of remains (``sim.scenario.remains``) as a count
at day 0, the times of its additions drawn as an array, and the handovers made from it.

Remains are counts, not people: they never enter the prisoner table, so no count of people
includes them. Additions are a Poisson process over the stock's piecewise rate, drawn in one
block from stream ``remains:ID`` when the run starts (and redrawn from ``t`` on, continuing the
same stream, when a timeline change or a format alters the rate), so a stock's content at any
time is ``initial + additions by t - handed over by t``, read with one ``searchsorted``. Only
handovers are decisions (``sim.model.remains``); each is logged, and ``census`` checks at every
event that, for every stock, ``initial + added = repatriated + held`` with ``held >= 0``, and that
the running total handed over agrees with the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.model.streams import Streams
from sim.scenario.remains import Remains
from sim.scenario.schema import Scenario


@dataclass
class Stock:
    """One stock: whose remains, who holds them, what came in and what went out."""

    id: str
    holder: int
    nat: int
    initial: int
    added: np.ndarray  # sorted times of additions (one per body)
    given: int = 0
    # (time, count, how): how is "deal #K" or "repatriation"
    log: list[tuple[float, int, str]] = field(default_factory=list)


def addition_times(
    spec: Remains, t_from: float, horizon: float, rng: np.random.Generator
) -> np.ndarray:
    """Times of additions on [t_from, horizon] (piecewise-constant Poisson rate)."""
    chunks = []
    phases = spec.added
    for k, ph in enumerate(phases):
        a = max(ph.from_, t_from)
        b = min(phases[k + 1].from_ if k + 1 < len(phases) else horizon, horizon)
        if b <= a or ph.per_day <= 0:
            continue
        chunks.append(np.sort(rng.uniform(a, b, rng.poisson(ph.per_day * (b - a)))))
    return np.concatenate(chunks) if chunks else np.empty(0)


class RemainsLedger:
    """The stocks of remains of one run."""

    def __init__(self, scn: Scenario, streams: Streams) -> None:
        index = {pid: q for q, pid in enumerate(scn.party_ids)}
        self.horizon = float(scn.horizon)
        self.streams = streams
        self.stocks = [
            Stock(
                r.id,
                index[r.holder],
                index[r.nationality],
                r.initial,
                addition_times(r, 0.0, self.horizon, streams.get(f"remains:{r.id}")),
            )
            for r in scn.remains
        ]

    def added(self, k: int, t: float) -> int:
        """Additions to stock ``k`` by time ``t``."""
        return int(np.searchsorted(self.stocks[k].added, t, side="right"))

    def held(self, k: int, t: float) -> int:
        s = self.stocks[k]
        return s.initial + self.added(k, t) - s.given

    def hand_over(self, k: int, t: float, share: float, how: str) -> int:
        """Hand ``share`` of stock ``k`` (rounded to the nearest whole) to its nationality now;
        returns how many."""
        n = int(np.floor(share * self.held(k, t) + 0.5))
        if n > 0:
            s = self.stocks[k]
            s.given += n
            s.log.append((t, n, how))
        return n

    def rephase(self, old: Scenario, new: Scenario, t: float) -> None:
        """A change of the scenario in force at ``t``: stocks whose rate of additions changed
        keep what was added by ``t`` and are redrawn from ``t`` at the new rate."""
        for k, (a, b) in enumerate(zip(old.remains, new.remains, strict=True)):
            if a.added != b.added:
                s = self.stocks[k]
                fresh = addition_times(b, t, self.horizon, self.streams.get(f"remains:{b.id}"))
                s.added = np.concatenate([s.added[s.added <= t], fresh[fresh > t]])

    def census(self, t: float) -> dict[str, int]:
        """Totals over all stocks at ``t``; raises AssertionError if a stock is negative or its
        handovers disagree with its log."""
        out = {"initial": 0, "added": 0, "repatriated": 0, "held": 0}
        for k, s in enumerate(self.stocks):
            given = sum(n for when, n, _ in s.log if when <= t)
            if given != s.given:
                raise AssertionError(f"remains {s.id}: handed over {s.given}, logged {given}")
            held = self.held(k, t)
            if held < 0:
                raise AssertionError(f"remains {s.id}: {held} held at t={t}")
            out["initial"] += s.initial
            out["added"] += self.added(k, t)
            out["repatriated"] += given
            out["held"] += held
        if out["initial"] + out["added"] != out["repatriated"] + out["held"]:
            raise AssertionError(f"remains not conserved at t={t}: {out}")
        return out

    def by_party(self, n_parties: int) -> dict[str, list[int]]:
        """Per party: remains it handed over (``remains_given``) and remains of its own dead it
        received (``remains_received``)."""
        given = [0] * n_parties
        received = [0] * n_parties
        for s in self.stocks:
            given[s.holder] += s.given
            received[s.nat] += s.given
        return {"remains_given": given, "remains_received": received}

    def handovers(self) -> int:
        """Handovers of remains: moments remains changed hands, once however many stocks
        (both ways at one deal, or one repatriation, is one handover)."""
        return len({(when, how) for s in self.stocks for when, _, how in s.log})
