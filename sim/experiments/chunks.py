"""Work units of an experiment: a chunk of consecutive replications of one scenario.

``run_chunk`` is what a worker executes (in this process, a local process pool or a Dask
worker): it runs replications ``start .. stop-1`` and returns a compact, picklable
``ChunkData`` of numpy arrays. Replication ``r`` draws only from the streams of ``(seed, r)``,
so a chunk's content depends on nothing but its scenario, seed and replication range, never on
which worker ran it or how the work was cut.

Time series are summed as integers (exact, so the mean does not depend on chunking) and kept
per replication only for the first ``reservoir`` replications, which bounds memory however
many replications a run has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.model.records import FORMAT_COLUMNS, OUTCOME_COLUMNS, PARTY_COLUMNS, RunResult
from sim.model.simulation import Simulation
from sim.scenario.schema import Scenario

PARTY_VALUES = tuple(c for c in PARTY_COLUMNS if c != "party")
SeriesKey = tuple[str, str, str]  # (series, holder, nationality)


@dataclass(frozen=True)
class ChunkTask:
    """Replications ``start .. stop-1`` of ``scenario`` at ``seed`` (``point`` labels a sweep
    point; -1 for a plain run)."""

    scenario: Scenario
    seed: int
    start: int
    stop: int
    reservoir: int = 2000
    point: int = -1

    @property
    def key(self) -> tuple[int, int]:
        return (self.point, self.start)


@dataclass
class ChunkData:
    """What a chunk returns: per-replication outcomes and party accounting as arrays, plus
    time-series sums and the replications kept for quantiles."""

    point: int
    start: int
    stop: int
    seed: int
    scenario: str
    outcomes: np.ndarray  # (n, len(OUTCOME_COLUMNS)) float64
    parties: np.ndarray  # (n, n_parties, len(PARTY_VALUES)) float64
    party_ids: list[str]
    grid: np.ndarray
    series_sum: dict[SeriesKey, np.ndarray] = field(default_factory=dict)  # int64 sums
    series_kept: dict[SeriesKey, np.ndarray] = field(default_factory=dict)  # (k, grid) int64
    kept: int = 0  # replications start .. start+kept-1 are in series_kept
    # captivity life tables summed over the chunk: (nationality, category) -> (3, days) int64
    # rows entered / exited / censored
    life: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    channels: dict[str, np.ndarray] = field(default_factory=dict)  # talks, deals, collapsed, moved
    formats: dict[str, np.ndarray] = field(default_factory=dict)  # "F.S": FORMAT_COLUMNS sums

    @property
    def n(self) -> int:
        return self.stop - self.start


class ChunkBuilder:
    """Accumulates consecutive replications' results into a ``ChunkData``, one at a time."""

    def __init__(
        self, scn: Scenario, seed: int, start: int, stop: int, reservoir: int, point: int = -1
    ) -> None:
        n = stop - start
        self.scn, self.seed, self.start, self.stop, self.point = scn, seed, start, stop, point
        self.outcomes = np.empty((n, len(OUTCOME_COLUMNS)))
        self.parties = np.empty((n, len(scn.parties), len(PARTY_VALUES)))
        self.kept = max(0, min(stop, reservoir) - start)
        self.sums: dict[SeriesKey, np.ndarray] = {}
        self.keep: dict[SeriesKey, np.ndarray] = {}
        self.grid = np.empty(0)
        self.life: dict[tuple[str, str], np.ndarray] = {}
        self.channels: dict[str, np.ndarray] = {}
        self.formats: dict[str, np.ndarray] = {}
        self.i = 0

    def add(self, res: RunResult) -> None:
        i = self.i
        self.grid = res.grid
        self.outcomes[i] = [res.outcomes[c] for c in OUTCOME_COLUMNS]
        for q, row in enumerate(res.parties):
            self.parties[i, q] = [row[c] for c in PARTY_VALUES]
        series: dict[SeriesKey, np.ndarray] = {
            ("held", h, nat): v for (h, nat), v in res.held_series.items()
        }
        series.update(
            {("repatriated_cumulative", "", nat): v for nat, v in res.repatriated_series.items()}
        )
        for key, values in series.items():
            if key not in self.sums:
                self.sums[key] = np.zeros(len(res.grid), dtype=np.int64)
                if self.kept:
                    self.keep[key] = np.zeros((self.kept, len(res.grid)), dtype=np.int64)
            self.sums[key] += values
            if i < self.kept:
                self.keep[key][i] = values
        for group, table in res.life_tables.items():
            block = np.stack([table.entered, table.exited, table.censored])
            self.life[group] = add_padded(self.life.get(group), block)
        for channel, row in res.channels.items():
            counts = np.array([row[k] for k in CHANNEL_COUNTS], dtype=np.int64)
            self.channels[channel] = self.channels.get(channel, 0) + counts
        for state, acc in res.formats.items():
            values = np.array([acc[k] for k in FORMAT_COLUMNS], dtype=np.float64)
            self.formats[state] = self.formats.get(state, 0) + values
        self.i += 1

    def build(self) -> ChunkData:
        if self.i != self.stop - self.start:
            raise ValueError(f"chunk has {self.i} of {self.stop - self.start} replications")
        return ChunkData(
            point=self.point,
            start=self.start,
            stop=self.stop,
            seed=self.seed,
            scenario=self.scn.name,
            outcomes=self.outcomes,
            parties=self.parties,
            party_ids=self.scn.party_ids,
            grid=self.grid,
            series_sum=self.sums,
            series_kept=self.keep,
            kept=self.kept,
            life=self.life,
            channels=self.channels,
            formats=self.formats,
        )


def run_chunk(task: ChunkTask) -> ChunkData:
    """Run one chunk. Pure: the result depends only on the task."""
    builder = ChunkBuilder(
        task.scenario, task.seed, task.start, task.stop, task.reservoir, task.point
    )
    for rep in range(task.start, task.stop):
        builder.add(Simulation(task.scenario, task.seed, rep, record_events=False).run())
    return builder.build()


CHANNEL_COUNTS = ("talks", "deals", "collapsed", "moved")


def add_padded(total: np.ndarray | None, block: np.ndarray) -> np.ndarray:
    """Element-wise sum of two (rows, days) integer arrays of possibly different lengths."""
    if total is None:
        return block.astype(np.int64)
    n = max(total.shape[1], block.shape[1])
    out = np.zeros((block.shape[0], n), dtype=np.int64)
    out[:, : total.shape[1]] += total
    out[:, : block.shape[1]] += block
    return out


def plan_chunks(start: int, stop: int, size: int) -> list[tuple[int, int]]:
    """Consecutive ranges of at most ``size`` replications covering ``start .. stop-1``."""
    return [(a, min(a + size, stop)) for a in range(start, stop, size)]


def default_chunk_size(replications: int) -> int:
    """Chunks depend on the number of replications only (not on workers), about 32 of them,
    between 1 and 500 replications each."""
    return max(1, min(500, -(-replications // 32)))
