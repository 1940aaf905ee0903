"""Calendar periods named on the command line (``--period LABEL=FIRST:LAST``, ``--predict``):
both days included, errors naming the flag. Shared by forecasts and calibration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sim.errors import ScenarioError


@dataclass(frozen=True)
class Period:
    label: str
    first: dt.date
    last: dt.date


def parse_period(text: str) -> Period:
    """``'2025=2025-01-01:2025-12-31'`` (LABEL=FIRST:LAST, both days included)."""
    syntax = "expected LABEL=YYYY-MM-DD:YYYY-MM-DD, e.g. 2025=2025-01-01:2025-12-31"
    if "=" not in text or ":" not in text.split("=", 1)[1]:
        raise ScenarioError(syntax, source=f"--period {text}")
    label, span = text.split("=", 1)
    first, last = span.split(":", 1)
    try:
        a, b = dt.date.fromisoformat(first.strip()), dt.date.fromisoformat(last.strip())
    except ValueError:
        raise ScenarioError(syntax, source=f"--period {text}") from None
    if not label.strip() or b < a:
        raise ScenarioError(syntax + " (LAST not before FIRST)", source=f"--period {text}")
    return Period(label.strip(), a, b)
