"""Loading scenarios: safe YAML → overrides → validated, frozen ``Scenario``.

Owns everything between a file on disk and a ``sim.scenario.schema.Scenario``: refusing hostile YAML
(tags, alias bombs, huge or non-UTF-8 files), applying ``--set PATH=VALUE`` overrides (dotted
paths, list items addressed by ``id``), resolving the timeline into validated phases, checking
cross-references, and turning every problem into one ``ScenarioError`` that names the file,
the line, the field path and what was expected.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.errors import ScenarioError
from sim.scenario.paths import PathT, parse_override, set_path, split_path
from sim.scenario.reading import MAX_BYTES, read_yaml
from sim.scenario.references import check_references
from sim.scenario.schema import Scenario
from sim.scenario.validation import Origins, validate_data


# --------------------------------------------------------------------------- public API
def loads_scenario(
    text: str | bytes,
    overrides: Sequence[str] | Mapping[str, Any] = (),
    source: str = "<string>",
) -> Scenario:
    """Load a scenario from YAML text. ``overrides``: ``['a.b=1']`` or ``{'a.b': 1}``."""
    data, lines = read_yaml(text, source)
    origins = Origins(source, lines)
    if isinstance(data, dict):
        pairs: list[tuple[str, Any, str]] = []
        if isinstance(overrides, Mapping):
            pairs = [(k, v, f"--set {k}") for k, v in overrides.items()]
        else:
            for text_ov in overrides:
                try:
                    k, v = parse_override(text_ov)
                except ValueError as exc:
                    raise ScenarioError(str(exc), source=f"--set {text_ov}") from None
                pairs.append((k, v, f"--set {text_ov}"))
        for k, v, label in pairs:
            try:
                resolved = set_path(data, k, copy.deepcopy(v))
            except ValueError as exc:
                raise ScenarioError(str(exc), source=label) from None
            origins.overrides[resolved] = (label, None, "")
    scn = validate_data(data, origins)
    _raise_first(check_references(scn), origins)
    scn._phases = _resolve_timeline(scn, data, origins)
    return scn


def load_scenario(path: str | Path, overrides: Sequence[str] | Mapping[str, Any] = ()) -> Scenario:
    """Load and validate a scenario file, applying ``--set``-style overrides."""
    p = Path(path)
    source = str(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise ScenarioError("file not found", source=source) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror}", source=source) from None
    if p.is_dir():
        raise ScenarioError("is a directory; expected a YAML scenario file", source=source)
    if size > MAX_BYTES:
        raise ScenarioError(
            f"file is {size} bytes; scenarios are limited to {MAX_BYTES}", source=source
        )
    return loads_scenario(p.read_bytes(), overrides, source)


def _raise_first(problems: list[tuple[PathT, str]], origins: Origins) -> None:
    if problems:
        path, msg = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise origins.error(path, msg + more)


def _resolve_timeline(
    scn: Scenario, data: dict[str, Any], origins: Origins
) -> list[tuple[float, Scenario]]:
    """Validate the scenario as it stands after each timeline change, in date order."""
    phases: list[tuple[float, Scenario]] = []
    if not scn.timeline:
        return phases
    order = sorted(range(len(scn.timeline)), key=lambda i: (scn.timeline[i].at, i))
    current = copy.deepcopy(data)
    current.pop("timeline", None)
    for i in order:
        change = scn.timeline[i]
        if change.at < 0 or change.at > scn.horizon:
            src, line, _ = origins.locate(("timeline", i, "at"))
            raise ScenarioError(
                f"expected a day between 0 and the horizon ({scn.horizon:g}), got {change.at:g}",
                source=src,
                line=line,
                field=f"timeline[{i}].at",
            )
        for key, value in change.set.items():
            label_path: PathT = ("timeline", i, "set", key)
            try:
                if split_path(key)[0] in (
                    "timeline",
                    "start_date",
                    "horizon",
                    "seed",
                    "replications",
                    "name",
                    "holdings",
                ):
                    raise ValueError(f"{split_path(key)[0]} cannot change during a run")
                resolved = set_path(current, key, copy.deepcopy(value))
            except ValueError as exc:
                src, line, _ = origins.locate(label_path)
                raise ScenarioError(
                    str(exc), source=src, line=line, field=f"timeline[{i}].set.{key}"
                ) from None
            # errors at this path are reported at the timeline entry's line
            origins.overrides.pop(resolved, None)
            line = origins.lines.get(label_path) or origins.lines.get(("timeline", i))
            origins.overrides[resolved] = (origins.source, line, f"timeline[{i}].set.")
        state = validate_data({**current, "timeline": []}, origins)
        _raise_first(check_references(state), origins)
        phases.append((change.at, state))
    return phases


def timeline_phases(scn: Scenario) -> list[tuple[float, Scenario]]:
    """The validated scenario after each timeline change, ordered by day."""
    if scn._phases is None:
        data = scn.model_dump(mode="json", by_alias=True)
        scn._phases = _resolve_timeline(scn, data, Origins("<scenario>", {}))
    return scn._phases


def resolved_dict(scn: Scenario) -> dict[str, Any]:
    """The scenario with every default filled in, dates as ISO strings, days as numbers."""
    return scn.model_dump(mode="json", by_alias=True)


def resolved_yaml(scn: Scenario) -> str:
    return yaml.safe_dump(resolved_dict(scn), sort_keys=False, allow_unicode=True, width=100)


def scenario_hash(scn: Scenario) -> str:
    """A stable digest of the resolved scenario (changes whenever any value does)."""
    blob = json.dumps(resolved_dict(scn), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
