"""The ``pxsim`` command line: run, sweep, compare, report, check, calibrate, forecast,
validate, trace, schema.

Every command turns a user error (bad scenario, bad override, bad option) into one message on
stderr and exit code 2, never a traceback, and writes nothing when it fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sim.errors import OutputDirError, ScenarioError
from sim.experiments.backends import BackendError
from sim.version import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

EPILOG_RUN = """\
examples:
  pxsim run scenarios/kursk_2025.yaml
  pxsim run scenarios/ua_ru_2022_2024.yaml -n 200 --seed 7 --out out/uaru
  pxsim run scenarios/kursk_2025.yaml --set parties.russia.acknowledges.dprk=true

outputs (with --out): runs.csv, parties.csv, timeseries.csv, summary.csv, manifest.json,
scenario.resolved.yaml. The same seed gives byte-identical files.
"""

EPILOG_CALIBRATE = """\
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

EPILOG_SWEEP = """\
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


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


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

    def scale_opts(p: argparse.ArgumentParser, chunks: bool = True, resumable: bool = True) -> None:
        g = p.add_argument_group("scale and safety")
        g.add_argument(
            "--workers",
            type=_positive_int,
            default=None,
            help="worker processes (default: all cores; 1 = serial in this process)",
        )
        if chunks:
            g.add_argument(
                "--chunk-size",
                type=_positive_int,
                default=None,
                help="replications per work unit (default: about 1/32 of the run, "
                "at most 500); results do not depend on it",
            )
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
        "--report",
        action="store_true",
        help="also write report.html into --out (see `pxsim report`)",
    )
    run.add_argument(
        "--all-metrics",
        action="store_true",
        help="print every outcome metric, not just the main ones",
    )
    scale_opts(run)
    run.add_argument(
        "--until-precision",
        type=_precision,
        default=None,
        metavar="METRIC=HALFWIDTH",
        help="keep adding replications until the 95%% interval of METRIC's mean is at most "
        "this half-width (e.g. repatriated=50); -n is the first batch",
    )
    run.add_argument(
        "--max-replications",
        type=_positive_int,
        default=100_000,
        help="upper limit for --until-precision (default 100000)",
    )
    scenario_opts(run)

    sw = sub.add_parser(
        "sweep",
        help="run a scenario over a design of parameter values; sensitivity indices",
        description="Run SCENARIO at every point of a design over the --param values, with "
        "common random numbers, print each point's main outcomes (and, for sobol and morris, "
        "the sensitivity indices), and write the files to --out.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG_SWEEP,
    )
    sw.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    sw.add_argument(
        "--param",
        dest="params",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH[:STEPS]",
        help="a swept parameter: a range PATH=LOW:HIGH[:STEPS] or values PATH=a,b,c "
        "(repeatable; at least one)",
    )
    sw.add_argument(
        "--design",
        choices=("grid", "lhs", "sobol", "morris"),
        default="lhs",
        help="how points are chosen (default lhs)",
    )
    sw.add_argument(
        "--points",
        type=_positive_int,
        default=16,
        metavar="K",
        help="lhs points, sobol base samples or morris trajectories (default 16; grid: unused)",
    )
    sw.add_argument(
        "-n",
        "--replications",
        type=_positive_int,
        default=100,
        help="replications per point (default 100)",
    )
    sw.add_argument(
        "--seed", type=_seed, default=None, help="random seed (default: the scenario's `seed`)"
    )
    sw.add_argument(
        "--out",
        metavar="DIR",
        required=True,
        help="directory for sweep.csv, points.csv, indices.csv, sweep.json",
    )
    sw.add_argument("--report", action="store_true", help="also write report.html into --out")
    scale_opts(sw)
    scenario_opts(sw)

    cmp_ = sub.add_parser(
        "compare",
        help="run scenarios or variants with common random numbers and compare them",
        description="Run each SCENARIO (and each --variant of the first one) with the same seed "
        "and replications, so they share random numbers; report every metric's difference "
        "against the first with a paired 95%% interval, say which differences are clear, and "
        "write comparison.csv, comparison.png/.svg and each arm's full outputs under arms/.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""examples:
  pxsim compare scenarios/kursk_2025.yaml -n 500 --out out/ack \
      --variant acknowledged parties.russia.acknowledges.dprk=true
  pxsim compare scenarios/kursk_2025.yaml --out out/slow \
      --variant "slow mediator" intermediaries.uae.delay.mean=30
  pxsim compare a.yaml b.yaml c.yaml -n 200 --out out/abc --report
""",
    )
    cmp_.add_argument(
        "scenarios", nargs="+", metavar="SCENARIO", help="scenario files; the first is the baseline"
    )
    cmp_.add_argument(
        "--variant",
        nargs="+",
        action="append",
        default=[],
        metavar="NAME_OR_CHANGE",
        help="a variant of the first scenario: a name, then PATH=VALUE changes "
        '(e.g. --variant "slow mediator" intermediaries.uae.delay.mean=30)',
    )
    cmp_.add_argument(
        "-n",
        "--replications",
        type=_positive_int,
        default=None,
        help="replications per arm (default: the first scenario's)",
    )
    cmp_.add_argument("--seed", type=_seed, default=None, help="random seed (default: scenario)")
    cmp_.add_argument(
        "--out",
        metavar="DIR",
        required=True,
        help="directory for comparison.csv/.json/.png/.svg and arms/",
    )
    cmp_.add_argument("--report", action="store_true", help="also write report.html")
    scale_opts(cmp_)
    scenario_opts(cmp_)

    rep = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a run, comparison or sweep directory",
        description="Write DIR/report.html: the scenario in brief, the outcome table, every "
        "figure embedded, and the provenance. Works on the output of run, compare and sweep.",
    )
    rep.add_argument("directory", metavar="DIR")

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

    chk = sub.add_parser(
        "check",
        help="run the theory suite: simulated results against closed-form values",
        description="Run stripped-down scenarios whose answers are known in closed form "
        "(Poisson captures, deaths in captivity, Little's law, time-dependent concession, "
        "Rubinstein bargaining, war of attrition) and print, for each check, the formula, the "
        "expected value, the simulated value with its 95% interval (or its exact value), the "
        "tolerance and why, and PASS or FAIL. Exit 0 if every check passes, 1 otherwise.",
    )
    chk.add_argument(
        "--quick", action="store_true", help="fewer replications (about 10 s instead of 35 s)"
    )
    chk.add_argument(
        "--json", metavar="FILE", default=None, help="also write the results to FILE as JSON"
    )
    chk.add_argument(
        "--seed", type=_seed, default=None, help="random seed (default 2025; runs are seeded)"
    )
    chk.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="CHECK",
        help="run only this group (repeatable): poisson, held, little, concession, "
        "rubinstein, attrition",
    )
    fc = sub.add_parser(
        "forecast",
        help="run a (calibrated) scenario forward and count deals and people returned per period",
        description="Move SCENARIO's horizon to --until, run it -n times and print, for each "
        "--period, the deals executed and the people returned to each party: mean, median and "
        "90% interval over runs. With --calibration (an output directory of `pxsim calibrate`) "
        "every run draws its fitted parameters from the posterior, so the interval includes "
        "parameter uncertainty.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  pxsim forecast scenarios/ua_ru_2022_2024.yaml --until 2025-12-31 \\\n"
        "      --period 2025=2025-01-01:2025-12-31 \\\n"
        "      --calibration docs/calibration/ua_ru_2022_2024\n",
    )
    fc.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    fc.add_argument("--until", required=True, type=_date, metavar="DATE", help="new horizon")
    fc.add_argument(
        "--period",
        dest="periods",
        action="append",
        required=True,
        metavar="LABEL=FIRST:LAST",
        help="a counting period, both days included (repeatable)",
    )
    fc.add_argument(
        "--calibration",
        metavar="DIR",
        default=None,
        help="draw the fitted parameters from this calibration's posterior",
    )
    fc.add_argument(
        "-n", "--replications", type=_positive_int, default=1000, help="runs (default 1000)"
    )
    fc.add_argument(
        "--seed", type=_seed, default=None, help="random seed (default: the scenario's `seed`)"
    )
    fc.add_argument(
        "--out", metavar="DIR", default=None, help="write forecast.csv and forecast_summary.csv"
    )
    scale_opts(fc, chunks=False, resumable=False)
    scenario_opts(fc)

    cal = sub.add_parser(
        "calibrate",
        help="fit scenario parameters to an observed exchange history (ABC)",
        description="Fit the --fit parameters of SCENARIO so that its simulated exchange "
        "history matches the targets of --observed, by approximate Bayesian computation: "
        "--points prior draws (Latin hypercube over the --fit ranges, uniform priors), each run "
        "--replications times with common random numbers, weighted by how close their target "
        "statistics come to the observed ones. Writes the fitted scenario, the posterior, a "
        "per-statistic comparison and a figure to --out; resumes with --resume.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG_CALIBRATE,
    )
    cal.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    cal.add_argument(
        "--observed",
        required=True,
        metavar="FILE",
        help="observations YAML file (targets; see docs/calibration.md)",
    )
    cal.add_argument(
        "--fit",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH",
        help="a fitted parameter and its uniform prior range (repeatable; at least one)",
    )
    cal.add_argument(
        "--target",
        dest="targets",
        action="extend",
        nargs="+",
        default=[],
        metavar="ID",
        help="targets of --observed used in the fit (default: all; the others are still "
        "compared in targets.csv and the figure)",
    )
    cal.add_argument(
        "--points",
        type=_positive_int,
        default=400,
        metavar="P",
        help="prior draws (default 400)",
    )
    cal.add_argument(
        "-n",
        "--replications",
        type=_positive_int,
        default=8,
        help="replications per prior draw (default 8)",
    )
    cal.add_argument(
        "--accept",
        type=float,
        default=0.05,
        metavar="SHARE",
        help="share of all simulations within the tolerance (default 0.05)",
    )
    cal.add_argument(
        "--rounds",
        type=_positive_int,
        default=1,
        metavar="R",
        help="ABC rounds: 1 = rejection ABC over the prior (default); more = ABC-PMC, each "
        "round drawing --points new points near the previous round's posterior",
    )
    cal.add_argument(
        "--match",
        choices=("runs", "mean"),
        default="runs",
        help="runs: every replication is compared with the record (ABC proper; default); "
        "mean: the mean of a point's replications is (finds parameters whose typical run "
        "follows the record)",
    )
    cal.add_argument(
        "--predict",
        action="append",
        default=[],
        metavar="LABEL=FIRST:LAST",
        help="also predict deals and people returned in this period (repeatable; within the "
        "horizon: extend it with --set horizon=DATE), weighting each run by how closely its "
        "history matched the record",
    )
    cal.add_argument(
        "--estimate",
        choices=("median", "mean", "best"),
        default="median",
        help="fitted value of each parameter: posterior median (default), mean, or the point "
        "with the highest weight",
    )
    cal.add_argument(
        "--check-replications",
        type=_positive_int,
        default=200,
        metavar="N",
        help="runs of the fitted scenario for the bands (default 200)",
    )
    cal.add_argument(
        "--seed", type=_seed, default=None, help="random seed (default: the scenario's `seed`)"
    )
    cal.add_argument("--out", metavar="DIR", required=True, help="output directory")
    cal.add_argument("--report", action="store_true", help="also write report.html into --out")
    scale_opts(cal, chunks=False)
    scenario_opts(cal)
    return parser


