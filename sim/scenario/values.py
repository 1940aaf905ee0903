"""Changing scenario values from Python: ``Scenario.with_values({path: value})``.

Owns the one way a notebook (or any Python caller) makes a variant of a validated scenario:
each change becomes the ``--set PATH=VALUE`` override a user would type (``set_arguments``:
the value written as a YAML flow value and checked to read back as itself), and the scenario,
written out with every default filled in, is loaded again through ``loads_scenario`` with
those overrides. So the result is the scenario ``load_scenario(file, ["path=value", ...])``
gives (equal, same ``scenario_hash``), and a bad value fails with the error ``--set`` gives:
a ``ScenarioError`` naming the override, the field and what was expected. (Where ``--set``
would point at a line of the file for a field inside a value it replaced, the error names the
override instead: the file's line is not where the bad value came from.)

One difference, by design: the scenario is written out resolved, so a path can reach inside a
value the file wrote as a shorthand (``strategy: boulware`` is ``{name: boulware, ...}``,
``rate: 0.5`` one phase ``[{from: 0, per_day: 0.5}]``), where ``--set`` on that file finds a
single value and says so.

The resolved scenario writes timeline dates as day numbers; they are written back as dates
here so that ``timeline.2024-01-01...`` finds its entry as it does in the file.

``sim/scenario/__init__.py`` installs ``with_values`` as ``Scenario.with_values`` (it cannot
be imported by ``sim.scenario.schema``, which this module imports; see that module).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import BaseModel

from sim.errors import ScenarioError
from sim.scenario.loading import loads_scenario
from sim.scenario.paths import parse_override
from sim.scenario.schema import Scenario


def with_values(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """A new validated scenario: ``scenario`` with ``changes`` (dotted path → value)."""
    arguments = set_arguments(changes)
    if not arguments:
        return scenario
    try:
        return loads_scenario(_as_file(scenario), arguments, source=scenario.name)
    except ScenarioError as exc:
        if exc.source != scenario.name:
            raise  # located at the --set override, as the command line gives it
        # located in the generated text: its line means nothing to the caller; name the
        # change the field lies under, if any (else the scenario)
        field = exc.field or ""
        label = next(
            (f"--set {a}" for p, a in zip(changes, arguments, strict=True) if _under(field, p)),
            scenario.name,
        )
        raise ScenarioError(exc.detail, source=label, field=exc.field) from None


def _under(field: str, path: str) -> bool:
    path = str(path).strip()
    return field == path or field.startswith(path + ".")


def set_arguments(changes: Mapping[str, Any]) -> list[str]:
    """The ``--set`` arguments for ``changes``: ``{"parties.russia.reservation": 0.5}`` →
    ``["parties.russia.reservation=0.5"]`` (booleans as ``true``/``false``, dicts and lists
    as YAML flow collections, text quoted where YAML would read it otherwise)."""
    return [f"{str(path).strip()}={_yaml_value(path, value)}" for path, value in changes.items()]


def _yaml_value(path: str, value: Any) -> str:
    data = _plain(value)
    try:
        text = yaml.safe_dump(
            data, default_flow_style=True, allow_unicode=True, width=math.inf, sort_keys=False
        )
    except yaml.YAMLError:
        raise TypeError(f"{path}: cannot write {value!r} as a --set value") from None
    text = text.strip().removesuffix("...").strip()  # a lone scalar ends its document with ...
    try:
        back = parse_override(f"x={text}")[1]
    except ValueError:
        back = _Unreadable
    if not _same(back, data):
        raise TypeError(f"{path}: cannot write {value!r} as a --set value")
    return text


class _Unreadable:
    pass


def _plain(value: Any) -> Any:
    """Python values as YAML-safe data: numpy scalars as numbers, tuples as lists, models as
    dicts keyed as in YAML."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python", by_alias=True)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and not isinstance(value, str | bytes):
        return item()
    return value


def _same(a: Any, b: Any) -> bool:
    """Equal, types included (1 is not 1.0 here: YAML keeps them apart), NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _as_file(scenario: Scenario) -> str:
    """The scenario as YAML with every default filled in and timeline entries dated."""
    data = scenario.model_dump(mode="python", by_alias=True)
    for change in data.get("timeline") or []:
        at = change.get("at")
        if isinstance(at, float) and at.is_integer():
            change["at"] = scenario.start_date + dt.timedelta(days=int(at))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
