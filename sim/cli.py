"""The ``pxsim`` command line: run, validate, trace, schema.

Every command turns a user error (bad scenario, bad override, bad option) into one message on
stderr and exit code 2, never a traceback, and writes nothing when it fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sim import __version__
from sim.errors import ScenarioError

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130

EPILOG_RUN = """\
examples:
  pxsim run scenarios/kursk_2025.yaml
  pxsim run scenarios/ua_ru_2022_2024.yaml -n 200 --seed 7 --out out/uaru
  pxsim run scenarios/kursk_2025.yaml --set parties.russia.acknowledges.dprk=true

outputs (with --out): runs.csv, parties.csv, timeseries.csv, summary.csv, manifest.json,
scenario.resolved.yaml. The same seed gives byte-identical files.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {v}")
    return v


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a seed >= 0, got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pxsim",
        description="Prisoner-exchange negotiation simulator: run YAML scenarios many times "
        "and report what tends to happen.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `pxsim COMMAND --help` for each command's options. Scenario format: "
        "docs/scenario-format.md.",
    )
    parser.add_argument("--version", action="version", version=f"pxsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def scenario_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="PATH=VALUE",
            help="change a scenario value before validation, e.g. "
            "parties.russia.reservation=0.4 (repeatable; list items by id)",
        )

    run = sub.add_parser(
        "run",
        help="run a scenario many times, print the outcome table, write outputs",
        description="Run replications of SCENARIO, print the mean and 95%% interval of the "
        "main outcomes, and (with --out) write the output files.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG_RUN,
    )
    run.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    run.add_argument(
        "-n",
        "--replications",
        type=_positive_int,
        default=None,
        help="number of replications (default: the scenario's `replications`)",
    )
    run.add_argument(
        "--seed", type=_seed, default=None, help="random seed (default: the scenario's `seed`)"
    )
    run.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="directory for runs.csv, parties.csv, timeseries.csv, summary.csv, "
        "manifest.json, scenario.resolved.yaml",
    )
    run.add_argument(
        "--all-metrics",
        action="store_true",
        help="print every outcome metric, not just the main ones",
    )
    scenario_opts(run)

    val = sub.add_parser(
        "validate",
        help="check scenario files and say what is wrong",
        description="Check each SCENARIO file; print OK or the problem (file, line, field, what "
        "was expected). Exit 0 if all are valid, 2 otherwise.",
    )
    val.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    scenario_opts(val)

    tr = sub.add_parser(
        "trace",
        help="tell the dated story of one run",
        description="Run one replication and print what happened, dated: captures, talks, "
        "offers relayed, deals agreed, collapsed or executed, deaths, timeline changes.",
    )
    tr.add_argument("scenario", metavar="SCENARIO")
    tr.add_argument(
        "--replication", "-r", type=_seed, default=0, help="which replication to tell (default 0)"
    )
    tr.add_argument("--seed", type=_seed, default=None, help="random seed (default: scenario)")
    tr.add_argument(
        "--no-captures",
        action="store_true",
        help="leave out capture incidents and deaths (only talks and deals)",
    )
    tr.add_argument("--limit", type=_positive_int, default=None, help="print at most N lines")
    scenario_opts(tr)

    sch = sub.add_parser(
        "schema",
        help="print the scenario format reference (Markdown)",
        description="Print the scenario format reference generated from the schema.",
    )
    sch.add_argument("--out", metavar="FILE", default=None, help="write to FILE instead")
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from sim.experiment import run_replications
    from sim.outputs import write_outputs
    from sim.results import MAIN_METRICS, format_table, runs_frame, summary_frame
    from sim.scenario import load_scenario
    from sim.simulation import OUTCOME_COLUMNS

    scn = load_scenario(args.scenario, args.overrides)
    if args.out is not None:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise ScenarioError(f"--out {args.out}: exists and is not a directory")
    batch = run_replications(scn, args.seed, args.replications)
    runs = runs_frame(batch)
    summary = summary_frame(runs)
    print(
        f"{scn.name}: {batch.replications} replications, seed {batch.seed}, "
        f"{scn.horizon:g} days from {scn.start_date.isoformat()}"
    )
    print(format_table(summary, OUTCOME_COLUMNS if args.all_metrics else MAIN_METRICS))
    if args.out is not None:
        write_outputs(args.out, batch, source=args.scenario, overrides=list(args.overrides))
        print(
            f"wrote {args.out}/ (runs.csv, parties.csv, timeseries.csv, summary.csv, "
            f"manifest.json, scenario.resolved.yaml)"
        )
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.scenario import load_scenario

    status = EXIT_OK
    for path in args.scenarios:
        try:
            scn = load_scenario(path, args.overrides)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = EXIT_USAGE
        else:
            print(
                f"{path}: OK ({scn.name}: {len(scn.parties)} parties, "
                f"{len(scn.capture_streams)} capture streams, "
                f"{len(scn.intermediaries)} intermediaries, {len(scn.timeline)} timeline "
                f"changes)"
            )
    return status


def _cmd_trace(args: argparse.Namespace) -> int:
    from sim.experiment import run_one
    from sim.scenario import load_scenario
    from sim.trace import format_story

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
    print(
        f"-- at the horizon: {o['repatriated']} repatriated, {o['resettled']} resettled, "
        f"{o['died']} died, {o['held_at_end']} still held; {o['deals']} deals, "
        f"{o['deals_collapsed']} collapsed, {o['negotiations']} talks"
    )
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from sim.reference import reference_markdown

    text = reference_markdown()
    if args.out:
        from sim.outputs import atomic_write

        atomic_write(Path(args.out), text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


COMMANDS = {"run": _cmd_run, "validate": _cmd_validate, "trace": _cmd_trace, "schema": _cmd_schema}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
