"""What a dotted path accepts: its kind, bounds and choices, read from the schema.

Owns ``field_info(scenario, path)``: the pydantic declaration behind a scenario value turned
into a ``FieldSpec`` a user interface (``sim.present.controls``) can build a control from:
a number or a whole number with its bounds (``ge``/``gt``/``le``/``lt`` of the field, also
inside ``Annotated`` types such as ``Share``), a yes/no, a choice (``Literal`` values, concession
strategies from the registry ``sim.scenario.strategies.STRATEGIES``), a distribution (its
``dist`` tags), text, or anything else; a capture rate of a single phase is a number (the
shorthand ``rate: 0.5``). Inside a timeline ``set`` (declared ``Any``) the kind is
that of the current value. ``dist_like`` makes a distribution of another kind with the same
mean, for a control that switches kinds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.scenario.lookup import locate, plain
from sim.scenario.parties import StrategySpec
from sim.scenario.schema import CaptureStream, RatePhase, Scenario
from sim.scenario.strategies import STRATEGIES

Kind = Literal["number", "integer", "bool", "choice", "dist", "text", "other"]


@dataclass(frozen=True)
class FieldSpec:
    """A scenario value's declaration: ``kind``, current ``value`` (plain Python), bounds
    (None where the schema sets none), ``choices`` (for ``choice`` and ``dist``: the ``dist``
    tags), whether it may be null, the field's description and its default."""

    path: str
    kind: Kind
    value: Any
    annotation: Any
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple[Any, ...] = ()
    nullable: bool = False
    description: str = ""
    default: Any = None

    @property
    def lower(self) -> float | None:
        """The lower bound, inclusive or not (None: unbounded)."""
        return self.ge if self.ge is not None else self.gt

    @property
    def upper(self) -> float | None:
        """The upper bound, inclusive or not (None: unbounded)."""
        return self.le if self.le is not None else self.lt


def field_info(scenario: Scenario, path: str) -> FieldSpec:
    """The declaration of the value at dotted ``path`` (``ScenarioError`` if there is none)."""
    found = locate(scenario, path, start_date=scenario.start_date, source=scenario.name)
    value = plain(found.value)
    metadata = list(found.field.metadata) if found.field is not None else []
    annotation, nullable = _unwrap(found.annotation, metadata)
    bounds = _bounds(metadata)
    description = (found.field.description or "") if found.field is not None else ""
    spec = FieldSpec(
        path,
        "other",
        value,
        annotation,
        nullable=nullable,
        description=description,
        default=_default(found.field),
    )

    if (found.owner is StrategySpec and found.name == "name") or annotation is StrategySpec:
        # a strategy by name (a bare name is shorthand for the whole strategy entry)
        current = value["name"] if isinstance(value, dict) else value
        return _with(spec, "choice", value=current, choices=tuple(sorted(STRATEGIES)))
    if found.owner is CaptureStream and found.name == "rate" and _one_phase(value):
        # a constant rate: the number the shorthand ``rate: 0.5`` writes
        phase = RatePhase.model_fields["per_day"]
        return _with(spec, "number", value=value[0]["per_day"], **_bounds(list(phase.metadata)))
    tags = _tags(annotation)
    if tags:
        return _with(spec, "dist", choices=tags)
    if get_origin(annotation) is Literal:
        return _with(spec, "choice", choices=get_args(annotation))
    if annotation is Any:  # inside a timeline ``set``: the kind of the current value
        annotation = type(value) if value is not None else Any
    if annotation is bool:
        return _with(spec, "bool")
    if annotation is int:
        return _with(spec, "integer", **bounds)
    if annotation is float:
        return _with(spec, "number", **bounds)
    if annotation is str:
        return _with(spec, "text")
    return spec


