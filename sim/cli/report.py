"""``pxsim report``: write a self-contained HTML report of a run, comparison or sweep directory.

Owns the report subparser and the command that writes ``DIR/report.html``.
"""

from __future__ import annotations

import argparse

from sim.cli.options import EXIT_OK, Subcommands
from sim.errors import ScenarioError


def add_parser(sub: Subcommands) -> None:
    """The ``report`` subparser."""
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a run, comparison or sweep directory",
        description="Write DIR/report.html: the scenario in brief, the outcome table, every "
        "figure embedded, and the provenance. Works on the output of run, compare and sweep.",
    )
    p.add_argument("directory", metavar="DIR")


def cmd(args: argparse.Namespace) -> int:
    """Write the report; a directory that is not an output directory is a user error."""
    from sim.present.report import write_report

    try:
        path = write_report(args.directory)
    except FileNotFoundError as exc:
        raise ScenarioError(str(exc)) from None
    print(f"wrote {path}")
    return EXIT_OK
