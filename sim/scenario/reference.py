"""The scenario format reference, generated from the schema so it never drifts from it.

``pxsim schema`` prints it; ``docs/scenario-format.md`` is its committed copy, and a test
checks the two are equal.
"""

from __future__ import annotations

import types
import typing
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sim.scenario import custody, dists, fields, formats, parties, rates, remains, schema
from sim.scenario.strategies import STRATEGIES

SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("Scenario (top level)", schema.Scenario),
    ("parties[]: Party", parties.Party),
    ("parties[].values: Values", parties.Values),
    ("parties[].norms: Norms", parties.Norms),
    ("parties[].strategy: Strategy", parties.StrategySpec),
    ("holdings[]: Holding", schema.Holding),
    ("capture_streams[]: CaptureStream", schema.CaptureStream),
    ("capture_streams[].rate[]: RatePhase", rates.RatePhase),
    ("captivity: Captivity", schema.Captivity),
    ("captivity.death_hazard: DeathHazard", schema.DeathHazard),
    ("captivity.preference_drift: PreferenceDrift", schema.PreferenceDrift),
    ("intermediaries[]: Intermediary", schema.Intermediary),
    ("negotiation: Negotiation", schema.Negotiation),
    ("negotiation.stages: Stages", schema.Stages),
    ("negotiation.collapse_by_size[]: SizeRisk", schema.SizeRisk),
    ("timeline[]: TimelineChange", schema.TimelineChange),
    ("formats[]: Format", formats.Format),
    ("formats[].states[]: FormatState", formats.FormatState),
    ("formats[].transitions[]: Transition", formats.Transition),
    ("custody[]: Custody", custody.Custody),
    ("remains[]: Remains", remains.Remains),
    ("remains[].returns: RemainsReturns", remains.RemainsReturns),
]

DIST_CLASSES = dists.DIST_CLASSES

INTRO = """\
# Scenario format reference

Generated from the schema in `sim/scenario/` by `pxsim schema` (a test keeps this file in
sync). A scenario is one YAML mapping. Unknown keys are errors. Units: times are **days**;
any field marked *day* also accepts a calendar date (`2025-01-13`), converted to days from
`start_date`. Values are in each party's own units (only ratios between them matter); shares
are between 0 and 1. Parties, capture streams and intermediaries are lists of items with an
`id`; `--set` and the timeline address them by id (`parties.russia.reservation`).

Prisoner wishes (`preferences`) are shares of `return`, `stay` (remain with the holder: resettled
by a holder that offers asylum, otherwise held) and `resettle:PARTY` (asylum with a party whose
`asylum` is true).
"""


def _type_name(ann: Any) -> str:
    origin = get_origin(ann)
    if ann is type(None):
        return "null"
    if origin is typing.Annotated:
        base = get_args(ann)[0]
        meta = get_args(ann)[1:]
        if any(getattr(m, "discriminator", None) == "dist" for m in meta):
            return "distribution"
        if any(
            "BeforeValidator" in type(m).__name__ and getattr(m, "func", None) is fields._to_day
            for m in meta
        ):
            return "day"
        if base is parties.StrategySpec:
            return "strategy"
        return _type_name(base)
    if origin is typing.Literal:
        return " or ".join(str(a) for a in get_args(ann))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(ann))
    if origin is list:
        return f"list of {_type_name(get_args(ann)[0])}"
    if origin is dict:
        k, v = get_args(ann)
        return f"mapping {_type_name(k)} → {_type_name(v)}"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann.__name__
    return {float: "number", int: "integer", str: "text", bool: "true/false"}.get(
        ann, getattr(ann, "__name__", str(ann))
    )


def _default(f: FieldInfo) -> str:
    if f.default is PydanticUndefined and f.default_factory is None:
        return "**required**"
    value = f.default_factory() if f.default_factory is not None else f.default  # type: ignore[call-arg]
    if isinstance(value, BaseModel):
        dumped = value.model_dump(by_alias=True, exclude_defaults=False)
        if "dist" in dumped:
            return "`{" + ", ".join(f"{k}: {v}" for k, v in dumped.items()) + "}`"
        return "(see section)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict) and not value:
        return "empty"
    return f"`{value}`".replace("'", "")


def _constraints(f: FieldInfo) -> str:
    out = []
    for m in f.metadata:
        for attr, sym in (
            ("ge", "≥"),
            ("gt", ">"),
            ("le", "≤"),
            ("lt", "<"),
            ("min_length", "min items"),
            ("max_length", "max length"),
        ):
            v = getattr(m, attr, None)
            if v is not None:
                out.append(f"{sym} {v}")
    return ", ".join(out)


def _table(model: type[BaseModel]) -> str:
    rows = ["| field | type | default | range | meaning |", "|---|---|---|---|---|"]
    for name, f in model.model_fields.items():
        key = f.alias or name
        desc = (f.description or "").replace("|", "\\|")
        tname = _type_name(f.annotation)
        if any(getattr(m, "func", None) is fields._to_day for m in f.metadata):
            tname = "day"
        elif f.discriminator == "dist":
            tname = "distribution"
        elif tname.startswith("list of RatePhase"):
            tname = "number or list of RatePhase"
        rows.append(f"| `{key}` | {tname} | {_default(f)} | {_constraints(f)} | {desc} |")
    return "\n".join(rows)


def reference_markdown() -> str:
    parts = [INTRO]
    for title, model in SECTIONS:
        doc = (model.__doc__ or "").strip().splitlines()[0]
        parts.append(f"## {title}\n\n{doc}\n\n{_table(model)}\n")
    parts.append(
        "## Distributions\n\nWritten as a mapping with a `dist` tag, e.g. "
        "`{dist: exponential, mean: 14}`.\n"
    )
    for cls in DIST_CLASSES:
        tag = get_args(cls.model_fields["dist"].annotation)[0]
        doc = (cls.__doc__ or "").strip()
        parts.append(f"### `{tag}`\n\n{doc}\n\n{_table(cls)}\n")
    parts.append(
        "## Strategies\n\nChosen by name (`strategy: boulware` or "
        "`strategy: {name: boulware, e: 0.1}`); registered in `sim/scenario/strategies.py`: "
        + ", ".join(f"`{n}`" for n in sorted(STRATEGIES))
        + ".\n"
    )
    return "\n".join(parts)
