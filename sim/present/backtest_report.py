"""The HTML page of a backtest (``report.html``, ``pxsim backtest --report``): what was done,
the verdict in figures, the summary per quantity and method, the fan figure, every forecast
window with pxsim's intervals and the three methods' CRPS, and what was not scored and why.

Built from the tables in memory (``scored``: ``backtest.csv``; ``summary``: ``summary.csv``)
and the facts of ``backtest.json``; the figure is ``fan.png`` from the same directory
(``sim.present.backtest_figures``), embedded as a data URI like every pxsim report.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.atomic import atomic_write_text
from sim.present.page import figure_html, interval, page, provenance, table
from sim.text import format_number

__all__ = [
    "count_or_number",
    "forecast_rows",
    "not_scored_rows",
    "summary_rows",
    "write_backtest_report",
]

METHODS = ("pxsim", "persistence", "climatology")
BASELINES = ("persistence", "climatology")
FAN_CAPTION = (
    "The record (cumulative, black) and the forecasts made at every origin: pxsim's fan from "
    "the record's value at the origin (50% and 90% bands, median), the rules of thumb beside "
    "each window's end (90% interval and median); below, the share of scored windows whose "
    "90% interval held the record, per method"
)
WHAT = (
    "At every origin pxsim was calibrated on the record before it only (the scenario as it "
    "could have been written then, the observations cut at the origin), and the next "
    "months forecast from the runs whose history matched; each window was then scored against "
    "the record beside two rules of thumb that see the same past: persistence (the last six "
    "months go on) and climatology (the whole record so far goes on). Nothing dated on or after "
    "an origin reaches its forecast."
)


def _pct(v: Any) -> str:
    x = float(v) if v is not None else float("nan")
    return "—" if x != x else f"{x:.0%}"


def _signed(v: Any) -> str:
    x = float(v) if v is not None else float("nan")
    return "—" if x != x else f"{x:+.2f}"


def _number(v: Any) -> float:
    x = pd.to_numeric(v, errors="coerce")
    return float("nan") if pd.isna(x) else float(x)


def count_or_number(x: float) -> str:
    """Whole numbers (counts, days) without decimals; others as ``format_number``."""
    return f"{x:,.0f}" if x == x and abs(x) < 1e15 and float(x).is_integer() else format_number(x)


def _whole(v: Any) -> int:
    return int(float(v))


def _scored(frame: pd.DataFrame) -> pd.Series:
    return frame["scored"].fillna(False).astype(bool)


# --------------------------------------------------------------------------- tables
SUMMARY_RAW = (
    "50% coverage",
    "90% coverage",
    *(f"skill {s} vs {b}" for s in ("IS90", "CRPS") for b in BASELINES),
)


def summary_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary.csv`` for reading: coverage as percentages, the mean interval score and
    CRPS rounded, pxsim's skill against each rule of thumb signed (positive: pxsim better).
    The ``SUMMARY_RAW`` columns are HTML (right-aligned text)."""
    rows = []
    for _, r in summary.iterrows():
        row: dict[str, Any] = {
            "quantity": str(r["quantity"]),
            "method": str(r["method"]),
            "scored": int(r["scored"]),
            "50% coverage": _pct(r["coverage50"]),
            "90% coverage": _pct(r["coverage90"]),
            "mean IS90": _number(r["interval90"]),
            "mean CRPS": _number(r["crps"]),
        }
        for score, name in (("interval90", "IS90"), ("crps", "CRPS")):
            for base in BASELINES:
                col = f"skill_{score}_vs_{base}"
                row[f"skill {name} vs {base}"] = _signed(r[col]) if col in r else "—"
        rows.append(row)
    return pd.DataFrame(rows)


FORECAST_RAW = ("pxsim 50%", "pxsim 90%", "held (90%)", "best CRPS")


