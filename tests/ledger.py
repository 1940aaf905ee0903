"""An independent ledger of the living: who holds how many, per (holder, nationality), rebuilt
from one run's records alone, and compared with the model's own census at every SimPy event.

Why: the conservation checks of the model count one fate array in which every prisoner has
exactly one fate, so they hold by construction; a deliberately broken model whose deals handed
over prisoners who had already died passed them. This ledger does not read the model's fates,
census or group index. It adds up:

- +1 per prisoner held at the start (the scenario's holdings) and per prisoner taken alive (the
  capture streams' incident records), cross-checked with the prisoners' capture times;
- -1 per natural exit (death, humanitarian release, asylum: times in the per-prisoner life
  records, which have no events), counted only for prisoners no deal or custody took first;
- -1 per prisoner in each deal's transfer lines (each stage of a staged deal) and in each
  handover to neutral custody, read from the event log, cross-checked with the deal records
  and with the prisoners marked with that deal (each must have been captured, alive, not
  released, not moved already, held by that holder with that nationality at the handover);
- custody exits at each prisoner's end of custody; remains never (they are counted apart).

A prisoner handed over dead is then subtracted twice (at death and in the deal's lines), so the
ledger and the census disagree, and the handover check names the prisoner. The ledger is exact
after every event but one case: an exit at the very instant of a policy change (a release made
due by it) may come before or after the change, so there it allows both counts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model.prisoners import DIED, REPATRIATED, RESETTLED, RETURN
from sim.model.records import RunResult
from sim.model.simulation import Simulation
from sim.scenario.schema import Scenario

Group = tuple[int, int]  # (holder, nationality), party indices
Line = tuple[int, int, int]  # (holder, nationality, destination)
Counts = dict[Any, np.ndarray]  # by group or census name, at each of several moments
FATES = ("died", "repatriated", "resettled")
PHASES = ("timeline", "format")  # changes of the scenario in force (the last at a time counts)


class LedgerViolation(AssertionError):
    """The run's records contradict each other, or the ledger contradicts the census."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n".join(f"- {p}" for p in problems[:25])
        super().__init__(f"{len(problems)} ledger violation(s):\n{shown}")


@dataclass
class Snapshot:
    """What the model said after one SimPy event (taken where it takes its census)."""

    t: float
    events: int  # events recorded by then
    census: dict[str, int]
    held: dict[Group, int]  # held per group, by the table's mask
    indexed: dict[Group, int]  # held per group, by the group index that decisions read
    remains: dict[str, int]


def observed_run(
    scn: Scenario, seed: int, replication: int
) -> tuple[Simulation, RunResult, list[Snapshot]]:
    """Run with invariants checked, keeping what the model counted at every event."""
    sim = Simulation(
        scn, seed, replication, keep_prisoners=True, record_events=True, check_invariants=True
    )
    snaps: list[Snapshot] = []
    census = sim.table.census

    def observe(t: float, *args: Any, **kwargs: Any) -> dict[str, int]:
        out = census(t, *args, **kwargs)
        tab, n, h = sim.table, sim.n_parties, sim.table.held_mask(t)
        codes = np.bincount(tab.holder[h].astype(np.int64) * n + tab.nat[h], minlength=n * n)
        mask = {divmod(int(c), n): int(codes[c]) for c in np.flatnonzero(codes)}
        index = {divmod(k, n): g.held(t) for k, g in tab.groups.items()}
        snaps.append(Snapshot(t, len(sim.events), out, mask, index, sim.remains.census(t)))
        return out

    setattr(sim.table, "census", observe)  # noqa: B010 (an instance attribute, not the method)
    return sim, sim.run(), snaps


def check_run(scn: Scenario, seed: int, replication: int) -> tuple[RunResult, list[Snapshot]]:
    """Run and check; raises ``LedgerViolation`` on any disagreement."""
    sim, res, snaps = observed_run(scn, seed, replication)
    assert sim.census_log, "the census was never taken"
    assert [c for _, c in sim.census_log] == [s.census for s in snaps[: len(sim.census_log)]]
    check_ledger(scn, res, snaps)
    return res, snaps


