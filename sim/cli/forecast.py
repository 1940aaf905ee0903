"""``pxsim forecast``: run a (calibrated) scenario forward and count deals and returns per period.

Owns the forecast subparser (``--until``, ``--period``, ``--calibration``) and the command that
prints the per-period table and writes ``forecast.csv`` and ``forecast_summary.csv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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
from sim.errors import OutputDirError, ScenarioError

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
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--calibration",
        metavar="DIR",
        default=None,
        help="draw the fitted parameters from this calibration's posterior",
    )
    how.add_argument(
        "--observed",
        metavar="FILE",
        default=None,
        help="condition on this observed record: every run weighed by how well its history "
        "before the origin matches it (the method of `pxsim backtest`); needs --fit or "
        "--fit-from",
    )
    g = p.add_argument_group("conditioned forecast (--observed)")
    g.add_argument(
        "--fit",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH",
        help="a parameter drawn over this range and weighed (repeatable)",
    )
    g.add_argument(
        "--fit-from",
        metavar="DIR",
        default=None,
        help="the ranges and targets of this `pxsim calibrate` output",
    )
    g.add_argument(
        "--origin",
        type=date,
        default=None,
        metavar="DATE",
        help="forecast origin (default: the day after the last observation)",
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
    if args.observed is not None:
        return _conditioned(args, periods)
    if args.fit or args.fit_from or args.origin:
        raise ScenarioError("goes with --observed (a conditioned forecast)", source="--fit")
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


def _conditioned(args: argparse.Namespace, periods: list[Any]) -> int:
    """``--observed``: the forecast conditioned on the record (``sim.fit.conditioned``)."""
    import tempfile

    from sim.atomic import atomic_write_text
    from sim.experiments.store import csv_text
    from sim.fit.conditioned import conditioned_forecast
    from sim.fit.forecast import format_forecast

    if args.overrides:
        raise ScenarioError(
            "does not go with --observed (edit the scenario instead)", source="--set"
        )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.out) if args.out is not None else Path(tmp)
        res = conditioned_forecast(
            args.scenario,
            periods=periods,
            observed=args.observed,
            fit=args.fit,
            fit_from=args.fit_from,
            origin=args.origin,
            points=max(1, -(-args.replications // 2)),
            replications=2,
            seed=1 if args.seed is None else args.seed,
            workdir=work,
            execution=execution_of(args),
        )
    print(format_forecast(res, len(res.runs)))
    if args.out is not None:
        out = Path(args.out)
        atomic_write_text(out / "forecast.csv", csv_text(res.runs))
        atomic_write_text(out / "forecast_summary.csv", csv_text(res.summary))
        print(f"wrote {out}/ (forecast.csv, forecast_summary.csv, scenario_at_origin.yaml)")
    return EXIT_OK