def _precision(text: str) -> tuple[str, float]:
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


@contextmanager
def _resume_hint(out: str | None, what: str) -> Iterator[None]:
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


def _show_progress(args: argparse.Namespace) -> bool:
    if args.quiet:
        return False
    if args.progress:
        return True
    return sys.stderr.isatty()


def _cmd_run(args: argparse.Namespace) -> int:
    import tempfile

    from sim.experiments.runner import Precision, run_to_dir
    from sim.model.records import OUTCOME_COLUMNS
    from sim.results.summary import MAIN_METRICS, format_table
    from sim.scenario.loading import load_scenario

    scn = load_scenario(args.scenario, args.overrides)
    until = Precision(*args.until_precision) if args.until_precision else None
    with tempfile.TemporaryDirectory(prefix="pxsim-") as scratch:
        out = args.out if args.out is not None else scratch
        with _resume_hint(args.out, "chunks"):
            report = run_to_dir(
                scn,
                out,
                seed=args.seed,
                replications=args.replications,
                workers=args.workers,
                chunk_size=args.chunk_size,
                backend=args.backend,
                scheduler=args.scheduler,
                resume=args.resume,
                force=args.force,
                progress=_show_progress(args),
                until=until,
                max_replications=args.max_replications,
                source=args.scenario,
                overrides=list(args.overrides),
            )
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
    reused = f", {report.chunks_reused} reused" if report.chunks_reused else ""
    print(
        f"{report.chunks_run} chunk(s) run{reused} on {report.backend} "
        f"({report.workers} worker(s)) in {report.seconds:.1f} s"
    )
    for note in report.notes:
        print(f"note: {note}")
    if args.out is not None:
        print(
            f"wrote {args.out}/ (runs.csv, parties.csv, timeseries.csv, summary.csv, "
            "manifest.json, scenario.resolved.yaml; Parquet in runs/ and parties/)"
        )
        if args.report:
            from sim.present.report import write_report

            print(f"wrote {write_report(args.out)}")
    return EXIT_OK


