"""sim/text.py: numbers rounded for reading, aligned tables, the work line."""

from __future__ import annotations

import math

from sim.text import format_number, text_table, work_line


def test_format_number_rounds_by_magnitude() -> None:
    assert format_number(1234.56) == "1,235"
    assert format_number(12.345) == "12.3"
    assert format_number(1.2345) == "1.23"
    assert format_number(math.nan) == "—"


def test_text_table_aligns_left_then_right() -> None:
    table = text_table(["name", "n"], [["a", "1"], ["long", "100"]], left=1)
    assert table.splitlines() == ["name    n", "---------", "a       1", "long  100"]


def test_work_line_names_reuse_only_when_there_is_some() -> None:
    assert work_line(3, 0, "chunk", "local", 2) == "3 chunk(s) run on local (2 worker(s))"
    assert work_line(2, 4, "task", "serial", 1) == "2 task(s) run, 4 reused on serial (1 worker(s))"
