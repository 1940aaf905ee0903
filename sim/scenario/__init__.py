"""Floor 1: a YAML scenario file to a frozen, validated ``Scenario``.

``load_scenario(path, overrides)`` reads safe YAML with line numbers, applies ``--set``
overrides by dotted path, validates with pydantic and returns a frozen ``Scenario``; every
error names the file, the line, the field and what was expected. ``Scenario.get(path)`` and
``Scenario.with_values({path: value})`` read and change values by the same dotted paths.
"""

from sim.scenario.loading import load_scenario, loads_scenario
from sim.scenario.schema import Scenario, install_with_values
from sim.scenario.values import with_values

# Scenario.with_values runs the loading pipeline, which imports the schema: handed in here,
# before any module of this package is used, instead of an import cycle (see schema.py)
install_with_values(with_values)

__all__ = ["Scenario", "load_scenario", "loads_scenario"]
