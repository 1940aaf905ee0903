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

from sim.errors import ScenarioError
from sim.experiment import run_replications
from sim.scenario import load_scenario, loads_scenario
from sim.simulation import RunResult, Simulation

__all__ = [
    "RunResult",
    "ScenarioError",
    "Simulation",
    "__version__",
    "load_scenario",
    "loads_scenario",
    "run_replications",
]
