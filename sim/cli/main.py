"""The ``pxsim`` command line: run, sweep, compare, report, check, calibrate, forecast,
backtest, validate, trace, schema.

Owns ``build_parser`` (the top-level parser, with each command module adding its subparser)
and ``main``, which dispatches to the command and turns every user error (bad scenario, bad
override, bad option, unusable output directory or backend) into one message on stderr and exit
code 2, never a traceback; Ctrl-C exits 130. A failed command writes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Protocol

from sim.cli import (
    backtest,
    calibrate,
    check,
    compare,
    forecast,
    report,
    run,
    schema,
    sweep,
    trace,
    validate,
)
from sim.cli.options import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Parser, Subcommands
from sim.errors import OutputDirError, ScenarioError
from sim.experiments.backends import BackendError
from sim.version import __version__


class Command(Protocol):
    """A command module: it adds its subparser and runs the command."""

    def add_parser(self, sub: Subcommands) -> None: ...

    def cmd(self, args: argparse.Namespace) -> int: ...


# In the order `pxsim --help` lists them.
COMMANDS: dict[str, Command] = {
    "run": run,
    "sweep": sweep,
    "compare": compare,
    "report": report,
    "validate": validate,
    "trace": trace,
    "schema": schema,
    "check": check,
    "forecast": forecast,
    "calibrate": calibrate,
    "backtest": backtest,
}


def build_parser() -> argparse.ArgumentParser:
    """The ``pxsim`` parser: ``--version`` and one subparser per command."""
    parser = Parser(
        prog="pxsim",
        description="Prisoner-exchange negotiation simulator: run YAML scenarios many times "
        "and report what tends to happen.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `pxsim COMMAND --help` for each command's options. Scenario format: "
        "docs/scenario-format.md.",
    )
    parser.add_argument("--version", action="version", version=f"pxsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process arguments), run the command, return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return COMMANDS[args.command].cmd(args)
    except (ScenarioError, OutputDirError, BackendError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


def entry() -> None:
    """The console script and ``python -m sim``: run ``main`` and exit with its code.

    After Ctrl-C the process leaves at once (``os._exit``, once its output is flushed): the
    finished chunks are already on disk, and the threads of a worker pool stopped half-way by
    the signal must not hold the exit (an interrupted run once waited forever at interpreter
    exit, joining the pool's manager thread)."""
    code = main()
    if code == EXIT_INTERRUPTED:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
