"""The theory suite behind ``pxsim check``: the registry of checks (``CHECKS``), their full
and quick replications, and ``run_checks``, which runs them in order.

Runs are seeded (``DEFAULT_SEED`` unless told otherwise), so a given seed always gives the
same verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sim.theory.checks import (
    DEFAULT_SEED,
    check_attrition,
    check_concession,
    check_held,
    check_little,
    check_poisson,
    check_rubinstein,
)
from sim.theory.verdicts import CheckResult

__all__ = ["CHECKS", "DEFAULT_SEED", "Check", "run_checks"]


@dataclass(frozen=True)
class Check:
    """A check function with its replications (full and quick)."""

    name: str
    fn: Callable[..., list[CheckResult]]
    full: int
    quick: int
    what: str = ""


CHECKS: tuple[Check, ...] = (
    Check("poisson", check_poisson, 2000, 400, "Poisson capture counts"),
    Check("held", check_held, 2000, 400, "deaths in captivity, no exchanges"),
    Check("little", check_little, 300, 60, "Little's law"),
    Check("concession", check_concession, 1, 1, "time-dependent concession"),
    Check("rubinstein", check_rubinstein, 1, 1, "Rubinstein alternating offers"),
    Check("attrition", check_attrition, 3000, 600, "war of attrition"),
)


def run_checks(
    quick: bool = False,
    seed: int = DEFAULT_SEED,
    only: Iterable[str] | None = None,
    progress: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Run every check (or those named in ``only``); ``quick`` uses fewer replications."""
    wanted = set(only) if only is not None else None
    if wanted is not None and wanted - {c.name for c in CHECKS}:
        unknown = ", ".join(sorted(wanted - {c.name for c in CHECKS}))
        raise ValueError(f"unknown check(s): {unknown}")
    results: list[CheckResult] = []
    for check in CHECKS:
        if wanted is not None and check.name not in wanted:
            continue
        t0 = time.perf_counter()
        rows = check.fn(check.quick if quick else check.full, seed=seed)
        per = (time.perf_counter() - t0) / len(rows)
        for row in rows:
            row.seconds = per
            results.append(row)
            if progress is not None:
                progress(row)
    return results
