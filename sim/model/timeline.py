"""The timeline as a SimPy process: at each dated change, the scenario in force is replaced by
the next validated phase (``sim.scenario.loading.timeline_phases``).
"""

from __future__ import annotations

from typing import Any

from sim.model.world import Proc, World


def timeline(sim: World, phases: list[tuple[float, Any]]) -> Proc:
    """Apply each dated change of the scenario at its day."""
    for day, state in phases:
        if day > sim.env.now:
            yield sim.env.timeout(day - sim.env.now)
        sim.change_phase(state)
