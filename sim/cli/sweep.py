"""``pxsim sweep``: run a scenario over a design of parameter values; sensitivity indices.

Owns the sweep subparser (``--param``, ``--design``, ``--points``) and the command that prints
each point's main outcomes, the Sobol' or Morris indices, and the work done.
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
    from sim.experiments.sweep import SweepReport

EPILOG = """\
parameters (one --param per swept parameter; the same dotted paths as --set):
  PATH=LOW:HIGH[:STEPS]   a numeric range (STEPS: grid values, default 5)
  PATH=a,b,c              a list of values (grid and lhs only)
  Whole-number fields (negotiation.max_rounds, intermediaries.X.capacity) take whole numbers.

designs (--points K):
  grid     every combination (K unused)
  lhs      K Latin hypercube points (default design)
  sobol    K base samples, K*(2D+2) points for D parameters; writes Sobol' indices
  morris   K trajectories, K*(D+1) points; writes Morris elementary-effect indices

Every point runs replications 0..n-1 at the same seed (common random numbers), so points
differ only by their parameters, not by their random draws.

examples:
  pxsim sweep scenarios/minimal.yaml --param negotiation.collapse=0:0.5:6 --design grid \\
      -n 50 --out out/collapse
  pxsim sweep scenarios/kursk_2025.yaml --param intermediaries.uae.delay.mean=2:30 \\
      --param parties.russia.reservation=0.2:0.8 --design lhs --points 32 --out out/lhs
  pxsim sweep scenarios/minimal.yaml --param negotiation.collapse=0:0.5 \\
      --param capture_streams.blue_takes_red.rate=0.1:2 --design sobol --points 16 \\
      -n 20 --out out/sobol

outputs: sweep.csv (point x replication), points.csv (per point: mean and 95% CI of the
main outcomes), indices.csv (sobol, morris), sweep.json (manifest), scenario.resolved.yaml.
sobol and morris need SALib: pip install 'pxsim[sensitivity]'.
"""


def add_parser(sub: Subcommands) -> None:
    """The ``sweep`` subparser."""
    p = sub.add_parser(
        "sweep",
        help="run a scenario over a design of parameter values; sensitivity indices",
        description="Run SCENARIO at every point of a design over the --param values, with "
        "common random numbers, print each point's main outcomes (and, for sobol and morris, "
        "the sensitivity indices), and write the files to --out.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    _add_design_options(p)
    p.add_argument(
        "-n",
        "--replications",
        type=positive_int,
        default=100,
        help="replications per point (default 100)",
    )
    p.add_argument(
        "--seed", type=seed_value, default=None, help="random seed (default: the scenario's `seed`)"
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        required=True,
        help="directory for sweep.csv, points.csv, indices.csv, sweep.json",
    )
    p.add_argument("--report", action="store_true", help="also write report.html into --out")
    add_scale_options(p)
    add_scenario_options(p)


def _add_design_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--param",
        dest="params",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH[:STEPS]",
        help="a swept parameter: a range PATH=LOW:HIGH[:STEPS] or values PATH=a,b,c "
        "(repeatable; at least one)",
    )
    p.add_argument(
        "--design",
        choices=("grid", "lhs", "sobol", "morris"),
        default="lhs",
        help="how points are chosen (default lhs)",
    )
    p.add_argument(
        "--points",
        type=positive_int,
        default=16,
        metavar="K",
        help="lhs points, sobol base samples or morris trajectories (default 16; grid: unused)",
    )


def cmd(args: argparse.Namespace) -> int:
    """Plan the design, run every point, print the points, indices and what was done."""
    from sim.experiments.sweep import format_points, plan_sweep, run_sweep

    plan = plan_sweep(
        args.scenario,
        args.params,
        design=args.design,
        points=args.points,
        seed=args.seed,
        overrides=args.overrides,
    )
    des = plan.design
    with resume_hint(args.out, "chunks"):
        report = run_sweep(
            plan,
            args.out,
            replications=args.replications,
            execution=execution_of(args),
        )
    print(
        f"{plan.base.name}: {des.name} sweep of {len(des.specs)} parameter(s), "
        f"{des.points} points x {report.replications} replications, seed {plan.seed} "
        "(common random numbers)"
    )
    print(format_points(report.summary, des.paths))
    if report.indices is not None:
        _print_indices(report, des.name)
    print_work_done(report)
    files = "sweep.csv, points.csv" + (", indices.csv" if report.indices is not None else "")
    print(f"wrote {args.out}/ ({files}, sweep.json; Parquet in runs/)")
    if args.report:
        print_report_written(args.out)
    return EXIT_OK


def _print_indices(report: SweepReport, design: str) -> None:
    from sim.experiments.sweep import format_indices
    from sim.results.summary import MAIN_METRICS

    assert report.indices is not None
    label = "Sobol' indices" if design == "sobol" else "Morris indices"
    print(f"\n{label} of the per-point means (main outcomes; all in indices.csv):")
    print(format_indices(report.indices, design, MAIN_METRICS))
    skipped = [m for m in MAIN_METRICS if m in report.skipped]
    if skipped:
        print("no indices for: " + "; ".join(f"{m} ({report.skipped[m]})" for m in skipped))
