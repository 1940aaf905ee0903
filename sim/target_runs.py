"""Work units of a calibration: runs that keep only their target statistics.

``run_stats`` is what a worker executes (in this process, a local pool or Dask): it runs
replications ``start .. stop-1`` of a few parameter points and returns each run's statistics
(``sim.targets``), plus cumulative curves and raw samples when asked (the check run). Like
``sim.chunks`` it is pure and imports neither pandas nor matplotlib, so workers stay light.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.schema import Scenario
from sim.simulation import Simulation
from sim.targets import (
    DealHistory,
    Target,
    cumulative_curve,
    stat_names,
    target_sample,
    target_statistics,
)


@dataclass(frozen=True)
class StatsTask:
    """Replications ``start .. stop-1`` of a few points' scenarios, keeping statistics only.
    ``grid`` (days) asks for cumulative curves and ``samples`` for the raw sizes and gaps
    (the check run)."""

    points: tuple[tuple[int, Scenario], ...]
    seed: int
    start: int
    stop: int
    targets: tuple[Target, ...]
    grid: np.ndarray | None = None
    samples: bool = False

    @property
    def key(self) -> tuple[int, int]:
        return (self.points[0][0], self.start)


@dataclass
class StatsData:
    points: np.ndarray  # (G,) point indices
    start: int
    stop: int
    stats: np.ndarray  # (G, K, m)
    curves: dict[str, np.ndarray] = field(default_factory=dict)  # target id -> (K, grid)
    samples: dict[str, list[np.ndarray]] = field(default_factory=dict)  # target id -> per run

    @property
    def n(self) -> int:
        return len(self.points) * (self.stop - self.start)


def run_stats(task: StatsTask) -> StatsData:
    """Run one task. Pure: the result depends only on the task."""
    k = task.stop - task.start
    m = len(stat_names(task.targets))
    stats = np.empty((len(task.points), k, m))
    curves: dict[str, np.ndarray] = {}
    samples: dict[str, list[np.ndarray]] = {}
    for g, (_, scn) in enumerate(task.points):
        for j, rep in enumerate(range(task.start, task.stop)):
            res = Simulation(scn, task.seed, rep, record_events=False).run()
            hist = DealHistory.of(res)
            stats[g, j] = np.concatenate([target_statistics(t, hist) for t in task.targets])
            for t in task.targets:
                if task.grid is not None and t.cumulative:
                    arr = curves.setdefault(t.id, np.empty((k, len(task.grid))))
                    arr[j] = cumulative_curve(t, hist, task.grid)
                if task.samples and not t.cumulative:
                    samples.setdefault(t.id, []).append(target_sample(t, hist))
    return StatsData(
        np.array([i for i, _ in task.points]), task.start, task.stop, stats, curves, samples
    )
