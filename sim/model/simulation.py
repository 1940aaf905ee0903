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
from sim.model.initiative import party_initiative
from sim.model.negotiation import Transfer
from sim.model.prisoners import DIED, HELD, REPATRIATED, RESETTLED, Incidents, PrisonerTable
from sim.model.records import PARTY_COLUMNS, RunResult, life_tables, series_grid
from sim.model.streams import DrawBuffer, Streams
from sim.model.timeline import timeline
from sim.model.world import Talks
from sim.scenario.dists import Fixed, _Dist
from sim.scenario.loading import timeline_phases
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
        self.scn = scenario
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
        self._set_flags()

    # ------------------------------------------------------------------ helpers for agents
    def _set_flags(self) -> None:
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
        alive = np.flatnonzero(tab.t_exit() > t)
        rates_changed = (
            old.captivity != new.captivity
            or old.holdings != new.holdings
            or old.capture_streams != new.capture_streams
        )
        if rates_changed:  # use up exposure at the old rates, continue at the new ones
            consume_exposure(old, tab, alive, self._rebased, t)
        self.scn = new
        self._set_flags()
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
        alive = np.flatnonzero(tab.t_exit() > t)
        apply_exogenous(new, tab, self.party_flags(), alive, t)
        tab.reindex()
        self.version += 1
        note = ""
        for ch in self.base.timeline:
            if ch.at == t:
                note = ch.note or ", ".join(f"{k}={v}" for k, v in ch.set.items())
                break
        self.record(t, "timeline", note=note)
        ev, self.phase_changed = self.phase_changed, self.env.event()
        ev.succeed()

    # ------------------------------------------------------------------ run
    def run(self) -> RunResult:
        self._draw_sources()
        for p in range(self.n_parties):
            self.env.process(party_initiative(self, p))
        phases = timeline_phases(self.base)
        if phases:
            self.env.process(timeline(self, phases))
        horizon = float(self.scn.horizon)
        if self.check_invariants:
            self.census_log.append((0.0, self.table.census(0.0)))
            while self.env.peek() <= horizon:
                self.env.step()
                self.census_log.append((self.env.now, self.table.census(self.env.now)))
                self.table.check_index()
        else:
            self.env.run(until=horizon)
        return self._result(horizon)

    def _result(self, horizon: float) -> RunResult:
        tab = self.table
        c = tab.cols
        census = tab.census(horizon)
        t_exit = tab.t_exit()
        fate = tab.fates(horizon)
        present = c["t_cap"] <= horizon
        by_deal = present & (t_exit <= horizon) & (c["t_deal"] == t_exit) & (fate != DIED)
        by_exo = present & (t_exit <= horizon) & (c["t_exo"] == t_exit) & (fate != DIED) & ~by_deal
        days = np.minimum(t_exit, horizon) - c["t_cap"]
        sd = sum(int(inc.self_destructed.sum()) for inc in self.incidents.values())
        out: dict[str, float] = {
            "initial_held": census["initial_held"],
            "captured": census["captured"],
            "repatriated": census["repatriated"],
            "resettled": census["resettled"],
            "died": census["died"],
            "held_at_end": census["held"],
            "died_avoiding_capture": sd,
            "negotiations": self.counters["negotiations"],
            "deals": self.counters["deals"],
            "deals_collapsed": self.counters["deals_collapsed"],
            "offers": self.counters["offers"],
            "first_deal_day": float("nan") if self.first_deal_day is None else self.first_deal_day,
            "mean_days_held": float(days[present].mean()) if present.any() else float("nan"),
            "exchanged": int(by_deal.sum()),
            "humanitarian_released": int((by_exo & (c["exo_fate"] == REPATRIATED)).sum()),
            "asylum_resettled": int((by_exo & (c["exo_fate"] == RESETTLED)).sum()),
            "talks_refused": self.counters["talks_refused"],
            "talks_no_channel": self.counters["talks_no_channel"],
            "talks_channel_busy": self.counters["talks_channel_busy"],
            "breakdowns": self.counters["breakdowns"],
            "deadlines": self.counters["deadlines"],
            "rounds_lost": self.counters["rounds_lost"],
        }
        holder, nat = c["holder"], c["nat"]
        n = self.n_parties

        def per(by: np.ndarray, mask: np.ndarray) -> list[int]:
            return np.bincount(by[mask], minlength=n).tolist()

        held_now = present & (fate == HELD)
        died_now = present & (fate == DIED)
        hum = by_exo & (c["exo_fate"] == REPATRIATED)
        cols = {
            "held": per(holder, held_now),
            "taken": per(holder, present & (c["source"] >= 0)),
            "repatriated_home": per(nat, present & (fate == REPATRIATED)),
            "given": per(holder, by_deal),
            "received": per(c["dest"], by_deal),
            "released_humanitarian": per(holder, hum),
            "died_in_custody": per(holder, died_now),
            "own_died": per(nat, died_now),
            "own_still_held": per(nat, held_now),
        }
        parties = []
        for q, pid in enumerate(self.party_ids):
            row: dict[str, Any] = {"party": pid, **{k: v[q] for k, v in cols.items()}}
            given, received = row["given"], row["received"]
            row["ratio"] = received / given if given else float("nan")
            parties.append({k: row[k] for k in PARTY_COLUMNS})
        grid = series_grid(horizon)
        held_series: dict[tuple[str, str], np.ndarray] = {}
        rep_series: dict[str, np.ndarray] = {}
        exit_c = np.where(t_exit <= horizon, t_exit, np.inf)
        for h in range(self.n_parties):
            for n in range(self.n_parties):
                g = (holder == h) & (nat == n)
                if not g.any():
                    continue
                caps = np.sort(c["t_cap"][g])
                exits = np.sort(exit_c[g])
                held_series[(self.party_ids[h], self.party_ids[n])] = (
                    np.searchsorted(caps, grid, "right") - np.searchsorted(exits, grid, "right")
                ).astype(np.int64)
        for n in range(self.n_parties):
            g = (nat == n) & (fate == REPATRIATED) & present
            if not (nat == n).any():
                continue
            rep_series[self.party_ids[n]] = np.searchsorted(
                np.sort(t_exit[g]), grid, "right"
            ).astype(np.int64)
        tables = life_tables(c, t_exit, horizon, self.party_ids, self.table.categories)
        channels: dict[str, dict[str, int]] = {}
        for tk in self.talks:
            row = channels.setdefault(
                tk.channel, {"talks": 0, "deals": 0, "collapsed": 0, "moved": 0}
            )
            row["talks"] += 1
        for d in self.deals:
            row = channels.setdefault(
                d["channel"], {"talks": 0, "deals": 0, "collapsed": 0, "moved": 0}
            )
            row["deals" if d["outcome"] == "executed" else "collapsed"] += 1
            row["moved"] += int(d["moved"])
        talks = [
            {
                "talks": tk.id,
                "parties": [self.party_ids[q] for q in tk.parties],
                "initiator": self.party_ids[tk.initiator],
                "channel": tk.channel,
                "opened": tk.opened,
                "closed": tk.closed if tk.closed is not None else horizon,
                "outcome": tk.outcome,
                "rounds": tk.rounds,
                "offers": tk.offers,
                "lost": tk.lost,
                "deal": tk.deal_id,
            }
            for tk in self.talks
        ]
        prisoners: dict[str, np.ndarray] = {}
        if self.keep_prisoners:
            prisoners = {k: v.copy() for k, v in c.items()}
            prisoners["fate"] = fate
            prisoners["t_exit"] = t_exit
        return RunResult(
            scenario=self.base.name,
            seed=self.seed,
            replication=self.replication,
            horizon=horizon,
            outcomes=out,
            parties=parties,
            grid=grid,
            held_series=held_series,
            repatriated_series=rep_series,
            events=self.events,
            talks=talks,
            deals=self.deals,
            incidents=self.incidents,
            prisoners=prisoners,
            life_tables=tables,
            channels=channels,
        )