def _cmd_sweep(args: argparse.Namespace) -> int:
    from sim.experiments.sweep import format_indices, format_points, plan_sweep, run_sweep
    from sim.results.summary import MAIN_METRICS

    plan = plan_sweep(
        args.scenario,
        args.params,
        design=args.design,
        points=args.points,
        seed=args.seed,
        overrides=args.overrides,
    )
    des = plan.design
    with _resume_hint(args.out, "chunks"):
        report = run_sweep(
            plan,
            args.out,
            replications=args.replications,
            workers=args.workers,
            chunk_size=args.chunk_size,
            backend=args.backend,
            scheduler=args.scheduler,
            resume=args.resume,
            force=args.force,
            progress=_show_progress(args),
        )
    print(
        f"{plan.base.name}: {des.name} sweep of {len(des.specs)} parameter(s), "
        f"{des.points} points x {report.replications} replications, seed {plan.seed} "
        "(common random numbers)"
    )
    print(format_points(report.summary, des.paths))
    if report.indices is not None:
        label = "Sobol' indices" if des.name == "sobol" else "Morris indices"
        print(f"\n{label} of the per-point means (main outcomes; all in indices.csv):")
        print(format_indices(report.indices, des.name, MAIN_METRICS))
        skipped = [m for m in MAIN_METRICS if m in report.skipped]
        if skipped:
            print("no indices for: " + "; ".join(f"{m} ({report.skipped[m]})" for m in skipped))
    reused = f", {report.chunks_reused} reused" if report.chunks_reused else ""
    print(
        f"{report.chunks_run} chunk(s) run{reused} on {report.backend} "
        f"({report.workers} worker(s)) in {report.seconds:.1f} s"
    )
    for note in report.notes:
        print(f"note: {note}")
    files = "sweep.csv, points.csv" + (", indices.csv" if report.indices is not None else "")
    print(f"wrote {args.out}/ ({files}, sweep.json; Parquet in runs/)")
    if args.report:
        from sim.present.report import write_report

        print(f"wrote {write_report(args.out)}")
    return EXIT_OK


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from sim.fit.calibration import calibrate, format_report, plan_calibration

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
    with _resume_hint(args.out, "simulations"):
        report = calibrate(
            plan,
            args.out,
            workers=args.workers,
            backend=args.backend,
            scheduler=args.scheduler,
            resume=args.resume,
            force=args.force,
            progress=_show_progress(args),
        )
    print(format_report(report))
    print(
        f"wrote {args.out}/ (fitted.yaml, fit.csv, posterior.csv, targets.csv, "
        + ("prediction.csv, " if args.predict else "")
        + "fit.png, fit.svg, calibration.json)"
    )
    if args.report:
        from sim.present.report import write_report

        print(f"wrote {write_report(args.out)}")
    return EXIT_OK


