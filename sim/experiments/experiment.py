"""Running many replications of a scenario and collecting their results.

Replication ``r`` always draws from the streams of ``(seed, r)``, so results do not depend on
how the work is split. ``run_replications`` returns a ``Batch``: the per-replication records in
replication order, without the heavy per-event detail unless asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sim.model.records import Batch, RunResult
from sim.model.simulation import Simulation
from sim.scenario.schema import Scenario


def run_one(
    scenario: Scenario,
    seed: int,
    replication: int,
    *,
    keep_events: bool = False,
    keep_prisoners: bool = False,
) -> RunResult:
    """One replication; heavy detail (events, incidents) dropped unless asked for."""
    res = Simulation(
        scenario, seed, replication, keep_prisoners=keep_prisoners, record_events=keep_events
    ).run()
    if not keep_events:
        res.incidents = {}
    return res


def run_replications(
    scenario: Scenario,
    seed: int | None = None,
    replications: int | None = None,
    *,
    start: int = 0,
    keep_events: bool = False,
    keep_prisoners: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Batch:
    """Run replications ``start .. start+replications-1`` (defaults from the scenario)."""
    seed = scenario.seed if seed is None else int(seed)
    n = scenario.replications if replications is None else int(replications)
    batch = Batch(scenario, seed)
    for r in range(start, start + n):
        batch.runs.append(
            run_one(scenario, seed, r, keep_events=keep_events, keep_prisoners=keep_prisoners)
        )
        if progress is not None:
            progress(1)
    return batch


def replication_indices(n: int, start: int = 0) -> Iterable[int]:
    return range(start, start + n)
