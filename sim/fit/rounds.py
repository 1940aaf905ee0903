"""Simulating the points of each calibration round, resumably: the scenarios of a round, the
tasks sent to the backend (a few points each, K replications per point at the same seed:
common random numbers), and the store of their target statistics (``sims/rR/part-*.npz``,
written atomically, so an interrupted fit continues with ``--resume``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.atomic import atomic_write_bytes
from sim.errors import ScenarioError
from sim.experiments.options import Execution
from sim.experiments.params import DesignError
from sim.experiments.store import RunStore
from sim.fit.plan import FILES, CalibrationPlan, group_size
from sim.fit.target_runs import StatsData, StatsTask, run_stats
from sim.results.targets import stat_names
from sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sim.experiments.backends import Backend

    pass


def fit_identity(plan: CalibrationPlan, size: int) -> dict[str, Any]:
    from sim.experiments.runner import identity_of

    des = plan.sweep.design
    return identity_of(
        plan.sweep.base,
        plan.sweep.seed,
        size,
        kind="calibration",
        extra={
            "fit": [s.text for s in des.specs],
            "points": des.points,
            "design_hash": des.digest(),
            "replications_per_point": plan.replications,
            "rounds": plan.rounds,
            "accept": plan.accept,
            "targets": plan.selected,
            "observed": plan.observations.source,
            "observed_hash": plan.observations.digest(),
            "statistics": stat_names(plan.all_targets),
            "match": plan.match,
        },
    )


def round_scenarios(plan: CalibrationPlan, values: list[dict[str, Any]], r: int) -> list[Scenario]:
    """Validated scenarios for a round's points (round 0's were validated by the plan)."""
    if r == 0:
        return plan.sweep.scenarios
    from sim.scenario.loading import loads_scenario

    fixed = plan.fixed
    text = plan.scenario_text or ""
    label = plan.sweep.source or "<scenario>"
    out = []
    for i, v in enumerate(values):
        try:
            out.append(loads_scenario(text, {**fixed, **v}, source=label))
        except ScenarioError as exc:
            shown = ", ".join(f"{k}={x}" for k, x in v.items())
            raise DesignError(
                f"{exc.detail} (round {r}, point {i}: {shown})",
                source=exc.source,
                line=exc.line,
                field=exc.field,
            ) from None
    return out


@dataclass
class Runner:
    """Runs rounds of points on a backend into the store, with one progress bar."""

    plan: CalibrationPlan
    store: CalibrationStore
    execution: Execution
    bar: Any
    engine: Backend | None = None  # a backend kept open across rounds (sim.experiments.backends)
    run: int = 0
    reused: int = 0
    simulated: int = 0  # replications simulated (not reused from an interrupted fit)
    name: str = "none"
    nworkers: int = 0

    def stats(self, r: int, scenarios: list[Scenario]) -> np.ndarray:
        """Statistics of every point and replication of round ``r``, (P, K, m)."""
        from sim.experiments.backends import run_tasks

        n, k = len(scenarios), self.plan.replications
        size = group_size(n)
        done = self.store.parts(r)
        groups = [list(range(a, min(a + size, n))) for a in range(0, n, size)]
        targets = tuple(self.plan.all_targets)
        seed = self.plan.sweep.seed
        tasks = [
            StatsTask(tuple((i, scenarios[i]) for i in g), seed, 0, k, targets)
            for g in groups
            if g[0] not in done
        ]
        self.bar.update(sum(len(g) for g in groups if g[0] in done) * k)
        self.run += len(tasks)
        self.reused += len(groups) - len(tasks)
        self.simulated += sum(len(g) for g in groups if g[0] not in done) * k

        def on_result(data: StatsData) -> None:
            self.store.write_part(r, data)
            self.bar.update(data.n)

        if tasks:
            self.name, self.nworkers = run_tasks(
                tasks,
                on_result,
                fn=run_stats,
                execution=self.execution,
                engine=self.engine,
            )
        return self.store.read_round(r, n, k, len(stat_names(targets)))


class CalibrationStore(RunStore):
    """A ``RunStore`` directory whose chunks are ``sims/rR/part-PPPPPP.npz`` statistics."""

    def parts(self, r: int) -> set[int]:
        d = self.out / "sims" / f"r{r}"
        if not d.exists():
            return set()
        return {int(p.stem.split("-")[1]) for p in d.glob("part-*.npz")}

    def finished_count(self) -> int:
        return len(list((self.out / "sims").glob("r*/part-*.npz")))

    def write_part(self, r: int, data: StatsData) -> None:
        buf = io.BytesIO()
        np.savez(buf, points=data.points, stats=data.stats)
        name = f"part-{int(data.points[0]):06d}.npz"
        atomic_write_bytes(self.out / "sims" / f"r{r}" / name, buf.getvalue())

    def read_round(self, r: int, n: int, k: int, m: int) -> np.ndarray:
        stats = np.full((n, k, m), np.nan)
        seen = np.zeros(n, dtype=bool)
        for p in sorted((self.out / "sims" / f"r{r}").glob("part-*.npz")):
            with np.load(p) as z:
                idx = z["points"]
                stats[idx] = z["stats"]
                seen[idx] = True
        if not seen.all():
            raise RuntimeError(f"{self.out}: {int((~seen).sum())} point(s) have no statistics")
        return stats

    def clear(self) -> None:
        import shutil

        super().clear()
        shutil.rmtree(self.out / "sims", ignore_errors=True)
        shutil.rmtree(self.out / "check", ignore_errors=True)
        for name in FILES:
            (self.out / name).unlink(missing_ok=True)

    def clean_temporaries(self) -> None:
        super().clean_temporaries()
        for tmp in (self.out / "sims").glob("r*/.*.tmp"):
            tmp.unlink(missing_ok=True)