def _cmd_forecast(args: argparse.Namespace) -> int:
    from sim.experiments.store import atomic_write_text, csv_text
    from sim.fit.forecast import forecast, format_forecast, parse_period

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
        workers=args.workers,
        backend=args.backend,
        scheduler=args.scheduler,
        progress=_show_progress(args),
    )
    print(format_forecast(res, args.replications))
    if args.out is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "forecast.csv", csv_text(res.runs))
        atomic_write_text(out / "forecast_summary.csv", csv_text(res.summary))
        print(f"wrote {out}/ (forecast.csv, forecast_summary.csv)")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.scenario.loading import load_scenario

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
    print(
        f"-- at the horizon: {o['repatriated']} repatriated, {o['resettled']} resettled, "
        f"{o['died']} died, {o['held_at_end']} still held; {o['deals']} deals, "
        f"{o['deals_collapsed']} collapsed, {o['negotiations']} talks"
    )
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from sim.scenario.reference import reference_markdown

    text = reference_markdown()
    if args.out:
        from sim.experiments.outputs import atomic_write

        atomic_write(Path(args.out), text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    import json
    import time

    from sim.theory.suite import CHECKS, DEFAULT_SEED, run_checks
    from sim.theory.verdicts import format_result, summary_line

    names = {c.name for c in CHECKS}
    unknown = sorted(set(args.only or ()) - names)
    if unknown:
        raise ScenarioError(
            f"--only: unknown check {', '.join(unknown)}; expected one of "
            f"{', '.join(c.name for c in CHECKS)}"
        )
    seed = DEFAULT_SEED if args.seed is None else args.seed
    mode = "quick" if args.quick else "full"
    print(f"pxsim check ({mode}, seed {seed}): simulated results against closed-form theory\n")
    t0 = time.perf_counter()
    results = run_checks(
        quick=args.quick,
        seed=seed,
        only=args.only,
        progress=lambda r: print(format_result(r) + "\n", flush=True),
    )
    seconds = time.perf_counter() - t0
    print(summary_line(results, seconds))
    if args.json:
        from sim.experiments.outputs import atomic_write

        doc = {
            "pxsim": __version__,
            "mode": mode,
            "seed": seed,
            "seconds": seconds,
            "passed": all(r.passed for r in results),
            "checks": [r.to_dict() for r in results],
        }
        atomic_write(Path(args.json), json.dumps(doc, indent=2, allow_nan=False) + "\n")
        print(f"wrote {args.json}")
    return EXIT_OK if all(r.passed for r in results) else EXIT_FAILED


def _cmd_compare(args: argparse.Namespace) -> int:
    from sim.experiments.comparison import compare, format_comparison, make_arms

    variants = []
    for spec in args.variant:
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
    try:
        arms = make_arms(args.scenarios, variants, args.overrides)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    result = compare(
        arms,
        args.replications,
        args.seed,
        args.out,
        workers=args.workers,
        chunk_size=args.chunk_size,
        backend=args.backend,
        scheduler=args.scheduler,
        resume=args.resume,
        force=args.force,
        progress=_show_progress(args),
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
        f"wrote {args.out}/ (comparison.csv, comparison.json, comparison.png, comparison.svg, "
        "arms/)"
    )
    if args.report:
        from sim.present.report import write_report

        print(f"wrote {write_report(args.out)}")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from sim.present.report import write_report

    try:
        path = write_report(args.directory)
    except FileNotFoundError as exc:
        raise ScenarioError(str(exc)) from None
    print(f"wrote {path}")
    return EXIT_OK


COMMANDS = {
    "compare": _cmd_compare,
    "report": _cmd_report,
    "run": _cmd_run,
    "sweep": _cmd_sweep,
    "validate": _cmd_validate,
    "trace": _cmd_trace,
    "schema": _cmd_schema,
    "check": _cmd_check,
    "calibrate": _cmd_calibrate,
    "forecast": _cmd_forecast,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except (ScenarioError, OutputDirError, BackendError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
