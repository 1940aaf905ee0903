"""Pydantic validation with errors a user can act on: each problem becomes one
``ScenarioError`` naming the file, the line, the field path and what was expected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.scenario.dists import DIST_NAMES
from sim.scenario.paths import PathT, format_path
from sim.scenario.schema import Scenario


# --------------------------------------------------------------------------- validation
def _loc_to_path(loc: Sequence[str | int], data: Any) -> PathT:
    """Pydantic loc (indices) → path with list items named by id where they have one."""
    out: list[str | int] = []
    node = data
    for seg in loc:
        if isinstance(seg, int) and isinstance(node, list):
            item = node[seg] if seg < len(node) else None
            ident = item.get("id") if isinstance(item, Mapping) else None
            out.append(str(ident) if ident is not None else seg)
            node = item
        else:
            if (isinstance(seg, str) and seg.startswith("function-")) or seg in (
                "tagged-union[Fixed,Exponential,Lognormal,Gamma,Uniform,Poisson,Geometric,Empirical]",
            ):
                continue
            out.append(seg)
            node = node.get(seg) if isinstance(node, Mapping) else None
    return tuple(_clean_loc(out))


def _clean_loc(path: list[str | int]) -> list[str | int]:
    dist_tags = set(DIST_NAMES)
    out: list[str | int] = []
    for i, seg in enumerate(path):
        if seg in dist_tags and i > 0:
            continue  # discriminator branch name inside a path
        if seg in ("StrategySpec",):
            continue
        out.append(seg)
    return out


def _describe_error(err: Mapping[str, Any], path: PathT = ()) -> str:
    typ = err.get("type", "")
    msg = str(err.get("msg", "invalid"))
    got = err.get("input")
    ctx = err.get("ctx") or {}
    if typ == "extra_forbidden":
        return "unknown field; check the spelling (see docs/scenario-format.md for the fields)"
    if typ == "missing":
        return "required field is missing"
    if typ == "union_tag_invalid" or typ == "union_tag_not_found":
        return f"expected a distribution with `dist:` one of {', '.join(DIST_NAMES)}; got {got!r}"
    if typ in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bounds = {
            "greater_than_equal": ">=",
            "less_than_equal": "<=",
            "greater_than": ">",
            "less_than": "<",
        }[typ]
        limit = next(iter(ctx.values()), "?")
        if path == ("horizon",) and isinstance(got, int | float) and got <= 0:
            return (
                f"expected a horizon after start_date; got {got:g} days (an end date must "
                f"come after start_date)"
            )
        return f"expected a value {bounds} {limit}, got {got!r}"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if typ in (
        "float_parsing",
        "float_type",
        "int_parsing",
        "int_type",
        "bool_parsing",
        "bool_type",
        "string_type",
        "list_type",
        "dict_type",
        "model_type",
        "date_from_datetime_parsing",
        "date_parsing",
        "date_type",
        "int_from_float",
    ):
        return f"{msg[0].lower()}{msg[1:]}, got {got!r}"
    if typ == "string_pattern_mismatch":
        return f"expected a lower-case identifier (letters, digits, _), got {got!r}"
    return f"{msg[0].lower()}{msg[1:]}" if msg else "invalid"


class Origins:
    """Where each raw path came from: file lines, or a --set / timeline override."""

    def __init__(self, source: str, lines: dict[PathT, int]) -> None:
        self.source = source
        self.lines = lines
        # path -> (source, line, field prefix)
        self.overrides: dict[PathT, tuple[str, int | None, str]] = {}

    def locate(self, path: PathT) -> tuple[str, int | None, str]:
        """(source, line, field prefix) of the value at ``path``: the override that set it or
        a value beneath it, else the nearest line of the file."""
        for opath, origin in self.overrides.items():
            if opath[: len(path)] == path:
                return origin
        for n in range(len(path), -1, -1):  # an override of the value or of what holds it
            if path[:n] in self.overrides:  # wins over the file's line for the old value
                return self.overrides[path[:n]]
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                return self.source, self.lines[path[:n]], ""
        return self.source, None, ""

    def error(self, path: PathT, message: str) -> ScenarioError:
        src, line, prefix = self.locate(path)
        return ScenarioError(
            message, source=src, line=line, field=prefix + format_path(path) or None
        )


def _start_date(data: Mapping[str, Any]) -> dt.date | None:
    return as_date(data.get("start_date"))


def as_date(value: Any) -> dt.date | None:
    """A YAML date value (a date, a datetime or an ISO string) as a date; None otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def validate_data(data: Any, origins: Origins) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(
            f"expected a mapping of scenario fields at the top level, got {type(data).__name__}",
            source=origins.source,
            line=1,
        )
    try:
        return Scenario.model_validate(data, context={"start_date": _start_date(data)})
    except ValidationError as exc:
        errs = exc.errors()
        err = errs[0]
        path = _loc_to_path(err["loc"], data)
        more = f" (and {len(errs) - 1} more problem(s))" if len(errs) > 1 else ""
        raise origins.error(path, _describe_error(err, path) + more) from None
