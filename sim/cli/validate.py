"""``pxsim validate``: check scenario files and say what is wrong.

Owns the validate subparser and the command that prints OK (with the scenario's size) or the
problem for each file, and exits 2 if any is invalid.
"""

from __future__ import annotations

import argparse
import sys

from sim.cli.options import EXIT_OK, EXIT_USAGE, Subcommands, add_scenario_options
from sim.errors import ScenarioError


def add_parser(sub: Subcommands) -> None:
    """The ``validate`` subparser."""
    p = sub.add_parser(
        "validate",
        help="check scenario files and say what is wrong",
        description="Check each SCENARIO file; print OK or the problem (file, line, field, what "
        "was expected). Exit 0 if all are valid, 2 otherwise.",
    )
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    add_scenario_options(p)


def cmd(args: argparse.Namespace) -> int:
    """Load every file (with the --set changes); one line each, OK or the error."""
    from sim.scenario.loading import load_scenario

    status = EXIT_OK
    for path in args.scenarios:
        try:
            scn = load_scenario(path, args.overrides)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = EXIT_USAGE
        else:
            print(
                f"{path}: OK ({scn.name}: {len(scn.parties)} parties, "
                f"{len(scn.capture_streams)} capture streams, "
                f"{len(scn.intermediaries)} intermediaries, {len(scn.timeline)} timeline "
                f"changes)"
            )
    return status
