"""pxsim: a discrete-event simulator of prisoner-exchange negotiations.

The public API: load a scenario, run it, read the results.

    >>> from sim import load_scenario, run_replications
    >>> scn = load_scenario("scenarios/minimal.yaml")
    >>> batch = run_replications(scn, seed=1, replications=10)
"""

from typing import Any

from sim.errors import ScenarioError
from sim.experiments.experiment import run_replications
from sim.model.records import RunResult
from sim.model.simulation import Simulation
from sim.scenario.loading import load_scenario, loads_scenario
from sim.version import __version__

__all__ = [
    "CalibrationReport",
    "Comparison",
    "RunOutput",
    "RunResult",
    "ScenarioError",
    "Simulation",
    "SweepResult",
    "__version__",
    "calibrate",
    "compare",
    "load_scenario",
    "loads_scenario",
    "run",
    "run_replications",
    "sweep",
]


# the experiment API pulls in pandas and pyarrow: imported on first use only, so that worker
# processes (which import sim.experiments.chunks) and the simulation core stay free of them
_LAZY = {
    "run": ("sim.api", "run"),
    "RunOutput": ("sim.api", "RunOutput"),
    "compare": ("sim.api", "compare"),
    "sweep": ("sim.api", "sweep"),
    "calibrate": ("sim.api", "calibrate"),
    "CalibrationReport": ("sim.fit.calibration", "CalibrationReport"),
    "Comparison": ("sim.experiments.comparison", "Comparison"),
    "SweepResult": ("sim.experiments.sweep", "SweepResult"),
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(target[0]), target[1])
