"""``pxsim compare``: run scenarios or variants with common random numbers and compare them.

Owns the compare subparser (``--variant NAME PATH=VALUE ...``), the reading of the variants,
and the command that runs the arms through ``sim.api.compare_and_draw`` and prints the paired
differences.
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
    seed_value,
)
from sim.errors import ScenarioError

EPILOG = """examples:
  pxsim compare scenarios/kursk_2025.yaml -n 500 --out out/ack \
      --variant acknowledged parties.russia.acknowledges.dprk=true
  pxsim compare scenarios/kursk_2025.yaml --out out/slow \
      --variant "slow mediator" intermediaries.uae.delay.mean=30
  pxsim compare a.yaml b.yaml c.yaml -n 200 --out out/abc --report
"""


def add_parser(sub: Subcommands) -> None:
    """The ``compare`` subparser."""
    p = sub.add_parser(
        "compare",
        help="run scenarios or variants with common random numbers and compare them",
        description="Run each SCENARIO (and each --variant of the first one) with the same seed "
        "and replications, so they share random numbers; report every metric's difference "
        "against the first with a paired 95%% interval, say which differences are clear, and "
        "write comparison.csv, comparison.png/.svg and each arm's full outputs under arms/.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    p.add_argument(
        "scenarios", nargs="+", metavar="SCENARIO", help="scenario files; the first is the baseline"
    )
    p.add_argument(
        "--variant",
        nargs="+",
        action="append",
        default=[],
        metavar="NAME_OR_CHANGE",
        help="a variant of the first scenario: a name, then PATH=VALUE changes "
        '(e.g. --variant "slow mediator" intermediaries.uae.delay.mean=30)',
    )
    p.add_argument(
        "-n",
        "--replications",
        type=positive_int,
        default=None,
        help="replications per arm (default: the first scenario's)",
    )
    p.add_argument("--seed", type=seed_value, default=None, help="random seed (default: scenario)")
    p.add_argument(
        "--out",
        metavar="DIR",
        required=True,
        help="directory for comparison.csv/.json/.png/.svg and arms/",
    )
    p.add_argument("--report", action="store_true", help="also write report.html")
    add_scale_options(p)
    add_scenario_options(p)


def variants_of(specs: list[list[str]]) -> list[tuple[str, list[str]]]:
    """Each ``--variant NAME PATH=VALUE ...`` as (name, changes); a ``ScenarioError`` if not."""
    variants = []
    for spec in specs:
        name, *changes = spec
        if "=" in name or not changes:
            raise ScenarioError(
                f"--variant {' '.join(spec)}: expected a name and then PATH=VALUE changes, e.g. "
                '--variant "slow mediator" intermediaries.uae.delay.mean=30'
            )
        for change in changes:
            if "=" not in change:
                raise ScenarioError(f"--variant {name}: expected PATH=VALUE, got {change!r}")
        variants.append((name, changes))
    return variants


def cmd(args: argparse.Namespace) -> int:
    """Run every arm with the same seed, print the differences and which are clear."""
    from sim.api import compare_and_draw
    from sim.experiments.comparison import format_comparison, make_arms

    variants = variants_of(args.variant)
    try:
        arms = make_arms(args.scenarios, variants, args.overrides)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    result = compare_and_draw(
        arms,
        args.replications,
        args.seed,
        args.out,
        execution=execution_of(args),
    )
    n = args.replications or arms[0].scenario.replications
    print(
        f"comparison of {len(arms)} arms against {arms[0].label!r}, {n} replications each, "
        "common random numbers"
    )
    print(format_comparison(result.table))
    clear = result.table[result.table["clear"]]
    print(
        f"{len(clear)} of {len(result.table)} differences are clear (paired 95% interval "
        "excludes zero)"
    )
    print(
        f"wrote {args.out}/ (comparison.csv, comparison.json; figures comparison, "
        "arms_over_time, arms_survival, arms_outcomes as .png and .svg; arms/)"
    )
    if args.report:
        print_report_written(args.out)
    return EXIT_OK
