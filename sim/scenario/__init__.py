"""Floor 1: a YAML scenario file to a frozen, validated ``Scenario``.

``load_scenario(path, overrides)`` reads safe YAML with line numbers, applies ``--set``
overrides by dotted path, validates with pydantic and returns a frozen ``Scenario``; every
error names the file, the line, the field and what was expected.
"""

from sim.scenario.loading import load_scenario, loads_scenario
from sim.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "loads_scenario"]
