"""What every ``pxsim`` command shares: the parser, argument types, option groups, execution.

Owns the exit codes; the ``Parser`` whose usage errors are one line on stderr and exit 2; the
argument types (whole numbers, seeds, dates); the shared option groups (scale and safety:
``--workers --chunk-size --backend --scheduler --resume --force --progress --quiet``; the
scenario's ``--set``); ``execution_of``, which turns the scale options into the one frozen
``Execution``; the Ctrl-C resume hint; and the closing lines several commands print (work done,
report written). Nothing heavy is imported here, so ``pxsim --help`` stays fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeAlias

from sim.experiments.options import Execution
from sim.text import work_line

if TYPE_CHECKING:
    from sim.experiments.runner import RunReport
    from sim.experiments.sweep import SweepReport

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are the usage, one ``error:`` line, and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


# What each command module's ``add_parser`` adds its subparser to.
Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"


def positive_int(text: str) -> int:
    """A whole number >= 1 (replications, workers, points, ...)."""
    v = _whole(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {v}")
    return v


def seed_value(text: str) -> int:
    """A random seed or replication index: a whole number >= 0."""
    v = _whole(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a seed >= 0, got {v}")
    return v


def date(text: str) -> dt.date:
    """A date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def add_scale_options(
    p: argparse.ArgumentParser, chunks: bool = True, resumable: bool = True
) -> None:
    """The "scale and safety" group; ``chunks``/``resumable`` add --chunk-size, --resume/--force."""
    g = p.add_argument_group("scale and safety")
    g.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="worker processes (default: all cores; 1 = serial in this process)",
    )
    if chunks:
        g.add_argument(
            "--chunk-size",
            type=positive_int,
            default=None,
            help="replications per work unit (default: about 1/32 of the run, "
            "at most 500); results do not depend on it",
        )
    _add_backend_options(g)
    if resumable:
        g.add_argument(
            "--resume",
            action="store_true",
            help="continue an interrupted run in --out from its finished chunks",
        )
        g.add_argument(
            "--force", action="store_true", help="replace a different run already in --out"
        )
    g.add_argument(
        "--progress",
        action="store_true",
        help="show a progress bar even when stderr is not a terminal",
    )
    g.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_backend_options(g: argparse._ArgumentGroup) -> None:
    g.add_argument(
        "--backend",
        choices=("local", "serial", "dask"),
        default="local",
        help="local process pool (default), serial, or Dask distributed",
    )
    g.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="Dask scheduler address (tcp://host:8786); without it --backend "
        "dask starts a local cluster",
    )


def add_scenario_options(p: argparse.ArgumentParser) -> None:
    """``--set PATH=VALUE`` (repeatable): change the scenario before it is validated."""
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="change a scenario value before validation, e.g. "
        "parties.russia.reservation=0.4 (repeatable; list items by id)",
    )


def execution_of(args: argparse.Namespace) -> Execution:
    """The one ``Execution`` of a command's scale options (absent options take defaults)."""
    return Execution(
        workers=args.workers,
        chunk_size=getattr(args, "chunk_size", None),
        backend=args.backend,
        scheduler=args.scheduler,
        resume=getattr(args, "resume", False),
        force=getattr(args, "force", False),
        progress=show_progress(args),
    )


def show_progress(args: argparse.Namespace) -> bool:
    """--quiet wins, then --progress; otherwise a bar only when stderr is a terminal."""
    if args.quiet:
        return False
    if args.progress:
        return True
    return sys.stderr.isatty()


@contextmanager
def resume_hint(out: str | None, what: str) -> Iterator[None]:
    """On Ctrl-C, say where the finished work is and how to continue it."""
    try:
        yield
    except KeyboardInterrupt:
        if out is not None:
            print(
                f"interrupted: finished {what} are kept in {out}/; run the same command with "
                "--resume to continue",
                file=sys.stderr,
            )
        raise


def print_work_done(report: RunReport | SweepReport) -> None:
    """The closing lines of a run or sweep: chunks run and reused, backend, time, notes."""
    done = work_line(
        report.chunks_run, report.chunks_reused, "chunk", report.backend, report.workers
    )
    print(f"{done} in {report.seconds:.1f} s")
    for note in report.notes:
        print(f"note: {note}")


def print_report_written(out: str) -> None:
    """Write ``out/report.html`` (``--report``) and say so."""
    from sim.present.report import write_report

    print(f"wrote {write_report(out)}")
