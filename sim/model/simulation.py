"""One replication of one scenario: ``Simulation(scenario, seed, replication).run()``.

Owns the SimPy environment, the named random streams, the prisoner table, the agents'
run-time state (cool-downs, busy intermediaries, active talks) and the recorder, and turns the
final state into a ``RunResult`` of flat records. Imports neither pandas nor matplotlib.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import simpy

from sim.model.captivity import apply_captivity, apply_exogenous, consume_exposure, drift_rates
from sim.model.captures import holding_block, stream_block
from sim.model.custody import custody_watch
from sim.model.formats import format_process
from sim.model.initiative import party_initiative
from sim.model.negotiation import Transfer
from sim.model.outcome import build_result
from sim.model.prisoners import Incidents, PrisonerTable
from sim.model.records import RunResult
from sim.model.remains import remains_returns
from sim.model.remains_ledger import RemainsLedger
from sim.model.streams import DrawBuffer, Streams
from sim.model.timeline import timeline
from sim.model.world import Talks
from sim.scenario.dists import Fixed, _Dist
from sim.scenario.phases import in_force, phase_book
from sim.scenario.schema import Scenario


class Simulation:
    """One replication. ``check_invariants`` re-counts the census after every event."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        replication: int = 0,
        *,
        check_invariants: bool = False,
        keep_prisoners: bool = False,
        record_events: bool = True,
    ) -> None:
        self.book = phase_book(scenario)
        self.phase = 0  # the timeline phase in force
        self.states = self.book.initial  # the state of each format
        # the scenario in force: as written, or with the formats' initial states laid over it
        self.scn = in_force(scenario, 0, self.states) if scenario.formats else scenario
        self.record_events = record_events
        self.base = scenario
        self.seed = int(scenario.seed if seed is None else seed)
        self.replication = int(replication)
        self.check_invariants = check_invariants
        self.keep_prisoners = keep_prisoners
        self.streams = Streams(self.seed, self.replication)
        self.env = simpy.Environment()
        self.party_ids = scenario.party_ids
        self.party_index = {pid: i for i, pid in enumerate(self.party_ids)}
        self.n_parties = len(self.party_ids)
        self.table = PrisonerTable(len(scenario.parties))
        self.remains = RemainsLedger(self.scn, self.streams)
        self.incidents: dict[str, Incidents] = {}
        self.counters: defaultdict[str, int] = defaultdict(int)
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self.talks: list[Talks] = []
        self.deals: list[dict[str, Any]] = []
        self.first_deal_day: float | None = None
        self.cooldown_until: dict[tuple[int, ...], float] = {}
        self.active_sets: set[tuple[int, ...]] = set()
        self.busy: dict[str, int] = {}
        self.reserved: dict[Transfer, int] = {}
        self.version = 0  # bumped whenever who is held may change other than by time
        self.counts_cache: tuple[float, int, dict[Transfer, int]] | None = None
        self._ids: defaultdict[str, int] = defaultdict(int)
        self._buffers: dict[tuple[str, int], tuple[DrawBuffer, Any]] = {}
        self._rebased = 0.0
        self.phase_changed = self.env.event()
        self.census_log: list[tuple[float, dict[str, int]]] = []
        # (day, format, state) each time a format changes state; its events by (format, state)
        self.format_log: list[tuple[float, int, int]] = []
        self._format_events: dict[tuple[int, int], simpy.Event] = {}
        self._set_flags()

    # ------------------------------------------------------------------ helpers for agents
    def _set_flags(self) -> None:
        self.memo: dict[Any, Any] = {}  # pure functions of the scenario in force, remembered
        parties = self.scn.parties
        idx = self.party_index
        self.allies = [{idx[a] for a in p.allies} for p in parties]
        self.flags_humanitarian = np.array([p.humanitarian_release for p in parties])
        self.flags_asylum = np.array([p.asylum for p in parties])
        self.flags_honours = np.array([p.honours_preferences for p in parties])
        n = self.n_parties
        self.direct = np.zeros((n, n), dtype=bool)
        for i, p in enumerate(parties):
            for c in p.direct_channels:
                self.direct[i, idx[c]] = self.direct[idx[c], i] = True
        self.uniform_weights = [not p.category_weights and p.wounded_weight == 1.0 for p in parties]
        self._catw: dict[int, np.ndarray] = {}

    def category_weights(self, q: int) -> np.ndarray:
        w = self._catw.get(q)
        if w is None or len(w) != len(self.table.categories):
            cw = self.scn.parties[q].category_weights
            w = np.array([cw.get(c, 1.0) for c in self.table.categories] or [1.0])
            self._catw[q] = w
        return w

    def draw(self, stream: str, dist: _Dist) -> float:
        """One value of ``dist`` from named stream ``stream`` (drawn in blocks)."""
        if isinstance(dist, Fixed):
            return dist.value
        key = (stream, id(dist))
        entry = self._buffers.get(key)
        if entry is None:
            rng = self.streams.get(stream)

            def sample(n: int, d: _Dist = dist, g: np.random.Generator = rng) -> np.ndarray:
                return d.sample(g, n)

            entry = (DrawBuffer(sample), dist)
            self._buffers[key] = entry
        return entry[0].next()

    def uniform(self, stream: str) -> float:
        key = (stream, 0)
        entry = self._buffers.get(key)
        if entry is None:
            rng = self.streams.get(stream)
            entry = (DrawBuffer(rng.random), None)
            self._buffers[key] = entry
        return entry[0].next()

    def record(self, t: float, kind: str, **data: Any) -> None:
        if self.record_events:
            self.events.append((t, kind, data))

    def next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def party_flags(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.flags_humanitarian, self.flags_asylum, self.flags_honours

    # ------------------------------------------------------------------ prisoners
    def _draw_sources(self) -> None:
        scn = self.scn
        blocks = []
        for i, h in enumerate(scn.holdings):
            block = holding_block(
                scn,
                self.table,
                self.party_index,
                i,
                h,
                self.streams.get(f"holding:{i}:{h.holder}:{h.nationality}"),
                self.streams.get(f"captivity:holding:{i}"),
            )
            blocks.append(block)
        blocks += [self._draw_stream(i, 0.0) for i in range(len(scn.capture_streams))]
        self.table.append(*blocks)
        rows = slice(None)
        apply_captivity(scn, self.table, rows, 0.0)
        apply_exogenous(scn, self.table, self.party_flags(), rows, 0.0)
        self.table.reindex()

    def _draw_stream(self, i: int, t_from: float) -> dict[str, np.ndarray]:
        """Draw stream ``i``'s captures from ``t_from`` on; returns the new prisoners' block
        (to append) and keeps the stream's incidents up to date."""
        s = self.scn.capture_streams[i]
        block, inc = stream_block(
            self.scn,
            self.table,
            self.party_index,
            i,
            s,
            t_from,
            self.streams.get(f"capture:{s.id}"),
            self.streams.get(f"captivity:{s.id}"),
        )
        old = self.incidents.get(s.id)
        if old is not None:
            keep = old.t <= t_from
            inc = Incidents(
                *(
                    np.concatenate([getattr(old, f)[keep], getattr(inc, f)])
                    for f in ("t", "taken", "wounded", "self_destructed")
                )
            )
        self.incidents[s.id] = inc
        return block

    def change_phase(self, new: Scenario) -> None:
        """A timeline change at ``now``: swap the scenario state and redraw what it alters."""
        t = self.env.now
        old = self.scn
        tab = self.table
        rates_changed = (
            old.captivity != new.captivity
            or old.holdings != new.holdings
            or old.capture_streams != new.capture_streams
        )
        if rates_changed:  # use up exposure at the old rates, continue at the new ones
            alive = np.flatnonzero(tab.t_exit() > t)
            consume_exposure(old, tab, alive, self._rebased, t)
        self.scn = new
        if old.remains != new.remains:
            self.remains.rephase(old, new, t)
        old_flags = self.party_flags()
        self._set_flags()
        flags_changed = any(
            not np.array_equal(a, b) for a, b in zip(old_flags, self.party_flags(), strict=True)
        )
        streams_changed = False
        if rates_changed:
            drift_rates(new, tab, alive)
            apply_captivity(new, tab, alive, t)
            self._rebased = t
        for i, (so, sn) in enumerate(zip(old.capture_streams, new.capture_streams, strict=True)):
            if so != sn:
                future = (tab.source == i) & (tab.t_cap > t)
                tab.drop(future)
                start = len(tab)
                tab.append(self._draw_stream(i, t))
                fresh = np.arange(start, len(tab))
                apply_captivity(new, tab, fresh, t)
                apply_exogenous(new, tab, self.party_flags(), fresh, t)
                streams_changed = True
        # Exogenous exits depend on the rates, the streams and the parties' release and asylum
        # policies only; when none changed (a format that only changes how parties negotiate)
        # they would come out the same, and the table needs no new index.
        if rates_changed or streams_changed or flags_changed:
            alive = np.flatnonzero(tab.t_exit() > t)
            apply_exogenous(new, tab, self.party_flags(), alive, t)
            tab.reindex()
        self.version += 1
        ev, self.phase_changed = self.phase_changed, self.env.event()
        ev.succeed()

    def enter_phase(self, phase: int) -> None:
        """The timeline's next dated change, with the formats' states laid over it."""
        self.phase = phase
        self.change_phase(in_force(self.base, phase, self.states))
        self.record(self.env.now, "timeline", note=self.book.notes[phase])

    def enter_state(self, fmt: int, state: int, note: str) -> None:
        """Format ``fmt`` enters ``state``: the scenario in force changes with it."""
        f = self.book.formats[fmt]
        old = self.states[fmt]
        self.states = (*self.states[:fmt], state, *self.states[fmt + 1 :])
        self.format_log.append((self.env.now, fmt, state))
        self.change_phase(in_force(self.base, self.phase, self.states))
        self.record(
            self.env.now,
            "format",
            format=f.id,
            left=f.states[old].id,
            entered=f.states[state].id,
            note=note or f.states[state].note,
        )
        ev = self._format_events.pop((fmt, state), None)
        if ev is not None:
            ev.succeed()

    def format_event(self, fmt_id: str, state_id: str) -> simpy.Event:
        """An event that fires when format ``fmt_id`` is in state ``state_id`` (now, if it is)."""
        i = next(k for k, f in enumerate(self.book.formats) if f.id == fmt_id)
        s = self.book.formats[i].state_index(state_id)
        if self.states[i] == s:
            return self.env.timeout(0)
        ev = self._format_events.get((i, s))
        if ev is None:
            ev = self._format_events[(i, s)] = self.env.event()
        return ev

    # ------------------------------------------------------------------ run
    def run(self) -> RunResult:
        self._draw_sources()
        for p in range(self.n_parties):
            self.env.process(party_initiative(self, p))
        if len(self.book.days) > 1:
            self.env.process(timeline(self, self.book.days))
        for i, f in enumerate(self.book.formats):
            self.env.process(format_process(self, i, f))
        for i in range(len(self.scn.custody)):
            self.env.process(custody_watch(self, i))
        for k in range(len(self.scn.remains)):
            self.env.process(remains_returns(self, k))
        horizon = float(self.scn.horizon)
        if self.check_invariants:
            self.census_log.append((0.0, self.table.census(0.0)))
            while self.env.peek() <= horizon:
                self.env.step()
                self.census_log.append((self.env.now, self.table.census(self.env.now)))
                self.table.check_index()
                self.remains.census(self.env.now)
        else:
            self.env.run(until=horizon)
        return build_result(self, horizon)
