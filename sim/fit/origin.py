"""A scenario as it could have been written at a forecast origin: nothing dated after it.

A backtest must not let the model know the future through the scenario's structure. A scenario
written after the events carries dated knowledge: timeline changes (the 2024 move to UAE
mediation, with its one-for-one rule) and format transitions on a date (the UAE starting to
mediate on 2024-01-01). At an origin, ``scenario_at`` keeps only what was dated before it:

* timeline changes dated on or after the origin are removed (the world goes on as it was);
* format transitions triggered on a date on or after the origin never fire (their date is moved
  past the horizon; they stay in place, so ``formats.F.transitions.N`` paths keep their
  meaning); transitions by hazard or by another format's change stay, so formats may still
  open and close by themselves at their (fitted) rates.

``fit_at`` drops the fitted parameters that no longer exist (``timeline.DATE....`` of a removed
change). What it cannot remove is the knowledge in the values written in the file; the
backtest refits the parameters it is given at every origin and its documentation says which
values stay as written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import yaml

from sim.scenario.reading import read_yaml
from sim.scenario.validation import as_date


def _as_date(value: Any, start: dt.date) -> dt.date | None:
    """A date, or a day number counted from ``start``, as a date; None if neither."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return start + dt.timedelta(days=float(value))
    return as_date(value)


def scenario_at(text: str | bytes, source: str, origin: dt.date, until: dt.date) -> str:
    """YAML of the scenario in ``text`` as known at ``origin``, simulated to the end of
    ``until`` (see the module docstring)."""
    data, _ = read_yaml(text, source)
    start = _as_date(data.get("start_date"), dt.date(1970, 1, 1)) or dt.date(1970, 1, 1)
    data["horizon"] = until + dt.timedelta(days=1)
    timeline = data.get("timeline") or []
    kept = [e for e in timeline if (_as_date(e.get("at"), start) or origin) < origin]
    if timeline:
        data["timeline"] = kept
        if not kept:
            del data["timeline"]
    never = until + dt.timedelta(days=366)
    for fmt in data.get("formats") or []:
        for tr in fmt.get("transitions") or []:
            if "at" in tr and (_as_date(tr["at"], start) or origin) >= origin:
                tr["at"] = never
                tr["note"] = f"{tr.get('note', '')} (after the origin {origin}: not known then)"
    out: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return out


def fit_at(fit: Sequence[str], origin: dt.date) -> tuple[list[str], list[str]]:
    """The ``PATH=LOW:HIGH`` fit specs that still exist at ``origin`` and those dropped
    (parameters of timeline changes dated on or after it)."""
    keep: list[str] = []
    dropped: list[str] = []
    for spec in fit:
        path = spec.split("=", 1)[0]
        parts = path.split(".")
        when = None
        if parts[0] == "timeline" and len(parts) > 1:
            try:
                when = dt.date.fromisoformat(parts[1])
            except ValueError:
                when = None  # by index: the change is kept or dropped with its date
        (dropped if when is not None and when >= origin else keep).append(spec)
    return keep, dropped
