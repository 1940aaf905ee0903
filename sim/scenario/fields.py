"""The building blocks of the scenario schema: identifiers, shares, days (a number or a calendar
date), and the frozen base ``Model`` that rejects unknown keys and YAML booleans posing as
numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

Id = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40, description="lower-case identifier"),
]
Share = Annotated[float, Field(ge=0, le=1)]


def _to_day(value: Any, info: ValidationInfo) -> Any:
    """Accept a date (converted to days from start_date) or a number of days."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError as exc:
            if re.fullmatch(r"\s*\d{4}-\d{1,2}-\d{1,2}\s*", value):
                raise ValueError(f"{value!r} is not a valid date ({exc})") from None
            return value  # let float validation produce the message
    if isinstance(value, dt.date):
        start = (info.context or {}).get("start_date")
        if start is None:
            raise ValueError("a date needs a valid start_date in the scenario")
        return float((value - start).days)
    if isinstance(value, bool):
        raise ValueError("expected a number of days or a date, got a boolean")
    return value


Day = Annotated[float, BeforeValidator(_to_day)]


def _bool_ok(ann: Any) -> bool:
    return ann is bool or any(_bool_ok(a) for a in get_args(ann))


def _numeric(ann: Any) -> bool:
    if ann in (int, float):
        return True
    return any(_numeric(a) for a in get_args(ann))


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_bools_for_numbers(cls, data: Any) -> Any:
        """YAML reads yes/no/on/off as booleans; never let one pass for a number."""
        if isinstance(data, dict):
            for name, f in cls.model_fields.items():
                key = f.alias or name
                v = data.get(key)
                if isinstance(v, bool) and _numeric(f.annotation) and not _bool_ok(f.annotation):
                    data = {**data, key: "true" if v else "false"}
        return data
