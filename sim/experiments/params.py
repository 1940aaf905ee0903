"""Sweep and calibration parameters: ``PATH=LOW:HIGH[:STEPS]`` (a numeric range) or
``PATH=a,b,c`` (a list of values, each read as a YAML scalar), parsed into ``ParamSpec`` with
errors naming the text, and typed from the scenario: a path whose value is a whole number
takes whole numbers, dates in timeline paths become days.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import yaml

from sim.errors import ScenarioError
from sim.scenario.paths import dotted_key, find_item, split_path

RESERVED = ("seed", "replications")  # set by the sweep itself (--seed, -n)
SYNTAX = "expected PATH=LOW:HIGH[:STEPS] (a numeric range) or PATH=a,b,c (a list of values)"


class DesignError(ScenarioError):
    """A sweep parameter or design is wrong; names the ``--param`` (or ``--design``)."""


@dataclass(frozen=True)
class ParamSpec:
    """One swept parameter: a numeric range or a list of values at a scenario path."""

    path: str
    text: str  # as the user gave it, for messages
    kind: str  # "range" | "values"
    low: float = math.nan
    high: float = math.nan
    steps: int | None = None
    values: tuple[Any, ...] = ()
    labels: tuple[str, ...] = ()
    integer: bool = False

    @property
    def label(self) -> str:
        return f"--param {self.text}"

    def error(self, message: str) -> DesignError:
        return DesignError(message, source=self.label)

    @property
    def bounds(self) -> tuple[float, float]:
        """The interval the design samples (list values: their index in ``[0, m)``)."""
        if self.kind == "values":
            return 0.0, float(len(self.values))
        if self.integer:
            lo, hi = self.int_range
            return lo - 0.5, hi + 0.5
        return self.low, self.high

    @property
    def int_range(self) -> tuple[int, int]:
        return math.ceil(self.low), math.floor(self.high)

    def at(self, x: float) -> tuple[Any, Any]:
        """(scenario value, table value) at design coordinate ``x``."""
        if self.kind == "values":
            i = min(max(math.floor(x), 0), len(self.values) - 1)
            return self.values[i], self.labels[i]
        if self.integer:
            lo, hi = self.int_range
            v = int(min(max(math.floor(x + 0.5), lo), hi))
            return v, v
        f = min(max(float(f"{x:.10g}"), self.low), self.high)
        return f, f

    def describe(self) -> dict[str, Any]:
        if self.kind == "values":
            return {"path": self.path, "values": list(self.labels)}
        d: dict[str, Any] = {"path": self.path, "low": self.low, "high": self.high}
        if self.steps is not None:
            d["steps"] = self.steps
        d["integer"] = self.integer
        return d


# --------------------------------------------------------------------------- parsing
def _label(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)


def _number(text: str, spec_text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise DesignError(
            f"{what} {text.strip()!r} is not a number; {SYNTAX}", source=f"--param {spec_text}"
        ) from None
    if not math.isfinite(v):
        raise DesignError(f"{what} must be a finite number", source=f"--param {spec_text}")
    return v


def _check_path(path: str, text: str) -> str:
    try:
        parts = split_path(path)
    except ValueError as exc:
        raise DesignError(str(exc), source=f"--param {text}") from None
    if parts[0] in RESERVED:
        raise DesignError(
            f"{parts[0]} is set by the sweep itself; use --seed / -n", source=f"--param {text}"
        )
    return ".".join(parts)


def _scalar(token: str, text: str) -> Any:
    try:
        v = yaml.safe_load(token)
    except yaml.YAMLError:
        return token
    if isinstance(v, list | dict):
        raise DesignError(
            f"value {token!r} is not a plain value; {SYNTAX}", source=f"--param {text}"
        )
    return v


def parse_param(text: str) -> ParamSpec:
    """``'negotiation.collapse=0:0.3'``, ``'...=0:0.3:4'`` or ``'...=true,false'``."""
    if "=" not in text:
        raise DesignError(SYNTAX, source=f"--param {text}")
    raw_path, raw = text.split("=", 1)
    path = _check_path(raw_path, text)
    raw = raw.strip()
    if not raw:
        raise DesignError(f"nothing after '='; {SYNTAX}", source=f"--param {text}")
    if "," in raw:
        tokens = [t.strip() for t in raw.split(",")]
        if any(not t for t in tokens):
            raise DesignError(f"empty value in the list {raw!r}", source=f"--param {text}")
        values = tuple(_scalar(t, text) for t in tokens)
        return ParamSpec(path, text, "values", values=values, labels=tuple(map(_label, values)))
    if ":" not in raw:
        raise DesignError(
            f"{SYNTAX}; to fix one value for every point use --set {path}={raw}",
            source=f"--param {text}",
        )
    bits = raw.split(":")
    if len(bits) > 3:
        raise DesignError(f"too many ':'; {SYNTAX}", source=f"--param {text}")
    low = _number(bits[0], text, "LOW")
    high = _number(bits[1], text, "HIGH")
    if not low < high:
        raise DesignError(f"expected LOW < HIGH, got {low:g}:{high:g}", source=f"--param {text}")
    steps = None
    if len(bits) == 3:
        try:
            steps = int(bits[2])
        except ValueError:
            raise DesignError(
                f"STEPS {bits[2].strip()!r} is not a whole number", source=f"--param {text}"
            ) from None
        if steps < 2:
            raise DesignError(f"expected STEPS >= 2, got {steps}", source=f"--param {text}")
    return ParamSpec(path, text, "range", low=low, high=high, steps=steps)


def param_from_value(path: str, spec: Any) -> ParamSpec:
    """The dict form of the Python API: ``(low, high)``, ``(low, high, steps)`` or a list."""
    if isinstance(spec, str):
        return parse_param(f"{path}={spec}")
    if isinstance(spec, tuple) and len(spec) in (2, 3):
        text = f"{path}=" + ":".join(str(v) for v in spec)
        return parse_param(text)
    if isinstance(spec, list | np.ndarray) and len(spec) > 0:
        values = tuple(v.item() if isinstance(v, np.generic) else v for v in spec)
        text = f"{path}=" + ",".join(_label(v) for v in values)
        _check_path(path, text)
        return ParamSpec(
            ".".join(split_path(path)),
            text,
            "values",
            values=values,
            labels=tuple(map(_label, values)),
        )
    raise DesignError(
        f"expected (low, high), (low, high, steps) or a list of values, got {spec!r}",
        source=f"--param {path}",
    )


def parse_params(params: Sequence[str] | Mapping[str, Any]) -> list[ParamSpec]:
    """Parse ``['path=low:high', ...]`` or ``{path: (low, high) | [values]}``."""
    if isinstance(params, str):
        params = [params]
    if isinstance(params, Mapping):
        specs = [param_from_value(str(k), v) for k, v in params.items()]
    else:
        specs = [parse_param(str(t)) for t in params]
    if not specs:
        raise DesignError(
            "a sweep needs at least one PATH=LOW:HIGH or PATH=a,b,c", source="--param"
        )
    seen: set[str] = set()
    for s in specs:
        if s.path in seen:
            raise s.error(f"{s.path} is swept twice")
        seen.add(s.path)
    return specs


# --------------------------------------------------------------------------- typing from scenario
_MISSING = object()


def _days_since(start: Any, seg: str) -> str:
    """``seg`` as days since ``start`` (how a resolved scenario writes a timeline date)."""
    import datetime as dt

    try:
        days = (dt.date.fromisoformat(seg) - dt.date.fromisoformat(str(start))).days
    except (TypeError, ValueError):
        return seg
    return str(float(days))


def get_path(data: Any, path: str) -> Any:
    """The value at dotted ``path`` in a resolved scenario dict (list items by id), if any."""
    node = data
    parts = split_path(path)
    i = 0
    while i < len(parts):
        i, seg = dotted_key(node, parts, i)
        i += 1
        if isinstance(node, list):
            idx = find_item(node, seg)
            if idx is None and isinstance(data, Mapping):  # resolved: timeline ``at`` in days
                idx = find_item(node, _days_since(data.get("start_date"), seg))
            if idx is None:
                return _MISSING
            node = node[idx]
        elif isinstance(node, Mapping) and seg in node:
            node = node[seg]
        else:
            return _MISSING
    return node


def type_params(specs: Sequence[ParamSpec], resolved: Mapping[str, Any]) -> list[ParamSpec]:
    """Mark ranges at whole-number fields as integer; refuse ranges at yes/no or text fields."""
    out = []
    for s in specs:
        if s.kind == "range":
            current = get_path(resolved, s.path)
            if isinstance(current, bool):
                raise s.error(
                    f"{s.path} is true/false, not a number; list the values instead: "
                    f"--param {s.path}=true,false"
                )
            if isinstance(current, str):
                raise s.error(
                    f"{s.path} is text ({current!r}), not a number; list the values instead: "
                    f"--param {s.path}=a,b,c"
                )
            if isinstance(current, int):
                s = replace(s, integer=True)
                lo, hi = s.int_range
                if lo > hi:
                    raise s.error(
                        f"{s.path} is a whole number and there is none between "
                        f"{s.low:g} and {s.high:g}"
                    )
        out.append(s)
    return out