def check_ledger(scn: Scenario, res: RunResult, snaps: list[Snapshot]) -> None:
    problems = Ledger(scn, res).problems_with(snaps)
    if problems:
        raise LedgerViolation(problems)


def _tally(p: dict[str, np.ndarray], rows: np.ndarray, *cols: str) -> Counter[tuple[int, ...]]:
    """How many of ``rows`` have each combination of values of ``cols``."""
    return Counter(zip(*(p[c][rows].tolist() for c in cols), strict=True))


def _marked(ids: np.ndarray, times: np.ndarray) -> dict[tuple[int, float], np.ndarray]:
    """Rows by (deal or custody entry, handover time), for rows with a handover time."""
    out: defaultdict[tuple[int, float], list[int]] = defaultdict(list)
    for r in np.flatnonzero(np.isfinite(times)).tolist():
        out[(int(ids[r]), float(times[r]))].append(r)
    return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}


def _counted(times: np.ndarray, t: np.ndarray, sure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest count of ``times`` (sorted) done by each ``t``: an exit exactly at
    ``t`` is certain where ``sure``, else either (a policy change at ``t`` may set it then)."""
    upto = np.searchsorted(times, t, side="right")
    return np.where(sure, upto, np.searchsorted(times, t, side="left")), upto


class Ledger:
    """The ledger of one run (see the module docstring)."""

    def __init__(self, scn: Scenario, res: RunResult) -> None:
        self.scn, self.res, self.p = scn, res, res.prisoners
        self.ids = scn.party_ids
        self.index = {pid: q for q, pid in enumerate(self.ids)}
        self.problems: list[str] = []
        self.problem = self.problems.append
        staged = {d["deal"] for _, kind, d in res.events if kind == "stage"}
        # people moving by deal, per event: (event index, day, deal, lines)
        self.units: list[tuple[int, float, int, Counter[Line]]] = []
        self.handed: list[tuple[int, float, str, Counter[Group]]] = []  # custody handovers
        for i, (t, kind, d) in enumerate(res.events):
            if kind == "stage" or (kind == "executed" and d["deal"] not in staged):
                self.units.append((i, t, d["deal"], self.lines(d["transfers"])))
            elif kind == "custody":
                self.handed.append((i, t, d["custody"], self.lines(d["handed"])))
        # who came in: (what, source code, group, capture times), from the scenario's holdings
        # and the capture streams' incident records
        self.sources: list[tuple[str, int, Group, np.ndarray]] = []
        for i, h in enumerate(scn.holdings):
            group = (self.index[h.holder], self.index[h.nationality])
            times = np.full(h.count, min(h.captured, 0.0))
            self.sources.append((f"holding {i}", -1 - i, group, times))
        for i, st in enumerate(scn.capture_streams):
            inc = res.incidents.get(st.id)
            times = np.empty(0) if inc is None else np.repeat(inc.t, inc.taken)
            group = (self.index[st.captor], self.index[st.nationality])
            self.sources.append((f"stream {st.id}", i, group, times))

    def lines(self, raw: list[Any]) -> Counter[Any]:
        """Party ids to indices in (holder, nationality[, destination], count) lines, summed."""
        out: Counter[Any] = Counter()
        for *parties, n in raw:
            out[tuple(self.index[x] for x in parties)] += n
        return +out

    # ------------------------------------------------------------------ the records agree
    def check_sources(self) -> None:
        """The prisoners of each source are those its record says, when it says."""
        for what, code, group, times in self.sources:
            rows = np.flatnonzero(self.p["source"] == code)
            if not np.array_equal(np.sort(self.p["t_cap"][rows]), np.sort(times)):
                self.problem(f"{what}: {len(rows)} prisoners, {len(times)} in its record")
            if set(_tally(self.p, rows, "holder", "nat")) - {group}:
                self.problem(f"{what}: prisoners of another holder or nationality")

    def _handovers(
        self, name: Callable[[int], str], logged: dict[Any, Counter[Any]], ids: str, at: str
    ) -> Iterator[tuple[str, float, np.ndarray]]:
        """Per handover (deal or custody entry, time), the prisoners marked with it: they tally
        with the log, line by line, and were captured, alive and still held then."""
        p, rows_of = self.p, _marked(self.p[ids], self.p[at])
        cols = ("holder", "nat", "dest") if ids == "deal_id" else ("holder", "nat")
        for key in sorted(set(logged) | set(rows_of)):
            rows, t, what = rows_of.get(key, np.empty(0, dtype=np.int64)), key[1], name(key[0])
            got, log = _tally(p, rows, *cols), logged.get(key, Counter())
            if got != log:
                self.problem(f"{what} at t={t:g}: {dict(got)} by the prisoners, {dict(log)} logged")
            both = np.isfinite(p["t_deal"][rows] + p["t_cust"][rows])
            for gone, bad in (
                ("not yet captured", p["t_cap"][rows] > t),
                ("already dead", p["t_death"][rows] <= t),
                ("already released (humanitarian release or asylum)", p["t_exo"][rows] <= t),
                ("moved by a deal and handed to custody", both),
            ):
                if bad.any():
                    self.problem(f"{what} at t={t:g}: {int(bad.sum())} prisoner(s) {gone}")
            yield what, t, rows

    def _pref(self, rows: np.ndarray, t: float) -> np.ndarray:
        return np.where(self.p["t_drift"][rows] <= t, self.p["pref1"][rows], self.p["pref0"][rows])

    def check_deals(self) -> None:
        """Deal records, deal events and the prisoners marked with each deal agree, unit by
        unit (a stage, or a deal carried out at once); each prisoner moved was held then."""
        p = self.p
        events: defaultdict[tuple[int, float], Counter[Line]] = defaultdict(Counter)
        for _, t, deal, lines in self.units:
            events[(deal, t)] += lines
        if np.any((p["deal_id"] >= 0) != np.isfinite(p["t_deal"])):
            self.problem("prisoners marked with a deal but no handover time, or the reverse")
        for what, t, rows in self._handovers(lambda d: f"deal #{d}", events, "deal_id", "t_deal"):
            abroad = rows[p["dest"][rows] != p["nat"][rows]]
            if np.any(self._pref(abroad, t) != 2 + p["dest"][abroad]):
                self.problem(f"{what}: prisoners resettled who did not wish to go there")
        by_id: dict[int, dict[str, Any]] = {}
        for d in self.res.deals:
            if d["deal"] in by_id:
                self.problem(f"deal #{d['deal']} recorded twice")
            by_id[d["deal"]] = d
        for deal in {k[0] for k in events} - set(by_id):
            self.problem(f"deal #{deal} moved people but has no deal record")
        for deal, d in by_id.items():
            units = d.get("stages") or [(d["day"], d.get("transfers", []))]
            record: dict[float, Counter[Line]] = defaultdict(Counter)
            for t, lines in [] if d["outcome"] == "collapsed" else units:
                record[t] += self.lines(lines)
            record = {t: c for t, c in record.items() if c}
            logged = {t: c for (k, t), c in events.items() if k == deal and c}
            if record != logged:
                self.problem(f"deal #{deal}: its record ({record}) differs from its events")
            moved = sum(sum(c.values()) for c in record.values())
            if d["moved"] != moved or int((p["deal_id"] == deal).sum()) != moved:
                self.problem(f"deal #{deal}: records {d['moved']} moved, its lines {moved}")

    def check_custody(self) -> None:
        """Handovers to neutral custody agree with the prisoners marked, who were held and
        refused to go home; each end of custody agrees with their choices."""
        p, order = self.p, [c.id for c in self.scn.custody]
        logged: defaultdict[tuple[int, float], Counter[Group]] = defaultdict(Counter)
        for _, t, cid, groups in self.handed:
            logged[(order.index(cid), t)] += groups
        ends = [
            (d["custody"], t, d["handed"], d["home"], d["stayed"], d["died"])
            for t, kind, d in self.res.events
            if kind == "custody_end"
        ]
        names = [f"custody {c}" for c in order]
        for what, t, rows in self._handovers(names.__getitem__, logged, "cust_id", "t_cust"):
            if np.any(self._pref(rows, t) == RETURN):
                self.problem(f"{what}: prisoners who wished to go home handed to custody")
            fate, dest, end = p["cust_fate"][rows], p["cust_dest"][rows], p["t_cust_end"][rows]
            alive, home = fate != DIED, dest == p["nat"][rows]
            if np.any(alive & (fate != np.where(home, REPATRIATED, RESETTLED)) | (end < t)):
                self.problem(f"{what}: a choice disagrees with its destination, or ends early")
            if not alive.any() or end[alive].max() > self.res.horizon:
                continue  # (the end of custody is logged at the end of the period)
            stayed = alive & ~home & (dest == p["holder"][rows])
            counts = (len(rows), int((alive & home).sum()), int(stayed.sum()), int((~alive).sum()))
            if not any(
                e[0] == what.split()[1] and abs(e[1] - end[alive].max()) < 1e-9 and e[2:] == counts
                for e in ends
            ):
                self.problem(f"{what} handed at t={t:g}: no custody_end with {counts}")

    # ------------------------------------------------------------------ the ledger
    def problems_with(self, snaps: list[Snapshot]) -> list[str]:
        self.check_sources()
        self.check_deals()
        self.check_custody()
        self.check_remains(snaps)
        self.compare(snaps)
        return self.problems

    def compare(self, snaps: list[Snapshot]) -> None:
        """The ledger against the census, group by group, after every event."""
        t = np.array([s.t for s in snaps])
        k = np.array([s.events for s in snaps])
        lo, hi = self.at(t, k)
        for g in {g for s in snaps for g in (*s.held, *s.indexed)} - set(lo):
            lo[g] = hi[g] = 0 * t  # groups the model knows and the ledger does not: held none
        for name in sorted(lo, key=str):
            if isinstance(name, tuple):
                label = f"held by {self.ids[name[0]]} of {self.ids[name[1]]}"
                model = {"held": [s.held.get(name, 0) for s in snaps]}
                model["index"] = [s.indexed.get(name, 0) for s in snaps]
            else:
                label, model = name, {"census": [s.census[name] for s in snaps]}
            for source, values in model.items():
                v = np.asarray(values)
                shown: set[tuple[float, int]] = set()  # a few, at distinct moments
                for j in np.flatnonzero((v < lo[name]) | (v > hi[name])).tolist():
                    if len(shown) < 3 and (t[j], k[j]) not in shown:
                        shown.add((t[j], k[j]))
                        self.problem(
                            f"{label} at t={t[j]:g} (after {k[j]} events): ledger "
                            f"{lo[name][j]}..{hi[name][j]}, {source} {v[j]}"
                        )
        self.check_outputs()

    def at(self, t: np.ndarray, k: np.ndarray) -> tuple[Counts, Counts]:
        """Ledger counts after ``k`` events at time ``t`` (arrays), as lowest and highest
        values (they differ only for exits exactly at a policy change not yet made)."""
        p, res = self.p, self.res
        phase_at = {when: i for i, (when, kind, _) in enumerate(res.events) if kind in PHASES}
        sure = np.array([phase_at.get(float(a), -1) < b for a, b in zip(t, k, strict=True)])
        zero = np.zeros(len(t), dtype=np.int64)
        lo: dict[Any, np.ndarray] = defaultdict(lambda: zero.copy())
        hi: dict[Any, np.ndarray] = defaultdict(lambda: zero.copy())

        def add(key: Any, low: np.ndarray, high: np.ndarray | None = None) -> None:
            lo[key] = lo[key] + low
            hi[key] = hi[key] + (low if high is None else high)

        for _, code, group, times in self.sources:  # held at the start: captured by day 0
            came = np.searchsorted(np.sort(times), t, side="right")
            add(group, came)
            add("initial_held" if code < 0 else "captured", came)
        # natural exits, of prisoners no deal or custody took first
        natural = np.minimum(p["t_death"], p["t_exo"])
        first = np.isfinite(natural) & (natural <= np.minimum(p["t_deal"], p["t_cust"]))
        died = p["t_death"] <= p["t_exo"]
        fate = np.where(died, DIED, p["exo_fate"])
        if np.any(first & ~np.isin(fate, (DIED, REPATRIATED, RESETTLED))):
            self.problem("an exogenous release with no fate")
        for code, name in zip((DIED, REPATRIATED, RESETTLED), FATES, strict=True):
            a, b = _counted(np.sort(natural[first & (fate == code)]), t, sure)
            add(name, a, b)
        for g in list(lo):
            if isinstance(g, tuple):
                rows = first & (p["holder"] == g[0]) & (p["nat"] == g[1])
                a, b = _counted(np.sort(natural[rows]), t, sure)
                add(g, -b, -a)
        # deals and custody handovers, from the event log
        size = len(res.events) + 1
        steps: defaultdict[Any, np.ndarray] = defaultdict(lambda: np.zeros(size, int))
        for i, _, _, lines in self.units:
            for (h, q, dest), n in lines.items():
                steps[(h, q)][i + 1] -= n
                steps["repatriated" if dest == q else "resettled"][i + 1] += n
        for i, _, _, groups in self.handed:
            for g, n in groups.items():
                steps[g][i + 1] -= n
                steps["in_custody"][i + 1] += n
        for key, step in steps.items():
            add(key, np.cumsum(step)[k])
        # ends of custody, from each prisoner's record
        inside = np.isfinite(p["t_cust"])
        end, alive = p["t_cust_end"][inside], p["cust_fate"][inside] != DIED
        home = p["cust_dest"][inside] == p["nat"][inside]
        for name, sign, rows in (
            ("in_custody", -1, alive | ~alive),
            ("died", 1, ~alive),
            ("repatriated", 1, alive & home),
            ("resettled", 1, alive & ~home),
        ):
            add(name, sign * np.searchsorted(np.sort(end[rows]), t, side="right"))
        keys = [g for g in lo if isinstance(g, tuple)]
        add("held", sum((lo[g] for g in keys), zero), sum((hi[g] for g in keys), zero))
        for name in ("initial_held", "captured"):  # even with no holdings or streams
            add(name, zero)
        return dict(lo), dict(hi)

    def check_outputs(self) -> None:
        """The run's outputs at the horizon, and its daily series, agree with the ledger."""
        res, o = self.res, self.res.outcomes
        lo, _ = self.at(np.array([res.horizon]), np.array([len(res.events)]))
        pairs = {"held_at_end": "held", "in_custody_at_end": "in_custody"}
        for name in ("initial_held", "captured", "died", "repatriated", "resettled", *pairs):
            if o[name] != lo[pairs.get(name, name)][0]:
                self.problem(f"outcome {name} {o[name]}, ledger {lo[pairs.get(name, name)][0]}")
        people = sum(sum(lines.values()) for *_, lines in self.units)
        handed = sum(sum(groups.values()) for *_, groups in self.handed)
        if o["exchanged"] != people or o["handed_to_custody"] != handed:
            self.problem(f"outcomes exchanged/handed {o['exchanged']}/{o['handed_to_custody']}")
        grid = np.asarray(res.grid, dtype=float)
        when = np.array([e[0] for e in res.events], dtype=float)
        glo, _ = self.at(grid, np.searchsorted(when, grid, side="right"))
        for (h, q), series in res.held_series.items():
            if not np.array_equal(series, glo.get((self.index[h], self.index[q]), 0 * grid)):
                self.problem(f"held series of {h} holding {q} disagrees with the ledger")

    def check_remains(self, snaps: list[Snapshot]) -> None:
        """Remains are counted apart: their handovers are never among the people moved, and the
        remains census follows the remains events."""
        res, initial = self.res, sum(r.initial for r in self.scn.remains)
        moved = np.zeros(len(res.events) + 1, dtype=np.int64)
        with_deal: dict[int, list[Any]] = {}
        for i, (_, kind, d) in enumerate(res.events):
            if kind == "remains":
                moved[i + 1] = sum(n for *_, n in d["transfers"])
                if d["deal"] is not None:
                    with_deal[d["deal"]] = [tuple(x) for x in d["transfers"]]
        total = np.cumsum(moved)
        for s in snaps:
            if s.remains["initial"] != initial or s.remains["repatriated"] != total[s.events]:
                self.problem(f"remains at t={s.t:g}: census {s.remains}, logged {total[s.events]}")
                break
        for d in res.deals:
            if [tuple(x) for x in d.get("remains", [])] != with_deal.get(d["deal"], []):
                self.problem(f"deal #{d['deal']}: remains in its record differ from its events")
        if res.outcomes["remains_repatriated"] != total[-1]:
            self.problem("outcome remains_repatriated differs from the remains events")
