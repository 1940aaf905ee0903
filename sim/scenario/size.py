"""How large one run of a scenario would be, known before anything runs.

A run holds every prisoner of its world in a table of about ``BYTES_PER_PRISONER`` bytes each
(``sim/model/prisoners.py``: capture, death, release and deal times, wishes, categories and
the indices over them). The expected number of prisoners is the people held at the start plus,
for each capture stream, the expected incidents (its rate integrated over the horizon) times
the mean batch size; with a timeline or formats, the largest over every phase and state. A
scenario whose run would exceed ``MAX_PRISONERS`` (about 3 GB a run, per worker) is refused
when it is loaded, with the usual one-line error naming the field that makes it large,
instead of failing deep inside a run with a ``MemoryError`` after trying to allocate far more
memory than the machine has. A genuinely large study raises the limit with the environment
variable ``PXSIM_MAX_PRISONERS``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable

from sim.errors import ScenarioError
from sim.scenario.paths import PathT
from sim.scenario.schema import CaptureStream, Scenario

BYTES_PER_PRISONER = 170
MAX_PRISONERS = 20_000_000
ENV = "PXSIM_MAX_PRISONERS"


def max_prisoners() -> int:
    """The limit in force: ``PXSIM_MAX_PRISONERS`` if set, else ``MAX_PRISONERS``."""
    text = os.environ.get(ENV)
    if text is None:
        return MAX_PRISONERS
    try:
        number = float(text.replace("_", "").replace(",", ""))
    except ValueError:
        number = 0.0
    value = int(number) if math.isfinite(number) and number == int(number) else 0
    if value < 1:
        raise ScenarioError(f"expected a whole number of prisoners >= 1, got {text!r}", source=ENV)
    return value


def expected_incidents(stream: CaptureStream, horizon: float) -> float:
    """The stream's piecewise rate integrated over ``[0, horizon]``."""
    total = 0.0
    phases = stream.rate
    for k, phase in enumerate(phases):
        start = max(phase.from_, 0.0)
        end = min(phases[k + 1].from_ if k + 1 < len(phases) else horizon, horizon)
        total += phase.per_day * max(0.0, end - start)
    return total


def size_parts(scn: Scenario) -> list[tuple[PathT, float]]:
    """The expected prisoners of one run, part by part, each with the field that sets it."""
    parts: list[tuple[PathT, float]] = [
        (("holdings", i, "count"), float(h.count)) for i, h in enumerate(scn.holdings)
    ]
    for s in scn.capture_streams:
        incidents = expected_incidents(s, scn.horizon)
        batch = s.batch.mean()
        field = "batch" if batch > max(incidents, 1.0) else "rate"
        parts.append((("capture_streams", s.id, field), incidents * batch))
    return parts


def check_size(scn: Scenario, phases: Iterable[Scenario]) -> tuple[PathT, str] | None:
    """The field and message if a run of ``scn`` (in any of its ``phases``) would be too
    large, else None."""
    limit = max_prisoners()
    worst: tuple[float, list[tuple[PathT, float]]] | None = None
    for candidate in [scn, *phases]:
        parts = size_parts(candidate)
        total = sum(n for _, n in parts)
        if worst is None or total > worst[0]:
            worst = (total, parts)
    if worst is None or not (worst[0] > limit or math.isinf(worst[0])):
        return None
    total, parts = worst
    path, part = max(parts, key=lambda p: p[1])
    gigabytes = total * BYTES_PER_PRISONER / 1e9
    return path, (
        f"one run would hold about {total:.3g} prisoners ({part:.3g} from here), about "
        f"{gigabytes:.3g} GB of memory per run; the limit is {limit:,} prisoners a run "
        f"(set {ENV} to raise it for a genuinely large study)"
    )