def dist_like(tag: str, mean: float) -> dict[str, Any]:
    """A distribution of kind ``tag`` with mean ``mean`` (as a scenario writes it), for
    switching a distribution's kind while keeping its scale."""
    m = float(mean)
    made: dict[str, dict[str, Any]] = {
        "fixed": {"value": m},
        "exponential": {"mean": m},
        "lognormal": {"mean": m, "sd": m},
        "gamma": {"shape": 2.0, "mean": m},
        "uniform": {"low": 0.0, "high": 2 * m},
        "poisson": {"mean": m},
        "geometric": {"mean": max(m, 1.0)},
        "empirical": {"values": [m]},
    }
    if tag not in made:
        raise ValueError(f"unknown distribution {tag!r}; expected one of {', '.join(made)}")
    return {"dist": tag, **made[tag]}


def dist_mean(value: Any) -> float:
    """The mean of a distribution written as a dict (``{"dist": "fixed", "value": 2}``)."""
    if not isinstance(value, dict):
        raise ValueError(f"expected a distribution, got {value!r}")
    tag = value.get("dist")
    if tag == "fixed":
        return float(value["value"])
    if tag == "uniform":
        return (float(value["low"]) + float(value["high"])) / 2
    if tag == "poisson":
        return float(value["mean"]) + float(value.get("shift") or 0)
    if tag == "empirical":
        values = [float(v) for v in value["values"]]
        weights = [float(w) for w in value.get("weights") or [1.0] * len(values)]
        return math.fsum(v * w for v, w in zip(values, weights, strict=True)) / math.fsum(weights)
    return float(value["mean"])


# --------------------------------------------------------------------------- reading types
def _default(field: FieldInfo | None) -> Any:
    """A field's default as plain Python (None without one)."""
    if field is None:
        return None
    if field.default_factory is not None:
        return plain(field.default_factory())  # type: ignore[call-arg]
    return None if field.is_required() else plain(field.default)


def _one_phase(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 1 and value[0].get("from") == 0


def _with(spec: FieldSpec, kind: Kind, **changes: Any) -> FieldSpec:
    return FieldSpec(**{**spec.__dict__, "kind": kind, **changes})


def _unwrap(annotation: Any, metadata: list[Any]) -> tuple[Any, bool]:
    """The bare type (``Annotated`` metadata moved to ``metadata``) and whether it is nullable."""
    nullable = False
    while True:
        if get_origin(annotation) is Annotated:
            base, *extra = get_args(annotation)
            metadata.extend(extra)
            annotation = base
            continue
        args = get_args(annotation)
        if type(None) in args:
            nullable = True
            rest = [a for a in args if a is not type(None)]
            if len(rest) == 1:
                annotation = rest[0]
                continue
        return annotation, nullable


def _bounds(metadata: list[Any]) -> dict[str, float]:
    """``ge``/``gt``/``le``/``lt`` from pydantic field metadata (also nested ``Field(...)``)."""
    out: dict[str, float] = {}
    for item in metadata:
        if isinstance(item, FieldInfo):
            out.update(_bounds(list(item.metadata)))
        elif isinstance(item, at.Ge):
            out["ge"] = float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, at.Gt):
            out["gt"] = float(item.gt)  # type: ignore[arg-type]
        elif isinstance(item, at.Le):
            out["le"] = float(item.le)  # type: ignore[arg-type]
        elif isinstance(item, at.Lt):
            out["lt"] = float(item.lt)  # type: ignore[arg-type]
    return out


def _tags(annotation: Any) -> tuple[str, ...]:
    """The ``dist`` tags of a tagged union of models (a distribution), else ()."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    members = [a for a in get_args(annotation) if a is not type(None)]
    tags: list[str] = []
    for m in members:
        if get_origin(m) is Annotated:
            tags += _tags(m)
            continue
        if not (isinstance(m, type) and issubclass(m, BaseModel)) or "dist" not in m.model_fields:
            return ()
        tags += [str(t) for t in get_args(m.model_fields["dist"].annotation)]
    return tuple(tags)
