"""Plain text for the terminal: numbers rounded for reading and aligned tables.

Pure Python (no pandas), so every layer can use it."""

from __future__ import annotations

import math


def format_number(x: float) -> str:
    """``1,234`` / ``12.3`` / ``1.23``; ``—`` for NaN and infinities."""
    if not math.isfinite(x):
        return "—"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def text_table(header: list[str], rows: list[list[str]], left: int | None = None) -> str:
    """A plain-text table under a rule; the first ``left`` columns are left-aligned (all of
    them when ``left`` is None), the rest right-aligned."""
    n_left = len(header) if left is None else left
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if j < n_left else c.rjust(w)
            for j, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    head = line(header)
    return "\n".join([head, "-" * len(head), *(line(r) for r in rows)])


def work_line(run: int, reused: int, unit: str, backend: str, workers: int) -> str:
    """``12 chunk(s) run, 3 reused on local (2 worker(s))``: what an execution did, the same
    words for runs, sweeps and calibrations."""
    again = f", {reused} reused" if reused else ""
    return f"{run} {unit}(s) run{again} on {backend} ({workers} worker(s))"
