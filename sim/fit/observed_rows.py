"""The data rows of an observations file: dated points written inline or read from a CSV file
beside it, every problem reported with the file, the line (or the CSV row) and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError


class Where:
    """Where values came from (the file, its path → line map, the parsed data), so an error
    can name the file, the line and the field."""

    def __init__(self, source: str, lines: dict[Any, int], data: Any) -> None:
        self.source, self.lines, self.data = source, lines, data

    def _line_path(self, path: tuple[Any, ...]) -> tuple[Any, ...]:
        """The line map names list items by their id where they have one."""
        out: list[Any] = []
        node = self.data
        for seg in path:
            if isinstance(seg, int) and isinstance(node, list) and seg < len(node):
                item = node[seg]
                ident = item.get("id") if isinstance(item, Mapping) else None
                out.append(str(ident) if ident is not None else seg)
                node = item
            else:
                out.append(seg)
                node = node.get(seg) if isinstance(node, Mapping) else None
        return tuple(out)

    def error(self, path: tuple[Any, ...], message: str) -> ScenarioError:
        line = None
        named = self._line_path(path)
        for n in range(len(path), -1, -1):
            for candidate in (named[:n], path[:n]):
                if candidate in self.lines:
                    line = self.lines[candidate]
                    break
            if line is not None:
                break
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return ScenarioError(message, source=self.source, line=line, field=field or None)


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def parse_dates(values: Any, path: tuple[Any, ...], at: Where) -> set[dt.date]:
    if not isinstance(values, list):
        raise at.error(path, "expected a list of dates YYYY-MM-DD")
    out = set()
    for j, v in enumerate(values):
        d = parse_date(v)
        if d is None:
            raise at.error((*path, j), f"expected a date YYYY-MM-DD, got {v!r}")
        out.add(d)
    return out


Row = tuple[dt.date, float | None]  # a date and its value (None where the cell is empty)


def read_rows(item: Mapping[str, Any], path: tuple[Any, ...], at: Where, base: Path) -> list[Row]:
    has_csv, has_points = "csv" in item, "points" in item
    if has_csv == has_points:
        raise at.error(path, "expected exactly one of csv (a file) or points (inline values)")
    if has_points:
        return _inline(item["points"], (*path, "points"), at)
    return _csv_rows(item, path, at, base)


def _inline(points: Any, path: tuple[Any, ...], at: Where) -> list[Row]:
    if not isinstance(points, list) or not points:
        raise at.error(path, "expected a list of {date: YYYY-MM-DD, value: N}")
    rows: list[Row] = []
    for j, pt in enumerate(points):
        if not isinstance(pt, Mapping) or set(pt) - {"date", "value", "note"} or "date" not in pt:
            raise at.error((*path, j), "expected {date: YYYY-MM-DD, value: N}")
        d = parse_date(pt["date"])
        if d is None:
            raise at.error((*path, j, "date"), f"expected a date YYYY-MM-DD, got {pt['date']!r}")
        v = pt.get("value")
        if v is not None and (
            isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
        ):
            raise at.error((*path, j, "value"), f"expected a number, got {v!r}")
        rows.append((d, None if v is None else float(v)))
    return rows


def _csv_rows(item: Mapping[str, Any], path: tuple[Any, ...], at: Where, base: Path) -> list[Row]:
    name = item["csv"]
    if not isinstance(name, str) or not name:
        raise at.error((*path, "csv"), "expected a CSV file name (relative to this file)")
    file = base / name
    if not file.is_file():
        raise at.error((*path, "csv"), f"{file} not found")
    date_col = item.get("date", "date")
    value_col = item.get("value", "value")
    where = item.get("where", {})
    if not isinstance(where, Mapping) or not all(isinstance(v, list) and v for v in where.values()):
        raise at.error((*path, "where"), "expected {column: [allowed values, ...]}")
    try:
        with file.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            for key, col in (
                ("date", date_col),
                ("value", value_col),
                *[("where", c) for c in where],
            ):
                if col not in header:
                    raise at.error(
                        (*path, key), f"{file} has no column {col!r}; columns: {', '.join(header)}"
                    )
            rows: list[Row] = []
            for record in reader:
                line = reader.line_num
                if any(
                    str(record.get(c, "")).strip() not in map(str, allowed)
                    for c, allowed in where.items()
                ):
                    continue
                d = parse_date(record[date_col])
                if d is None:
                    raise ScenarioError(
                        f"expected a date YYYY-MM-DD, got {record[date_col]!r}",
                        source=str(file),
                        line=line,
                        field=date_col,
                    )
                raw = (record.get(value_col) or "").strip()
                value: float | None = None
                if raw:
                    try:
                        value = float(raw)
                    except ValueError:
                        raise ScenarioError(
                            f"expected a number, got {raw!r}",
                            source=str(file),
                            line=line,
                            field=value_col,
                        ) from None
                rows.append((d, value))
    except UnicodeDecodeError:
        raise at.error((*path, "csv"), f"{file} is not UTF-8 text") from None
    return rows