def forecast_rows(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per scored origin × horizon × quantity: the record's value, pxsim's median and
    50% and 90% intervals (HTML), whether the 90% interval held it, each method's CRPS and
    which was lowest."""
    s = scored[_scored(scored)]
    rows = []
    for (origin, horizon, quantity), g in s.groupby(
        ["origin", "horizon_months", "quantity"], sort=False
    ):
        by = {str(r["method"]): r for _, r in g.iterrows()}
        px = by.get("pxsim")
        crps = {m: _number(by[m]["crps"]) if m in by else float("nan") for m in METHODS}
        finite = {m: v for m, v in crps.items() if v == v}
        row: dict[str, Any] = {
            "origin": str(origin),
            "months": _whole(horizon),
            "quantity": str(quantity),
            "record": _number(g["observed"].iloc[0]),
            "pxsim median": _number(px["q50"]) if px is not None else float("nan"),
            "pxsim 50%": "—",
            "pxsim 90%": "—",
            "held (90%)": "—",
        }
        if px is not None:
            row["pxsim 50%"] = interval(_number(px["q25"]), _number(px["q75"]), count_or_number)
            row["pxsim 90%"] = interval(_number(px["q05"]), _number(px["q95"]), count_or_number)
            inside = _number(px["inside90"])
            row["held (90%)"] = (
                "—" if inside != inside else ("yes" if inside >= 0.5 else "<b>no</b>")
            )
        for m in METHODS:
            row[f"CRPS {m}"] = crps[m]
        row["best CRPS"] = html.escape(min(finite, key=lambda m: finite[m])) if finite else "—"
        rows.append(row)
    out = pd.DataFrame(rows)
    if len(out):
        out = out.sort_values(["origin", "months"], kind="stable").reset_index(drop=True)
    return out


def not_scored_rows(scored: pd.DataFrame) -> pd.DataFrame:
    """Per reason a forecast was not scored: how many windows (origin × horizon × quantity),
    of which quantities and origins."""
    why = scored["not_scored_because"].fillna("").astype(str)
    s = scored[(why != "") | ~_scored(scored)].copy()
    s["reason"] = why[s.index].replace("", "not scored")
    rows = []
    for reason, g in s.groupby("reason", sort=False):
        windows = g.drop_duplicates(["origin", "horizon_months", "quantity"])
        rows.append(
            {
                "reason": str(reason),
                "windows": len(windows),
                "methods": ", ".join(dict.fromkeys(g["method"].astype(str))),
                "quantities": ", ".join(dict.fromkeys(windows["quantity"].astype(str))),
                "origins (months)": "; ".join(
                    f"{o} ({', '.join(str(int(h)) for h in sorted(set(w['horizon_months'])))})"
                    for o, w in windows.groupby("origin", sort=True)
                ),
            }
        )
    return pd.DataFrame(rows)


def _coverage_by_horizon(scored: pd.DataFrame) -> pd.DataFrame:
    s = scored[_scored(scored)]
    rows = []
    for horizon, g in s.groupby("horizon_months", sort=True):
        row: dict[str, Any] = {"months ahead": _whole(horizon)}
        for m in METHODS:
            gm = g[g["method"] == m]
            inside = pd.to_numeric(gm["inside90"], errors="coerce")
            row[m] = (
                f"{(inside >= 0.5).mean():.0%} ({int((inside >= 0.5).sum())} of {len(gm)})"
                if len(gm)
                else "—"
            )
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- sections
def _verdict(v: Mapping[str, Any]) -> str:
    skills = v.get("mean_skill") or {}
    parts = [
        f"<p><b>pxsim's 90% intervals held the record in {_pct(v.get('coverage90'))} of the "
        f"windows scored</b> (nominal 90%, aim at least 80%); its 50% intervals in "
        f"{_pct(v.get('coverage50'))} (nominal 50%). It beat both rules of thumb on both "
        f"scores (interval score and CRPS) for <b>{v.get('beats_both_on_both_scores')} of "
        f"{v.get('quantities')}</b> quantities.</p>"
    ]
    if skills:
        frame = pd.DataFrame(
            [
                {
                    "score": "interval score (90%)" if "interval90" in k else "CRPS",
                    "against": k.rsplit("_vs_", 1)[-1],
                    "mean skill over quantities": _signed(val),
                }
                for k, val in skills.items()
            ]
        )
        parts += [
            "<p class='muted'>Skill = 1 − score(pxsim) / score(rule of thumb), per quantity; "
            "positive when pxsim is better. Its mean over the quantities:</p>",
            table(frame, raw=("mean skill over quantities",)),
        ]
    return "".join(parts)


def _done(facts: Mapping[str, Any]) -> str:
    keys = (
        ("scenario hash", "scenario_hash"),
        ("observations (fit)", "observations"),
        ("record (scored against)", "record"),
        ("record covers up to day", "record_until"),
        ("parameters refitted at every origin", "fit"),
        ("calibration targets", "targets"),
        ("origins", "origins"),
        ("horizons (months)", "horizons"),
        ("prior draws per origin", "points"),
        ("runs per draw", "replications"),
        ("accepted share (ABC)", "accept"),
        ("seed", "seed"),
        ("pxsim", "pxsim"),
    )
    shown = {label: facts[k] for label, k in keys if k in facts}
    if "targets" in facts and facts["targets"] is None:
        shown["calibration targets"] = "all observed"
    return provenance(shown, "What was done")


def _per_origin(facts: Mapping[str, Any]) -> str:
    runs = facts.get("origins_run") or []
    if not runs:
        return ""
    frame = pd.DataFrame(
        [
            {
                "origin": str(r.get("origin")),
                "effective runs": float(r.get("effective_runs", float("nan"))),
                "parameters fitted": len(r.get("fit") or []),
                "dropped (dated on or after the origin)": list(r.get("fit_dropped") or []),
                "targets": len(r.get("targets") or []),
            }
            for r in runs
        ]
    )
    return (
        "<h3>The fit at each origin</h3><p class='muted'>Effective runs: the effective sample "
        "size of the ABC weights (how many runs the forecast really rests on).</p>"
        + table(frame, "{:,.1f}")
    )


def _figure(out: Path) -> str:
    png = out / "fan.png"
    if not png.is_file():
        return "<p class='muted'>No figure: fan.png was not found beside this page.</p>"
    return figure_html(base64.b64encode(png.read_bytes()).decode("ascii"), FAN_CAPTION)


def _not_scored(scored: pd.DataFrame) -> str:
    rows = not_scored_rows(scored)
    total = len(scored.drop_duplicates(["origin", "horizon_months", "quantity"]))
    note = (
        "<p class='muted'>Scores are in the units of their quantity (people, deals, days), so "
        "they are averaged per quantity, never across quantities; coverage is also given over "
        "everything scored. In the figure a handover whose numbers were withheld counts as 0 "
        "people in the cumulative record, so the line and the fans after it sit low by its "
        "unknown size; the windows that contain it are not scored on people.</p>"
    )
    if not len(rows):
        return (
            f"<h2>What is not scored</h2><p>Every one of the {total} windows was scored.</p>{note}"
        )
    missing = int(rows["windows"].sum())
    return (
        f"<h2>What is not scored</h2><p>{missing} of the {total} forecast windows (origin × "
        "horizon × quantity) were forecast but not scored, because the record cannot say what "
        "happened in them. Their fans are still drawn.</p>" + table(rows) + note
    )


def write_backtest_report(
    out: Path, scored: pd.DataFrame, summary: pd.DataFrame, facts: dict[str, Any]
) -> str:
    """Write ``report.html`` into ``out`` (the figure: ``out/fan.png``, written first by
    ``draw_backtest``); returns its file name."""
    out = Path(out)
    verdict = facts.get("verdict") or {}
    origins = facts.get("origins") or sorted(set(scored["origin"].astype(str)))
    horizons = facts.get("horizons") or sorted(set(scored["horizon_months"]))
    forecasts = forecast_rows(scored)
    sections = [
        "<h1>pxsim backtest</h1>",
        f"<p class='muted'>Forecasts made at {len(origins)} origins "
        f"({html.escape(str(origins[0]))} to {html.escape(str(origins[-1]))}) for "
        f"{html.escape(', '.join(str(h) for h in horizons))} months ahead, scored against "
        f"{html.escape(str(facts.get('record', 'the record')))}.</p>"
        if origins
        else "",
        f"<p>{html.escape(WHAT)}</p>",
        "<h2>Verdict</h2>",
        _verdict(verdict),
        "<h2>Summary per quantity and method</h2>",
        "<p class='muted'>Coverage: the share of scored windows whose interval held the "
        "record. IS90: the mean interval score of the 90% interval (its width plus a penalty "
        "for a miss); CRPS: the mean continuous ranked probability score; both in the "
        "quantity's units, lower is better. Skill: pxsim against each rule of thumb, positive "
        "when pxsim is better.</p>",
        table(summary_rows(summary), format_number, raw=SUMMARY_RAW),
        "<h3>90% coverage by horizon</h3>",
        table(_coverage_by_horizon(scored)),
        "<h2>The record and the forecasts</h2>",
        _figure(out),
        "<h2>Forecast by forecast</h2>",
        "<p class='muted'>Every scored window: the record's value, pxsim's median and 50% and "
        "90% intervals (<b>no</b> where the 90% interval missed), and each method's CRPS "
        "(lower is better).</p>",
        table(forecasts, count_or_number, raw=FORECAST_RAW)
        if len(forecasts)
        else "<p>No window was scored.</p>",
        _not_scored(scored),
        _done(facts),
        _per_origin(facts),
    ]
    atomic_write_text(out / "report.html", page("pxsim backtest", sections))
    return "report.html"
