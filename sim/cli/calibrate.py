"""``pxsim calibrate``: fit scenario parameters to an observed exchange history (ABC).

Owns the calibrate subparser (``--observed``, ``--fit``, ``--target`` and the ABC settings) and
the command that plans the fit, runs it through ``sim.api.calibrate_and_draw`` and prints the
report.
"""

from __future__ import annotations

import argparse

from sim.cli.options import (
    EXIT_OK,
    Subcommands,
    add_scale_options,
    add_scenario_options,
    execution_of,
    positive_int,
    print_report_written,
    resume_hint,
    seed_value,
)

EPILOG = """\
fitted parameters (one --fit each; the same dotted paths as --set; timeline changes by date):
  PATH=LOW:HIGH   uniform prior over [LOW, HIGH]; whole-number fields take whole numbers

targets (in the --observed file): cumulative_returned and cumulative_deals by date, sizes and
gaps (quantiles) in a date window. Each target weighs the same in the distance.

examples:
  pxsim calibrate scenarios/ua_ru_2022_2024.yaml --observed seeds/observed_ua_ru_2022_2024.yaml \\
      --fit parties.ukraine.initiative.mean=2:12 \\
      --fit timeline.2024-01-01.set.parties.ukraine.initiative.mean=15:60 \\
      --target returned deals --out out/calibration

outputs: fitted.yaml (the scenario with the fitted values, comments kept), fit.csv, posterior.csv,
targets.csv, fit.png/fit.svg, calibration.json. Interrupted? The same command with --resume.
"""


def add_parser(sub: Subcommands) -> None:
    """The ``calibrate`` subparser."""
    p = sub.add_parser(
        "calibrate",
        help="fit scenario parameters to an observed exchange history (ABC)",
        description="Fit the --fit parameters of SCENARIO so that its simulated exchange "
        "history matches the targets of --observed, by approximate Bayesian computation: "
        "--points prior draws (Latin hypercube over the --fit ranges, uniform priors), each run "
        "--replications times with common random numbers, weighted by how close their target "
        "statistics come to the observed ones. Writes the fitted scenario, the posterior, a "
        "per-statistic comparison and a figure to --out; resumes with --resume.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    _add_fit_options(p)
    _add_abc_options(p)
    _add_result_options(p)
    p.add_argument(
        "--seed", type=seed_value, default=None, help="random seed (default: the scenario's `seed`)"
    )
    p.add_argument("--out", metavar="DIR", required=True, help="output directory")
    p.add_argument("--report", action="store_true", help="also write report.html into --out")
    add_scale_options(p, chunks=False)
    add_scenario_options(p)


def _add_fit_options(p: argparse.ArgumentParser) -> None:
    """What is fitted to what: the observations, the fitted parameters, the targets used."""
    p.add_argument(
        "--observed",
        required=True,
        metavar="FILE",
        help="observations YAML file (targets; see docs/calibration.md)",
    )
    p.add_argument(
        "--fit",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH",
        help="a fitted parameter and its uniform prior range (repeatable; at least one)",
    )
    p.add_argument(
        "--target",
        dest="targets",
        action="extend",
        nargs="+",
        default=[],
        metavar="ID",
        help="targets of --observed used in the fit (default: all; the others are still "
        "compared in targets.csv and the figure)",
    )


def _add_abc_options(p: argparse.ArgumentParser) -> None:
    """How the fit searches: points, replications, acceptance, rounds, matching."""
    p.add_argument(
        "--points",
        type=positive_int,
        default=400,
        metavar="P",
        help="prior draws (default 400)",
    )
    p.add_argument(
        "-n",
        "--replications",
        type=positive_int,
        default=8,
        help="replications per prior draw (default 8)",
    )
    p.add_argument(
        "--accept",
        type=float,
        default=0.05,
        metavar="SHARE",
        help="share of all simulations within the tolerance (default 0.05)",
    )
    p.add_argument(
        "--rounds",
        type=positive_int,
        default=1,
        metavar="R",
        help="ABC rounds: 1 = rejection ABC over the prior (default); more = ABC-PMC, each "
        "round drawing --points new points near the previous round's posterior",
    )
    p.add_argument(
        "--match",
        choices=("runs", "mean"),
        default="runs",
        help="runs: every replication is compared with the record (ABC proper; default); "
        "mean: the mean of a point's replications is (finds parameters whose typical run "
        "follows the record)",
    )


def _add_result_options(p: argparse.ArgumentParser) -> None:
    """What comes out: predictions, the fitted value's estimate, the check runs."""
    p.add_argument(
        "--predict",
        action="append",
        default=[],
        metavar="LABEL=FIRST:LAST",
        help="also predict deals and people returned in this period (repeatable; within the "
        "horizon: extend it with --set horizon=DATE), weighting each run by how closely its "
        "history matched the record",
    )
    p.add_argument(
        "--estimate",
        choices=("median", "mean", "best"),
        default="median",
        help="fitted value of each parameter: posterior median (default), mean, or the point "
        "with the highest weight",
    )
    p.add_argument(
        "--check-replications",
        type=positive_int,
        default=200,
        metavar="N",
        help="runs of the fitted scenario for the bands (default 200)",
    )


def cmd(args: argparse.Namespace) -> int:
    """Plan the calibration, run it, print the report and the files written."""
    from sim.api import calibrate_and_draw
    from sim.fit.calibration import format_report
    from sim.fit.plan import plan_calibration

    plan = plan_calibration(
        args.scenario,
        args.observed,
        args.fit,
        targets=args.targets,
        points=args.points,
        replications=args.replications,
        seed=args.seed,
        overrides=args.overrides,
        accept=args.accept,
        estimate=args.estimate,
        check_replications=args.check_replications,
        rounds=args.rounds,
        match=args.match,
        predict=args.predict,
    )
    with resume_hint(args.out, "simulations"):
        report = calibrate_and_draw(plan, args.out, execution=execution_of(args))
    print(format_report(report))
    print(
        f"wrote {args.out}/ (fitted.yaml, fit.csv, posterior.csv, targets.csv, "
        + ("prediction.csv, " if args.predict else "")
        + "fit.png, fit.svg, calibration.json)"
    )
    if args.report:
        print_report_written(args.out)
    return EXIT_OK
