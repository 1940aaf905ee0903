"""Reading a scenario value by dotted path, the addressing ``--set`` uses.

Owns the walk from a validated model (a ``Scenario``, or any part of one) down a dotted path:
field names (or their YAML aliases, e.g. ``mean``), list items by ``id``, timeline entries by
date (``timeline.2024-01-01``) or position, and the dotted keys of a timeline ``set``
(``timeline.2024-01-01.set.parties.ukraine.initiative.mean``). It returns the value found and
the declaration behind it (the pydantic field, the annotation), so that ``Scenario.get`` can
hand back a plain value and ``sim.scenario.field_specs`` can read bounds and choices. A path
that leads nowhere is a ``ScenarioError`` naming the path and the keys valid at that point.

This module sits below ``sim.scenario.schema`` (which calls it for ``Scenario.get``): it knows
pydantic models in general, not the scenario's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.errors import ScenarioError
from sim.scenario.paths import dotted_key, split_path


@dataclass(frozen=True)
class Located:
    """What a dotted path leads to: the validated value and what declares it.

    ``annotation`` is the declared type at that point (for a list item or a mapping entry the
    item type of its container, ``Any`` inside a timeline ``set``); ``field`` is the pydantic
    field when the last step named a model field (``owner`` its model class, ``name`` its
    Python name), else None."""

    path: str
    value: Any
    annotation: Any
    field: FieldInfo | None = None
    owner: type[BaseModel] | None = None
    name: str | None = None


def locate(
    root: BaseModel, path: str, *, start_date: dt.date | None = None, source: str | None = None
) -> Located:
    """Walk ``path`` from ``root``. ``start_date`` lets timeline entries be named by date;
    errors name ``source`` (e.g. the scenario's name) and the path."""
    try:
        parts = split_path(path)
    except ValueError as exc:
        raise ScenarioError(str(exc), source=source) from None
    node: Any = root
    found = Located(path, root, type(root))
    walked: list[str] = []
    i = 0
    while i < len(parts):
        if isinstance(node, BaseModel):
            seg = parts[i]
            name, info = _model_field(type(node), seg)
            if name is None or info is None:
                raise _unknown(path, walked, seg, _field_keys(type(node)), source)
            found = Located(path, getattr(node, name), info.annotation, info, type(node), name)
        elif isinstance(node, list):
            seg = parts[i]
            idx = _find_item(node, seg, start_date)
            if idx is None:
                raise _unknown(path, walked, seg, _item_keys(node, start_date), source, "item")
            found = Located(path, node[idx], _item_type(found.annotation))
        elif isinstance(node, Mapping):
            i, seg = dotted_key(node, parts, i)
            if seg not in node:
                raise _unknown(path, walked, seg, [str(k) for k in node], source, "key")
            found = Located(path, node[seg], _value_type(found.annotation))
        else:
            where = ".".join(walked)
            what = "null (not set)" if node is None else f"a single value ({node!r})"
            raise ScenarioError(
                f"{where} is {what}, so it has no field {parts[i]!r}", source=source, field=path
            )
        walked.append(seg)
        node = found.value
        i += 1
    return found


def plain(value: Any) -> Any:
    """A validated value as plain Python: models as dicts keyed as in YAML (aliases), lists and
    dicts copied all the way down; numbers, text, booleans, dates and None as they are."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python", by_alias=True)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def get_value(
    root: BaseModel, path: str, *, start_date: dt.date | None = None, source: str | None = None
) -> Any:
    """The value at dotted ``path`` from ``root``, as plain Python (see ``plain``)."""
    return plain(locate(root, path, start_date=start_date, source=source).value)


# --------------------------------------------------------------------------- steps
def _model_field(model: type[BaseModel], seg: str) -> tuple[str | None, FieldInfo | None]:
    """A model's field by its YAML key (alias) or its Python name."""
    for name, info in model.model_fields.items():
        if seg in (info.alias, name):
            return name, info
    return None, None


def _field_keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _attr(item: Any, key: str) -> Any:
    if isinstance(item, BaseModel):
        return getattr(item, key, None)
    if isinstance(item, Mapping):
        return item.get(key)
    return None


def _day(seg: str, start_date: dt.date | None) -> float | None:
    """``seg`` as a day number when it is a calendar date and the start date is known."""
    if start_date is None:
        return None
    try:
        return float((dt.date.fromisoformat(seg) - start_date).days)
    except ValueError:
        return None


def _find_item(items: list[Any], seg: str, start_date: dt.date | None) -> int | None:
    """A list item by ``id``, a timeline entry by its date (``at``), else by position: the
    order ``--set`` looks them up in (``sim.scenario.paths.find_item``)."""
    for i, item in enumerate(items):
        ident = _attr(item, "id")
        if ident is not None and str(ident) == seg:
            return i
    day = _day(seg, start_date)
    for i, item in enumerate(items):
        at = _attr(item, "at")
        if _attr(item, "id") is None and at is not None and (str(at) == seg or at == day):
            return i
    if seg.isdigit() and int(seg) < len(items):
        return int(seg)
    return None


def _item_keys(items: list[Any], start_date: dt.date | None) -> list[str]:
    keys = []
    for item in items:
        ident, at = _attr(item, "id"), _attr(item, "at")
        if ident is not None:
            keys.append(str(ident))
        elif isinstance(at, int | float) and start_date is not None and float(at).is_integer():
            keys.append((start_date + dt.timedelta(days=int(at))).isoformat())
        elif at is not None:
            keys.append(str(at))
    if items:
        keys.append(f"a position 0..{len(items) - 1}")
    return keys


def _unknown(
    path: str, walked: list[str], seg: str, keys: list[str], source: str | None, what: str = "field"
) -> ScenarioError:
    where = ".".join(walked) or "the top level"
    listing = ", ".join(keys) if keys else "(none: it is empty)"
    return ScenarioError(
        f"unknown path: no {what} {seg!r} at {where}; expected one of: {listing}",
        source=source,
        field=path,
    )


def _strip(annotation: Any) -> Any:
    """``Annotated[X, ...]`` → ``X``; ``X | None`` → ``X``; anything else unchanged."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    args = [a for a in get_args(annotation) if a is not type(None)]
    if len(args) == 1 and type(None) in get_args(annotation):
        return _strip(args[0])
    return annotation


def _item_type(annotation: Any) -> Any:
    """The item type of ``list[X]`` (Any when unknown)."""
    args = get_args(_strip(annotation))
    return args[0] if len(args) == 1 else Any


def _value_type(annotation: Any) -> Any:
    """The value type of ``dict[K, V]`` (Any when unknown)."""
    args = get_args(_strip(annotation))
    return args[1] if len(args) == 2 else Any
