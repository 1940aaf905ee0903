"""``pxsim trace``: tell the dated story of one run.

Owns the trace subparser and the command that runs one replication with its events kept and
prints what happened, dated, then the outcome at the horizon.
"""

from __future__ import annotations

import argparse

from sim.cli.options import EXIT_OK, Subcommands, add_scenario_options, positive_int, seed_value


def add_parser(sub: Subcommands) -> None:
    """The ``trace`` subparser."""
    p = sub.add_parser(
        "trace",
        help="tell the dated story of one run",
        description="Run one replication and print what happened, dated: captures, talks, "
        "offers relayed, deals agreed, collapsed or executed, deaths, timeline changes.",
    )
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument(
        "--replication",
        "-r",
        type=seed_value,
        default=0,
        help="which replication to tell (default 0)",
    )
    p.add_argument("--seed", type=seed_value, default=None, help="random seed (default: scenario)")
    p.add_argument(
        "--no-captures",
        action="store_true",
        help="leave out capture incidents and deaths (only talks and deals)",
    )
    p.add_argument("--limit", type=positive_int, default=None, help="print at most N lines")
    add_scenario_options(p)


def cmd(args: argparse.Namespace) -> int:
    """Run the one replication and print its story and its outcome."""
    from sim.experiments.experiment import run_one
    from sim.results.trace import format_story
    from sim.scenario.loading import load_scenario

    scn = load_scenario(args.scenario, args.overrides)
    seed = scn.seed if args.seed is None else args.seed
    res = run_one(
        scn, seed, args.replication, keep_events=True, keep_prisoners=not args.no_captures
    )
    if args.no_captures:
        res.incidents = {}
    print(f"{scn.name}: replication {args.replication}, seed {seed}")
    print(format_story(scn, res, args.limit))
    o = res.outcomes
    custody = f", {o['in_custody_at_end']} in neutral custody" if o["handed_to_custody"] else ""
    remains = (
        f"; remains (counted apart): {o['remains_repatriated']} repatriated, "
        f"{o['remains_held_at_end']} held"
        if o["remains_initial"] + o["remains_added"]
        else ""
    )
    print(
        f"-- at the horizon: {o['repatriated']} repatriated, {o['resettled']} resettled, "
        f"{o['died']} died, {o['held_at_end']} still held{custody}; {o['deals']} deals, "
        f"{o['deals_collapsed']} collapsed, {o['negotiations']} talks{remains}"
    )
    return EXIT_OK
