"""Work units of a calibration: runs that keep only their target statistics.

``run_stats`` is what a worker executes (in this process, a local pool or Dask): it runs
replications ``start .. stop-1`` of a few parameter points and returns each run's statistics
(``sim.results.targets``), plus cumulative curves and raw samples when asked (the check
run). Like ``sim.experiments.chunks`` it is pure and imports neither pandas nor matplotlib, so
workers stay light.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.experiments.options import DEFAULT, Execution
from sim.model.simulation import Simulation
from sim.results.targets import (
    DealHistory,
    Target,
    cumulative_curve,
    stat_names,
    target_sample,
    target_statistics,
)
from sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sim.experiments.backends import Backend


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
    # paired: point g runs replication ``start + g`` only (one run per posterior draw)
    paired: bool = False

    @property
    def key(self) -> tuple[int, int]:
        return (self.points[0][0], self.start)


@dataclass
class StatsData:
    points: np.ndarray  # (G,) point indices
    start: int
    stop: int
    stats: np.ndarray  # (G, K, m)
    # target id -> (G*K, grid), point-major
    curves: dict[str, np.ndarray] = field(default_factory=dict)
    samples: dict[str, list[np.ndarray]] = field(default_factory=dict)  # target id -> per run

    @property
    def n(self) -> int:
        """Runs in this result."""
        return int(self.stats.shape[0] * self.stats.shape[1])


def run_stats(task: StatsTask) -> StatsData:
    """Run one task. Pure: the result depends only on the task."""
    if task.paired and task.stop - task.start != len(task.points):
        raise ValueError("a paired task has one replication per point")
    k = 1 if task.paired else task.stop - task.start
    m = len(stat_names(task.targets))
    stats = np.empty((len(task.points), k, m))
    curves: dict[str, np.ndarray] = {}
    samples: dict[str, list[np.ndarray]] = {}
    for g, (_, scn) in enumerate(task.points):
        reps = [task.start + g] if task.paired else range(task.start, task.stop)
        for j, rep in enumerate(reps):
            res = Simulation(scn, task.seed, rep, record_events=False).run()
            hist = DealHistory.of(res)
            stats[g, j] = np.concatenate([target_statistics(t, hist) for t in task.targets])
            for t in task.targets:
                if task.grid is not None and t.cumulative:
                    shape = (len(task.points) * k, len(task.grid))
                    arr = curves.setdefault(t.id, np.empty(shape))
                    arr[g * k + j] = cumulative_curve(t, hist, task.grid)
                if task.samples and not t.cumulative:
                    samples.setdefault(t.id, []).append(target_sample(t, hist))
    return StatsData(
        np.array([i for i, _ in task.points]), task.start, task.stop, stats, curves, samples
    )


def run_stats_tasks(
    tasks: list[StatsTask],
    *,
    execution: Execution = DEFAULT,
    desc: str = "",
    engine: Backend | None = None,
) -> list[StatsData]:
    """Run ``tasks`` on a backend with a progress bar; the results in task order (by first
    point, then ``start``). Ctrl-C and SIGTERM stop the workers. Not resumable: for quick
    follow-up runs (a calibration's check, a forecast, one origin of a backtest)."""
    from sim.experiments.backends import run_tasks
    from sim.experiments.runner import Progress

    parts: dict[tuple[int, int], StatsData] = {}
    bar = Progress(
        sum(len(t.points) if t.paired else t.stop - t.start for t in tasks),
        execution.progress,
        desc,
    )

    def on_result(data: StatsData) -> None:
        parts[(int(data.points[0]) if len(data.points) else 0, data.start)] = data
        bar.update(data.n)

    try:
        run_tasks(tasks, on_result, fn=run_stats, execution=execution, engine=engine)
    finally:
        bar.close()
    return [parts[k] for k in sorted(parts)]
