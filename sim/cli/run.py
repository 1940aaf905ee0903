"""``pxsim run``: run a scenario many times, print the outcome table, write the output files.

Owns the run subparser (with ``--until-precision METRIC=HALFWIDTH`` and its argument type) and
the command that prints the table, the precision reached and the work done.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sim.cli.options import (
    EXIT_OK,
    Subcommands,
    add_scale_options,
    add_scenario_options,
    execution_of,
    positive_int,
    print_report_written,
    print_work_done,
    resume_hint,
    seed_value,
)

if TYPE_CHECKING:
    from sim.experiments.runner import RunReport
    from sim.scenario.schema import Scenario

EPILOG = """\
examples:
  pxsim run scenarios/kursk_2025.yaml
  pxsim run scenarios/ua_ru_2022_2024.yaml -n 200 --seed 7 --out out/uaru
  pxsim run scenarios/kursk_2025.yaml --set parties.russia.acknowledges.dprk=true

outputs (with --out): runs.csv, parties.csv, timeseries.csv, summary.csv, manifest.json,
scenario.resolved.yaml. The same seed gives byte-identical files.
"""


def add_parser(sub: Subcommands) -> None:
    """The ``run`` subparser."""
    p = sub.add_parser(
        "run",
        help="run a scenario many times, print the outcome table, write outputs",
        description="Run replications of SCENARIO, print the mean and 95%% interval of the "
        "main outcomes, and (with --out) write the output files.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    p.add_argument(
        "-n",
        "--replications",
        type=positive_int,
        default=None,
        help="number of replications (default: the scenario's `replications`)",
    )
    p.add_argument(
        "--seed", type=seed_value, default=None, help="random seed (default: the scenario's `seed`)"
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="directory for runs.csv, parties.csv, timeseries.csv, summary.csv, "
        "manifest.json, scenario.resolved.yaml",
    )
    p.add_argument(
        "--report",
        action="store_true",
        help="also write report.html into --out (see `pxsim report`)",
    )
    p.add_argument(
        "--all-metrics",
        action="store_true",
        help="print every outcome metric, not just the main ones",
    )
    add_scale_options(p)
    _add_precision_options(p)
    add_scenario_options(p)


def _add_precision_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--until-precision",
        type=precision,
        default=None,
        metavar="METRIC=HALFWIDTH",
        help="keep adding replications until the 95%% interval of METRIC's mean is at most "
        "this half-width (e.g. repatriated=50); -n is the first batch",
    )
    p.add_argument(
        "--max-replications",
        type=positive_int,
        default=100_000,
        help="upper limit for --until-precision (default 100000)",
    )


def precision(text: str) -> tuple[str, float]:
    """``METRIC=HALFWIDTH``: an outcome metric and a half-width > 0."""
    from sim.model.records import OUTCOME_COLUMNS

    if "=" not in text:
        raise argparse.ArgumentTypeError(
            f"expected METRIC=HALFWIDTH, e.g. repatriated=50, got {text!r}"
        )
    metric, value = text.split("=", 1)
    if metric not in OUTCOME_COLUMNS:
        raise argparse.ArgumentTypeError(
            f"unknown metric {metric!r}; expected one of {', '.join(OUTCOME_COLUMNS)}"
        )
    try:
        hw = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number after '=', got {value!r}") from None
    if not hw > 0:
        raise argparse.ArgumentTypeError(f"expected a half-width > 0, got {value}")
    return metric, hw


def cmd(args: argparse.Namespace) -> int:
    """Run, print the outcome table and what was done; with --out, the files are kept."""
    import tempfile

    from sim.experiments.runner import Precision, run_to_dir
    from sim.scenario.loading import load_scenario

    scn = load_scenario(args.scenario, args.overrides)
    until = Precision(*args.until_precision) if args.until_precision else None
    with tempfile.TemporaryDirectory(prefix="pxsim-") as scratch:
        out = args.out if args.out is not None else scratch
        with resume_hint(args.out, "chunks"):
            report = run_to_dir(
                scn,
                out,
                seed=args.seed,
                replications=args.replications,
                execution=execution_of(args),
                until=until,
                max_replications=args.max_replications,
                source=args.scenario,
                overrides=list(args.overrides),
            )
    _print_outcomes(args, scn, report)
    print_work_done(report)
    if args.out is not None:
        print(
            f"wrote {args.out}/ (runs.csv, parties.csv, timeseries.csv, summary.csv, "
            "manifest.json, scenario.resolved.yaml; Parquet in runs/ and parties/)"
        )
        if args.report:
            print_report_written(args.out)
    return EXIT_OK


def _print_outcomes(args: argparse.Namespace, scn: Scenario, report: RunReport) -> None:
    from sim.model.records import OUTCOME_COLUMNS
    from sim.results.summary import MAIN_METRICS, format_table

    seed = scn.seed if args.seed is None else args.seed
    print(
        f"{scn.name}: {report.replications} replications, seed {seed}, "
        f"{scn.horizon:g} days from {scn.start_date.isoformat()}"
    )
    print(format_table(report.summary, OUTCOME_COLUMNS if args.all_metrics else MAIN_METRICS))
    if report.precision is not None:
        p = report.precision
        verdict = "reached" if p["reached"] else "NOT reached (maximum replications)"
        print(
            f"precision: {p['metric']} 95% interval half-width {p['halfwidth']:.4g} "
            f"(target {p['target_halfwidth']:g}) {verdict} after {p['replications']} "
            f"replications"
        )
