"""The exchange record a backtest scores against: handovers (stages) and deals, with the people
each party received, read from an events CSV.

One row is one handover day (what the press reports as a swap): a ``date`` and, for every party
``P`` of the scenario, a column ``returned_to_P`` (people handed to ``P``; empty where the
number was withheld). Rows whose ``kind`` column is listed in ``exclude`` (by default
``bodies``: remains are counted apart from the living in pxsim too) are left out. A deal carried
out in several stages (the 2025 Istanbul deals) is named by the span of its stages
(``deal_stages``: first and last date): its stages stay separate handovers, and together they
make one deal, dated by its last stage and as large as their sum. Every other row is a deal of
its own. A deal's size is unknown (NaN) if one of its stages withheld its numbers; windows
that contain one are not scored on people (the record does not say how many).

``until`` is the last day the record covers (a window is scored only if it ends by then): the
record stops at a date on purpose, which need not be the date of its last exchange.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import ScenarioError
from sim.fit.observed_rows import parse_date


@dataclass(frozen=True)
class Record:
    """Handovers and deals; days count from ``start`` (the scenario's start date)."""

    source: str
    start: dt.date
    parties: tuple[str, ...]
    stage_days: np.ndarray  # (s,) sorted
    stage_sizes: np.ndarray  # (s, parties) people received; NaN where withheld
    deal_days: np.ndarray  # (d,) sorted: the day of each deal's last stage
    deal_sizes: np.ndarray  # (d, parties)
    until: float  # the last day covered

    def day(self, when: dt.date) -> float:
        return float((when - self.start).days)

    def before(self, origin: float) -> Record:
        """The record as known at day ``origin``: handovers and deals before it only."""
        s, d = self.stage_days < origin, self.deal_days < origin
        return Record(
            self.source,
            self.start,
            self.parties,
            self.stage_days[s],
            self.stage_sizes[s],
            self.deal_days[d],
            self.deal_sizes[d],
            min(self.until, origin - 1),
        )


def load_record(
    path: str | Path,
    start: dt.date,
    parties: Sequence[str],
    *,
    until: dt.date | None = None,
    deal_stages: Sequence[tuple[dt.date, dt.date]] = (),
    exclude: Sequence[str] = ("bodies",),
) -> Record:
    """Read an events CSV (see the module docstring); every mistake is one ``ScenarioError``
    naming the file, row and column."""
    source = str(path)
    p = Path(path)
    if not p.is_file():
        raise ScenarioError("not found" if not p.exists() else "is not a file", source=source)
    with p.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        need = ["date", *(f"returned_to_{q}" for q in parties)]
        missing = [c for c in need if c not in columns]
        if missing:
            raise ScenarioError(
                f"no column {missing[0]!r}; expected date and returned_to_<party> for "
                f"{', '.join(parties)}",
                source=source,
                line=1,
            )
        rows: list[tuple[dt.date, list[float]]] = []
        for i, row in enumerate(reader, start=2):
            if row.get("kind") in exclude:
                continue
            when = _date(row["date"], source, i, "date")
            sizes = [_size(row[f"returned_to_{q}"], source, i, q) for q in parties]
            rows.append((when, sizes))
    if not rows:
        raise ScenarioError("no handover rows (all excluded or the file is empty)", source=source)
    rows.sort(key=lambda r: r[0])
    last = rows[-1][0]
    end = until or last
    if end < last:
        raise ScenarioError(
            f"the record has a handover on {last}, after --record-until {end}", source=source
        )
    days = np.array([float((d - start).days) for d, _ in rows])
    people = np.array([s for _, s in rows], dtype=float).reshape(len(rows), len(parties))
    deal_days, deal_sizes = _deals(rows, days, people, deal_stages, source)
    return Record(
        source,
        start,
        tuple(parties),
        days,
        people,
        deal_days,
        deal_sizes,
        float((end - start).days),
    )


def _deals(
    rows: list[tuple[dt.date, list[float]]],
    days: np.ndarray,
    sizes: np.ndarray,
    spans: Sequence[tuple[dt.date, dt.date]],
    source: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Group the stages of the named multi-stage deals; every other handover is a deal."""
    group = np.arange(len(rows))
    for first, last in spans:
        inside = [i for i, (d, _) in enumerate(rows) if first <= d <= last]
        if len(inside) < 2:
            raise ScenarioError(
                f"--deal-stages {first}:{last} spans {len(inside)} handover(s); a deal in "
                "stages needs at least two",
                source=source,
            )
        group[inside] = inside[-1]
    ids = sorted(set(group.tolist()))
    deal_days = np.array([days[g] for g in ids])
    deal_sizes = np.array([sizes[group == g].sum(axis=0) for g in ids]).reshape(
        len(ids), sizes.shape[1]
    )
    return deal_days, deal_sizes


def _date(value: str, source: str, line: int, column: str) -> dt.date:
    when = parse_date(value)
    if when is None:
        raise ScenarioError(
            f"expected a date YYYY-MM-DD, got {value!r}", source=source, line=line, field=column
        )
    return when


def _size(value: str | None, source: str, line: int, party: str) -> float:
    text = (value or "").strip()
    if not text:
        return float("nan")  # withheld
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not v >= 0:
        raise ScenarioError(
            f"expected a number of people (or empty if withheld), got {text!r}",
            source=source,
            line=line,
            field=f"returned_to_{party}",
        )
    return v
