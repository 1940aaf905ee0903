"""The observed record a calibration fits: an observations YAML file, read into ``Target``s.

The file names its targets; each takes its values inline (``points``) or from a CSV next to it
(``csv``, with ``date`` and ``value`` column names), optionally filtered (``where``: column →
allowed values; ``drop``: dates left out, e.g. lower bounds or an aborted swap) and, for
distributions, restricted to a window (``from``/``to``)::

    name: ua_ru_record_2022_2024
    targets:
      - id: returned                 # letters, digits, _ and -
        kind: cumulative_returned    # cumulative_returned | _deals | _stages | sizes | gaps
        party: ukraine               # returned to whom (cumulative_returned, sizes)
        csv: data/ua_ru_cumulative.csv
        date: date                   # column names; defaults date / value
        value: ukrainians_returned_total
        drop: [2022-11-30]
      - id: sizes_2024
        kind: sizes
        party: ukraine
        csv: data/ua_ru_exchanges.csv
        value: returned_to_ukraine
        where: {kind: [pow, mixed, civilian]}
        from: 2024-01-01
        to: 2024-12-31
        quantiles: [0.25, 0.5, 0.75]

Every mistake is a ``ScenarioError`` naming the file, line and field (or the CSV row).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.fit.observed_rows import Where, parse_date, parse_dates, read_rows
from sim.results.targets import CUMULATIVE, DEFAULT_QUANTILES, KINDS, Target
from sim.scenario.reading import read_yaml

TARGET_KEYS = {
    "id",
    "kind",
    "party",
    "csv",
    "date",
    "value",
    "points",
    "where",
    "drop",
    "from",
    "to",
    "quantiles",
    "note",
}
ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
PARTY_KINDS = ("cumulative_returned", "sizes")


class Observations:
    """The parsed file: its targets (days from ``start``) and a digest of what they contain."""

    def __init__(self, name: str, source: str, targets: list[Target]) -> None:
        self.name = name
        self.source = source
        self.targets = targets

    def select(self, ids: Sequence[str] | None) -> list[Target]:
        """The targets named in ``ids`` (all when empty), in the file's order."""
        if not ids:
            return list(self.targets)
        known = [t.id for t in self.targets]
        for i in ids:
            if i not in known:
                raise ScenarioError(
                    f"no target {i!r} in {self.source}; its targets are: {', '.join(known)}",
                    source="--target",
                )
        return [t for t in self.targets if t.id in ids]

    def digest(self) -> str:
        blob = json.dumps([_describe(t) for t in self.targets], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _describe(t: Target) -> dict[str, Any]:
    return {
        "id": t.id,
        "kind": t.kind,
        "party": t.party,
        "days": list(t.days),
        "observed": list(t.observed),
        "window": [str(w) for w in t.window],
        "quantiles": list(t.quantiles),
    }


def load_observations(
    path: str | Path,
    start: dt.date,
    parties: Sequence[str],
    *,
    before: dt.date | None = None,
) -> Observations:
    """Read an observations file; days count from ``start`` (the scenario's start date) and
    ``party`` must be one of ``parties``.

    ``before`` (a backtest's forecast origin) keeps only the record known then: every row and
    point dated on or after it is dropped as it is read, before any target is built from it,
    and windows end the day before; targets left with nothing are left out."""
    p = Path(path)
    source = str(path)
    if not p.is_file():
        raise ScenarioError(
            "not found" if not p.exists() else "is not a file", source=f"--observed {source}"
        )
    data, lines = read_yaml(p.read_bytes(), source)
    at = Where(source, lines, data)
    if not isinstance(data, Mapping):
        raise at.error((), "expected a mapping with `targets:` (a list of targets)")
    unknown = set(data) - {"name", "description", "targets", "note"}
    if unknown:
        key = sorted(map(str, unknown))[0]
        raise at.error((key,), "unknown field; expected name, description, targets")
    items = data.get("targets")
    if not isinstance(items, list) or not items:
        raise at.error(("targets",), "expected a non-empty list of targets")
    targets: list[Target] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        t = _target(item, ("targets", i), at, p.parent, start, parties, before)
        if t is None:
            continue  # nothing of it was known before the origin
        if t.id in seen:
            raise ScenarioError(
                f"target id {t.id!r} is used twice",
                source=source,
                line=lines.get(("targets", i)),  # the item's own line (ids name the first)
                field=f"targets[{i}].id",
            )
        seen.add(t.id)
        targets.append(t)
    return Observations(str(data.get("name") or p.stem), source, targets)


def _target(
    item: Any,
    path: tuple[Any, ...],
    at: Where,
    base: Path,
    start: dt.date,
    parties: Sequence[str],
    before: dt.date | None = None,
) -> Target | None:
    if not isinstance(item, Mapping):
        raise at.error(path, "expected a mapping with id, kind and csv or points")
    for key in item:
        if key not in TARGET_KEYS:
            raise at.error(
                (*path, key), f"unknown field; expected one of {', '.join(sorted(TARGET_KEYS))}"
            )
    tid = item.get("id")
    if not isinstance(tid, str) or not ID_RE.match(tid):
        raise at.error((*path, "id"), "expected an id of letters, digits, _ and - (e.g. returned)")
    kind = item.get("kind")
    if kind not in KINDS:
        raise at.error((*path, "kind"), f"expected one of {', '.join(KINDS)}, got {kind!r}")
    party = item.get("party")
    if kind in PARTY_KINDS:
        if party not in parties:
            raise at.error(
                (*path, "party"),
                f"{kind} needs the party people are returned to; one of {', '.join(parties)}",
            )
    elif party is not None:
        raise at.error((*path, "party"), f"{kind} takes no party")
    rows = read_rows(item, path, at, base)
    if before is not None:  # the record as known at the origin: later rows never get further
        rows = [(d, v) for d, v in rows if d < before]
    drop = parse_dates(item.get("drop", []), (*path, "drop"), at)
    lo = _bound(item, "from", path, at, start, -math.inf)
    hi = _bound(item, "to", path, at, start, math.inf)
    if lo > hi:
        raise at.error((*path, "to"), "expected `to` on or after `from`")
    if before is not None:
        hi = min(hi, float((before - start).days) - 1)
        if lo > hi:
            return None
    rows = [(d, v) for d, v in rows if d not in drop]
    quantiles = _quantiles(item, path, at, kind)
    if kind in CUMULATIVE:
        if "from" in item or "to" in item:
            raise at.error((*path, "from"), f"{kind} takes no window; use drop to leave dates out")
        points = [(d, v) for d, v in rows if v is not None]
        if not points and before is not None:
            return None
        if not points:
            raise at.error(path, "no observation left (every value missing or dropped)")
        dates = [d for d, _ in points]
        dup = sorted({d for d in dates if dates.count(d) > 1})
        if dup:
            raise at.error(path, f"date {dup[0]} is observed twice; drop one of them")
        points.sort(key=lambda r: r[0])
        days = [float((d - start).days) for d, _ in points]
        if days[0] < 0:
            raise at.error(path, f"{points[0][0]} is before the scenario's start date {start}")
        return Target(
            id=tid,
            kind=kind,
            party=party,
            days=tuple(days),
            dates=tuple(d.isoformat() for d, _ in points),
            observed=tuple(float(v) for _, v in points),
            source=f"{at.source} targets {tid}",
        )
    inside = [(d, v) for d, v in rows if lo <= (d - start).days <= hi]
    if kind == "sizes":
        sample = [float(v) for _, v in inside if v is not None]
        if not sample and before is not None:
            return None
        if not sample:
            raise at.error(path, "no sizes in the window (values missing, dropped or outside)")
        if min(sample) < 0:
            raise at.error((*path, "value"), "sizes must be >= 0")
    else:
        days_seen = sorted({(d - start).days for d, _ in inside})
        if len(days_seen) < 2 and before is not None:
            return None
        if len(days_seen) < 2:
            raise at.error(path, "gaps need at least two dates in the window")
        sample = [float(b - a) for a, b in itertools.pairwise(days_seen)]
    return Target(
        id=tid,
        kind=kind,
        party=party,
        observed=tuple(sample),
        window=(lo, hi),
        window_dates=(
            _label(item.get("from")),
            _label(item.get("to")) if before is None or hi == math.inf else _day_label(start, hi),
        ),
        quantiles=quantiles,
        source=f"{at.source} targets {tid}",
    )


def _day_label(start: dt.date, day: float) -> str:
    return (start + dt.timedelta(days=int(day))).isoformat()


def _label(v: Any) -> str:
    d = parse_date(v) if v is not None else None
    return d.isoformat() if d else ""


def _bound(
    item: Mapping[str, Any],
    key: str,
    path: tuple[Any, ...],
    at: Where,
    start: dt.date,
    default: float,
) -> float:
    if key not in item:
        return default
    d = parse_date(item[key])
    if d is None:
        raise at.error((*path, key), f"expected a date YYYY-MM-DD, got {item[key]!r}")
    return float((d - start).days)


def _quantiles(
    item: Mapping[str, Any], path: tuple[Any, ...], at: Where, kind: str
) -> tuple[float, ...]:
    if "quantiles" not in item:
        return DEFAULT_QUANTILES
    if kind in CUMULATIVE:
        raise at.error((*path, "quantiles"), f"{kind} takes no quantiles")
    qs = item["quantiles"]
    ok = (
        isinstance(qs, list)
        and qs
        and all(isinstance(q, int | float) and not isinstance(q, bool) and 0 <= q <= 1 for q in qs)
    )
    if not ok:
        raise at.error((*path, "quantiles"), "expected a list of numbers between 0 and 1")
    if len(set(qs)) != len(qs):
        raise at.error((*path, "quantiles"), "a quantile is listed twice")
    return tuple(float(q) for q in qs)
