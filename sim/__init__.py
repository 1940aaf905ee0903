"""pxsim: a discrete-event simulator of prisoner-exchange negotiations.

The public API: load a scenario, run it, read the results.

    >>> from sim import load_scenario, run_replications
    >>> scn = load_scenario("scenarios/minimal.yaml")
    >>> batch = run_replications(scn, seed=1, replications=10)
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pxsim")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+local"

from typing import Any

from sim.errors import ScenarioError
from sim.experiment import run_replications
from sim.scenario import load_scenario, loads_scenario
from sim.simulation import RunResult, Simulation
from sim.sweep import SweepResult, sweep  # eager (it is light): `sim.sweep` stays the function

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
# processes (which import sim.chunks) and the simulation core stay free of them
_LAZY = {
    "run": ("sim.api", "run"),
    "RunOutput": ("sim.api", "RunOutput"),
    "compare": ("sim.comparison", "compare_scenarios"),
    "calibrate": ("sim.calibration", "run_calibration"),
    "CalibrationReport": ("sim.calibration", "CalibrationReport"),
    "Comparison": ("sim.comparison", "Comparison"),
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(target[0]), target[1])
