"""``pxsim check``: the theory suite, simulated results against closed-form values.

Owns the check subparser and the command that runs the checks (all or ``--only`` some), prints
each verdict as it comes, the summary, and (``--json``) writes the results; exit 1 on a failure.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli.options import EXIT_FAILED, EXIT_OK, Subcommands, seed_value
from sim.errors import ScenarioError
from sim.version import __version__

if TYPE_CHECKING:
    from sim.theory.verdicts import CheckResult


def add_parser(sub: Subcommands) -> None:
    """The ``check`` subparser."""
    p = sub.add_parser(
        "check",
        help="run the theory suite: simulated results against closed-form values",
        description="Run stripped-down scenarios whose answers are known in closed form "
        "(Poisson captures, deaths in captivity, Little's law, time-dependent concession, "
        "Rubinstein bargaining, war of attrition) and print, for each check, the formula, the "
        "expected value, the simulated value with its 95% interval (or its exact value), the "
        "tolerance and why, and PASS or FAIL. Exit 0 if every check passes, 1 otherwise.",
    )
    p.add_argument(
        "--quick", action="store_true", help="fewer replications (about 10 s instead of 35 s)"
    )
    p.add_argument(
        "--json", metavar="FILE", default=None, help="also write the results to FILE as JSON"
    )
    p.add_argument(
        "--seed", type=seed_value, default=None, help="random seed (default 2025; runs are seeded)"
    )
    p.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="CHECK",
        help="run only this group (repeatable): poisson, held, little, concession, "
        "rubinstein, attrition",
    )


def cmd(args: argparse.Namespace) -> int:
    """Run the checks, print each verdict and the summary; exit 1 if any check fails."""
    import time

    from sim.theory.suite import CHECKS, DEFAULT_SEED, run_checks
    from sim.theory.verdicts import format_result, summary_line

    names = {c.name for c in CHECKS}
    unknown = sorted(set(args.only or ()) - names)
    if unknown:
        raise ScenarioError(
            f"--only: unknown check {', '.join(unknown)}; expected one of "
            f"{', '.join(c.name for c in CHECKS)}"
        )
    seed = DEFAULT_SEED if args.seed is None else args.seed
    mode = "quick" if args.quick else "full"
    print(f"pxsim check ({mode}, seed {seed}): simulated results against closed-form theory\n")
    t0 = time.perf_counter()
    results = run_checks(
        quick=args.quick,
        seed=seed,
        only=args.only,
        progress=lambda r: print(format_result(r) + "\n", flush=True),
    )
    seconds = time.perf_counter() - t0
    print(summary_line(results, seconds))
    if args.json:
        _write_json(Path(args.json), results, mode, seed, seconds)
        print(f"wrote {args.json}")
    return EXIT_OK if all(r.passed for r in results) else EXIT_FAILED


def _write_json(
    path: Path, results: list[CheckResult], mode: str, seed: int, seconds: float
) -> None:
    import json

    from sim.atomic import atomic_write_text

    doc = {
        "pxsim": __version__,
        "mode": mode,
        "seed": seed,
        "seconds": seconds,
        "passed": all(r.passed for r in results),
        "checks": [r.to_dict() for r in results],
    }
    atomic_write_text(path, json.dumps(doc, indent=2, allow_nan=False) + "\n")
