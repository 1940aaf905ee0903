"""``pxsim forecast``: run a (calibrated) scenario forward and count deals and returns per period.

Owns the forecast subparser (``--until``, ``--period``, ``--calibration``) and the command that
prints the per-period table and writes ``forecast.csv`` and ``forecast_summary.csv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.options import (
    EXIT_OK,
    Subcommands,
    add_scale_options,
    add_scenario_options,
    date,
    execution_of,
    positive_int,
    seed_value,
)
from sim.errors import OutputDirError

EPILOG = (
    "example:\n  pxsim forecast scenarios/ua_ru_2022_2024.yaml --until 2025-12-31 \\\n"
    "      --period 2025=2025-01-01:2025-12-31 \\\n"
    "      --calibration docs/calibration/ua_ru_2022_2024\n"
)


def add_parser(sub: Subcommands) -> None:
    """The ``forecast`` subparser."""
    p = sub.add_parser(
        "forecast",
        help="run a (calibrated) scenario forward and count deals and people returned per period",
        description="Move SCENARIO's horizon to --until, run it -n times and print, for each "
        "--period, the deals executed and the people returned to each party: mean, median and "
        "90% interval over runs. With --calibration (an output directory of `pxsim calibrate`) "
        "every run draws its fitted parameters from the posterior, so the interval includes "
        "parameter uncertainty.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    p.add_argument("--until", required=True, type=date, metavar="DATE", help="new horizon")
    p.add_argument(
        "--period",
        dest="periods",
        action="append",
        required=True,
        metavar="LABEL=FIRST:LAST",
        help="a counting period, both days included (repeatable)",
    )
    p.add_argument(
        "--calibration",
        metavar="DIR",
        default=None,
        help="draw the fitted parameters from this calibration's posterior",
    )
    p.add_argument(
        "-n", "--replications", type=positive_int, default=1000, help="runs (default 1000)"
    )
    p.add_argument(
        "--seed", type=seed_value, default=None, help="random seed (default: the scenario's `seed`)"
    )
    p.add_argument(
        "--out", metavar="DIR", default=None, help="write forecast.csv and forecast_summary.csv"
    )
    add_scale_options(p, chunks=False, resumable=False)
    add_scenario_options(p)


def cmd(args: argparse.Namespace) -> int:
    """Run the scenario forward, print the periods' counts; with --out, write the CSV files."""
    from sim.atomic import atomic_write_text
    from sim.experiments.store import csv_text
    from sim.fit.forecast import forecast, format_forecast
    from sim.fit.periods import parse_period

    periods = [parse_period(p) for p in args.periods]
    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        raise OutputDirError(f"{args.out}: exists and is not a directory")
    res = forecast(
        args.scenario,
        until=args.until,
        periods=periods,
        calibration=args.calibration,
        n=args.replications,
        seed=args.seed,
        overrides=args.overrides,
        execution=execution_of(args),
    )
    print(format_forecast(res, args.replications))
    if args.out is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "forecast.csv", csv_text(res.runs))
        atomic_write_text(out / "forecast_summary.csv", csv_text(res.summary))
        print(f"wrote {out}/ (forecast.csv, forecast_summary.csv)")
    return EXIT_OK
