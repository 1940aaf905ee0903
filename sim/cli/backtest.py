"""``pxsim backtest``: rolling-origin evaluation of pxsim's forecasts against the record.

Owns the backtest subparser and the command: plan (scenario, observations, record, fit ranges,
origins, horizons), run every origin (resumable), write ``backtest.csv``, ``summary.csv``,
``backtest.json`` and the fan-chart figure, print the summary; ``--report`` adds the HTML page.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sim.cli.options import (
    EXIT_OK,
    Subcommands,
    add_scale_options,
    date,
    execution_of,
    positive_int,
    resume_hint,
    seed_value,
)

EPILOG = (
    "example (the published backtest, docs/backtest.md):\n"
    "  pxsim backtest scenarios/ua_ru_2022_2025.yaml \\\n"
    "      --observed seeds/observed_ua_ru_2022_2025.yaml \\\n"
    "      --record seeds/data_2025/ua_ru_exchanges.csv --record-until 2025-12-31 \\\n"
    "      --deal-stages 2025-05-23:2025-05-25 --deal-stages 2025-06-09:2025-07-23 \\\n"
    "      --fit-from docs/calibration/ua_ru_2022_2025 --out docs/backtest/ua_ru --report\n"
)


def _span(text: str) -> tuple[Any, Any]:
    first, sep, last = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected FIRST:LAST (two dates), got {text!r}")
    return date(first), date(last)


def _months(text: str) -> tuple[int, ...]:
    try:
        out = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected months like 3,6,12, got {text!r}") from None
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"expected whole months >= 1, got {text!r}")
    return tuple(sorted(set(out)))


def add_parser(sub: Subcommands) -> None:
    """The ``backtest`` subparser."""
    p = sub.add_parser(
        "backtest",
        help="score forecasts made at past origins against what happened (rolling origin)",
        description="At every origin, calibrate SCENARIO on the record before it only, forecast "
        "the next --horizons months (people returned to each party, deals, stages, the largest "
        "deal, the longest gap) and score the forecasts against --record, beside two rules of "
        "thumb (persistence, climatology): coverage of the 50% and 90% intervals, interval "
        "score, CRPS. Nothing dated on or after an origin reaches its forecast.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file")
    p.add_argument("--observed", required=True, metavar="FILE", help="observations YAML (fit)")
    p.add_argument(
        "--record", required=True, metavar="CSV", help="handovers: date, returned_to_<party>"
    )
    p.add_argument(
        "--record-until",
        type=date,
        default=None,
        metavar="DATE",
        help="last day the record covers (default: its last handover)",
    )
    p.add_argument(
        "--deal-stages",
        action="append",
        default=[],
        type=_span,
        metavar="FIRST:LAST",
        help="handovers carried out as one deal (repeatable)",
    )
    fit = p.add_mutually_exclusive_group(required=True)
    fit.add_argument(
        "--fit",
        action="append",
        metavar="PATH=LOW:HIGH",
        help="a parameter refitted at every origin (repeatable)",
    )
    fit.add_argument(
        "--fit-from",
        metavar="DIR",
        help="refit the parameters of this `pxsim calibrate` output: same ranges and, unless "
        "--targets, the same targets",
    )
    p.add_argument(
        "--targets",
        default=None,
        metavar="ID,ID",
        help="observation targets used in the fits (default: all, or those of --fit-from)",
    )
    p.add_argument(
        "--origins",
        type=_span,
        default=None,
        metavar="FIRST:LAST",
        help="first and last origin (default 2022-09-01:2025-09-01)",
    )
    p.add_argument(
        "--every",
        type=positive_int,
        default=6,
        metavar="MONTHS",
        help="months between origins (default 6)",
    )
    p.add_argument(
        "--horizons",
        type=_months,
        default=(3, 6, 12),
        metavar="M,M",
        help="forecast windows in months (default 3,6,12)",
    )
    p.add_argument("--points", type=positive_int, default=300, help="prior draws per origin")
    p.add_argument("--replications", type=positive_int, default=2, help="runs per draw")
    p.add_argument(
        "--accept",
        type=float,
        default=0.1,
        help="share of runs inside the ABC tolerance (default 0.1)",
    )
    p.add_argument("--seed", type=seed_value, default=1, help="random seed (default 1)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument("--report", action="store_true", help="also write report.html into --out")
    add_scale_options(p, chunks=False, resumable=True)


def cmd(args: argparse.Namespace) -> int:
    """Plan, run (resumably), write the tables and the figure, print the summary."""
    from sim.fit.backtest import run_backtest
    from sim.fit.backtest_plan import plan_backtest

    plan = plan_backtest(
        args.scenario,
        observed=args.observed,
        record=args.record,
        record_until=args.record_until,
        deal_stages=args.deal_stages,
        fit=args.fit,
        fit_from=args.fit_from,
        targets=args.targets.split(",") if args.targets else None,
        origins=args.origins,
        every=args.every,
        horizons=args.horizons,
        points=args.points,
        replications=args.replications,
        accept=args.accept,
        seed=args.seed,
    )
    out = Path(args.out)
    execution = execution_of(args)

    def said(res: dict[str, Any], reused: bool) -> None:
        how = "reused" if reused else f"{res['seconds']:.0f} s"
        print(
            f"origin {res['origin']}: {res['runs']} runs, effective {res['effective_runs']:.0f}"
            f" ({how})",
            flush=True,
        )

    with resume_hint(args.out, "origins"):
        results = run_backtest(plan, out, execution=execution, on_origin=said)
    _write(plan, results, out, args.report)
    return EXIT_OK


def _write(plan: Any, results: list[dict[str, Any]], out: Path, report: bool) -> None:
    from sim.atomic import atomic_write_text
    from sim.experiments.store import csv_text
    from sim.fit.backtest_tables import format_summary, scored_table, summary_table, verdict
    from sim.present.backtest_figures import draw_backtest

    scored = scored_table(results)
    summary = summary_table(scored)
    atomic_write_text(out / "backtest.csv", csv_text(scored))
    atomic_write_text(out / "summary.csv", csv_text(summary))
    facts = {
        **plan.identity(),
        "verdict": verdict(summary),
        "origins_run": [
            {k: r[k] for k in ("origin", "fit", "fit_dropped", "targets", "effective_runs")}
            for r in results
        ],
    }
    atomic_write_text(out / "backtest.json", json.dumps(facts, indent=1) + "\n")
    files = draw_backtest(scored, plan.record, out)
    if report:
        from sim.present.backtest_report import write_backtest_report

        files.append(write_backtest_report(out, scored, summary, facts))
    print(format_summary(summary))
    v = facts["verdict"]
    print(
        f"pxsim: 90% intervals held the record in {v['coverage90']:.0%} of the windows scored; "
        f"it beat both rules of thumb on both scores for {v['beats_both_on_both_scores']} of "
        f"{v['quantities']} quantities"
    )
    names = ", ".join(["backtest.csv", "summary.csv", "backtest.json", *files])
    print(f"wrote {out}/ ({names})")
