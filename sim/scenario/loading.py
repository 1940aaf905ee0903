"""Loading scenarios: safe YAML → overrides → validated, frozen ``Scenario``.

Owns everything between a file on disk and a ``sim.scenario.schema.Scenario``: refusing
hostile YAML (tags, alias bombs, huge or non-UTF-8 files), applying ``--set PATH=VALUE``
overrides (dotted paths, list items addressed by ``id``), checking cross-references, resolving
the timeline and the formats into validated phases (``sim.scenario.phases``), and turning every
problem into one ``ScenarioError`` that names the file, the line, the field path and what was
expected.
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
from sim.scenario.paths import PathT, parse_override, set_path
from sim.scenario.phases import resolve_phases
from sim.scenario.reading import MAX_BYTES, read_yaml
from sim.scenario.references import check_references
from sim.scenario.schema import Scenario
from sim.scenario.size import check_size
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
    scn._phases = resolve_phases(scn, data, origins)
    too_large = check_size(scn, scn._phases.cache.values())
    if too_large is not None:
        raise origins.error(*too_large)
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


def resolved_dict(scn: Scenario) -> dict[str, Any]:
    """The scenario with every default filled in, dates as ISO strings, days as numbers."""
    return scn.model_dump(mode="json", by_alias=True)


def resolved_yaml(scn: Scenario) -> str:
    return yaml.safe_dump(resolved_dict(scn), sort_keys=False, allow_unicode=True, width=100)


def scenario_hash(scn: Scenario) -> str:
    """A stable digest of the resolved scenario (changes whenever any value does)."""
    blob = json.dumps(resolved_dict(scn), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
