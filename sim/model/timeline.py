"""The timeline as a SimPy process: at each dated change, the run enters the next phase
(``sim.scenario.phases``: the scenario in force is that phase with the formats' current states).
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.model.world import Proc, World


def timeline(sim: World, days: Sequence[float]) -> Proc:
    """Enter phase ``p`` at ``days[p]`` (phase 0, the scenario as written, is in force at 0)."""
    for phase, day in enumerate(days):
        if phase == 0:
            continue
        if day > sim.env.now:
            yield sim.env.timeout(day - sim.env.now)
        sim.enter_phase(phase)
