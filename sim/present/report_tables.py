"""The tables of the HTML report, shaped to be read on a page: the scenario in brief (parties,
capture streams, intermediaries, timeline), a comparison's differences against the baseline,
and a sweep's design points.

Wide output tables (``comparison.csv`` has 12 columns, a sweep's ``points.csv`` three per
metric) are cut to what a reader compares, with numbers rounded (``sim.text.format_number``)
and each interval in one cell, so that they fit a ~1000 px page.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from sim.present.page import interval, table
from sim.present.style import metric_label
from sim.results.summary import MAIN_METRICS
from sim.scenario.loading import loads_scenario
from sim.scenario.schema import Scenario
from sim.text import format_number

__all__ = ["DIFFERENCE_HTML", "differences_table", "scenario_brief", "sweep_points_table"]

SWEEP_METRICS = ("repatriated", "deals", "died", "held_at_end")
DIFFERENCE_HTML = ("paired 95% CI", "unpaired 95% CI")  # columns of intervals, in HTML


def _interval(row: pd.Series, prefix: str) -> str:
    return interval(float(row[f"{prefix}_low"]), float(row[f"{prefix}_high"]), format_number)


def differences_table(table_: pd.DataFrame, metrics: Sequence[str] = MAIN_METRICS) -> pd.DataFrame:
    """``comparison.csv`` for reading: a row per metric (in ``metrics`` order) and variant,
    the means, the difference, its paired and unpaired 95% intervals (one cell each, HTML:
    ``DIFFERENCE_HTML`` columns), whether it is clear, and the number of pairs. Render it
    with ``table(..., floatfmt=format_number, raw=DIFFERENCE_HTML)``."""
    sub = table_[table_["metric"].isin(metrics)].copy()
    sub["_order"] = sub["metric"].map({m: i for i, m in enumerate(metrics)})
    sub = sub.sort_values("_order", kind="stable")
    rows = [
        {
            "metric": metric_label(str(r["metric"])),
            "variant": str(r["variant"]),
            "baseline mean": float(r["mean_baseline"]),
            "variant mean": float(r["mean_variant"]),
            "difference": float(r["diff"]),
            "paired 95% CI": _interval(r, "ci"),
            "unpaired 95% CI": _interval(r, "unpaired_ci"),
            "clear": "yes" if bool(r["clear"]) else "no",
            "pairs": int(r["n_paired"]),
        }
        for _, r in sub.iterrows()
    ]
    return pd.DataFrame(rows)


def sweep_points_table(
    points: pd.DataFrame, params: Sequence[str], metrics: Sequence[str] = SWEEP_METRICS
) -> pd.DataFrame:
    """A sweep's ``points.csv`` for reading: the point, its parameters, and for each metric
    its mean and the 95% interval of the mean (``METRIC 95% CI`` columns, HTML)."""
    shown = [m for m in metrics if f"{m}_mean" in points.columns]
    out = points[["point", *params]].copy() if "point" in points else points[list(params)].copy()
    for m in shown:
        out[f"{m} mean"] = points[f"{m}_mean"].astype(float)
        out[f"{m} 95% CI"] = [
            interval(float(lo), float(hi), format_number)
            for lo, hi in zip(points[f"{m}_ci_low"], points[f"{m}_ci_high"], strict=True)
        ]
    return out


# --------------------------------------------------------------------------- scenario
def _parties(scn: Scenario) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "party": p.id,
                "name": p.name or p.id,
                "strategy": p.strategy.name,
                "reservation": p.reservation,
                "deadline (days)": p.deadline,
                "norms": ", ".join(k for k, v in p.norms.model_dump().items() if v) or "—",
                "acknowledges": ", ".join(
                    f"{k}: {'yes' if v else 'no'}" for k, v in p.acknowledges.items()
                )
                or "all",
                "asylum": "yes" if p.asylum else "no",
            }
            for p in scn.parties
        ]
    )


def _streams(scn: Scenario) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "stream": s.id,
                "captor": s.captor,
                "nationality": s.nationality,
                "incidents/day (first phase)": s.rate[0].per_day,
                "phases": len(s.rate),
                "self-destruct share": s.self_destruct,
            }
            for s in scn.capture_streams
        ]
    )


def _mediators(scn: Scenario) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "intermediary": m.id,
                "connects": ", ".join(m.connects),
                "mean relay (days)": m.delay.mean(),
                "reliability": m.reliability,
                "capacity": m.capacity,
                "guarantee": "yes" if m.guarantee else "no",
            }
            for m in scn.intermediaries
        ]
    )


def _timeline(scn: Scenario) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "day": t.at,
                "change": ", ".join(f"{k} = {v}" for k, v in t.set.items()),
                "note": t.note,
            }
            for t in scn.timeline
        ]
    )


def scenario_brief(scn_text: str) -> str:
    """The scenario section: name, description, dates, and its parties, capture streams,
    intermediaries and timeline as tables."""
    scn = loads_scenario(scn_text)
    parts = [
        f"<h2>Scenario</h2><p><b>{html.escape(scn.name)}</b>: "
        f"{html.escape(scn.description or '')}</p>"
        f"<p class='muted'>From {scn.start_date.isoformat()} for {scn.horizon:g} days; "
        f"{len(scn.holdings)} holdings at the start; {len(scn.timeline)} timeline "
        "changes.</p>",
        "<h3>Parties</h3>",
        table(_parties(scn)),
    ]
    if scn.capture_streams:
        parts += ["<h3>Capture streams</h3>", table(_streams(scn))]
    if scn.intermediaries:
        parts += ["<h3>Intermediaries</h3>", table(_mediators(scn))]
    if scn.timeline:
        parts += ["<h3>Timeline</h3>", table(_timeline(scn))]
    return "".join(parts)
