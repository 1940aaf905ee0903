"""``pxsim schema``: print the scenario format reference (Markdown) generated from the schema.

Owns the schema subparser and the command that prints the reference or writes it to --out.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.options import EXIT_OK, Subcommands


def add_parser(sub: Subcommands) -> None:
    """The ``schema`` subparser."""
    p = sub.add_parser(
        "schema",
        help="print the scenario format reference (Markdown)",
        description="Print the scenario format reference generated from the schema.",
    )
    p.add_argument("--out", metavar="FILE", default=None, help="write to FILE instead")


def cmd(args: argparse.Namespace) -> int:
    """Print the reference, or write it atomically to --out."""
    from sim.scenario.reference import reference_markdown

    text = reference_markdown()
    if args.out:
        from sim.atomic import atomic_write_text

        atomic_write_text(Path(args.out), text)
    else:
        sys.stdout.write(text)
    return EXIT_OK
