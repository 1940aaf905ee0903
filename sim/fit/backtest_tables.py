"""The tables of a backtest: every forecast scored (``backtest.csv``), and the summary per
method and quantity (``summary.csv``) with the skill of pxsim against each rule of thumb.

Scores are in the units of their quantity (people, deals, days), so they are averaged per
quantity, never across quantities; coverage (a share) is also given over everything scored.
``skill = 1 − score(pxsim) / score(baseline)`` on the mean interval score and mean CRPS:
positive when pxsim is better, negative when worse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from sim.fit.scores import skill
from sim.text import text_table

COLUMNS = (
    "origin",
    "horizon_months",
    "quantity",
    "method",
    "observed",
    "scored",
    "q05",
    "q25",
    "q50",
    "q75",
    "q95",
    "inside50",
    "inside90",
    "interval50",
    "interval90",
    "crps",
    "not_scored_because",
)


def scored_table(results: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per origin, horizon, quantity and method."""
    rows = [r for res in results for r in res["rows"]]
    df = pd.DataFrame(rows)
    for c in COLUMNS:
        if c not in df:
            df[c] = pd.NA
    return df[list(COLUMNS)]


def summary_table(scored: pd.DataFrame) -> pd.DataFrame:
    """Per quantity and method (and ``all`` quantities for coverage): forecasts scored, 50 %
    and 90 % coverage, mean interval score at 90 %, mean CRPS, and pxsim's skill against each
    baseline on both scores."""
    s = scored[scored["scored"].astype(bool)].copy()
    rows = []
    for (quantity, method), g in s.groupby(["quantity", "method"], sort=False):
        rows.append(
            {
                "quantity": quantity,
                "method": method,
                "scored": len(g),
                "coverage50": float(g["inside50"].astype(float).mean()),
                "coverage90": float(g["inside90"].astype(float).mean()),
                "interval90": float(g["interval90"].astype(float).mean()),
                "crps": float(g["crps"].astype(float).mean()),
            }
        )
    for method, g in s.groupby("method", sort=False):
        rows.append(
            {
                "quantity": "all",
                "method": method,
                "scored": len(g),
                "coverage50": float(g["inside50"].astype(float).mean()),
                "coverage90": float(g["inside90"].astype(float).mean()),
                "interval90": float("nan"),
                "crps": float("nan"),
            }
        )
    out = pd.DataFrame(rows)
    for base in ("persistence", "climatology"):
        for score in ("interval90", "crps"):
            col = f"skill_{score}_vs_{base}"
            out[col] = float("nan")
            for i, r in out.iterrows():
                if r["method"] != "pxsim" or r["quantity"] == "all":
                    continue
                other = out[(out["quantity"] == r["quantity"]) & (out["method"] == base)]
                if len(other):
                    out.loc[i, col] = skill(float(r[score]), float(other[score].iloc[0]))
    return out


def verdict(summary: pd.DataFrame) -> dict[str, Any]:
    """The issue's targets in figures: pxsim's 90 % coverage over all windows (aim: ≥ 80 %)
    and on how many quantities it beats both baselines on interval score and CRPS."""
    px = summary[summary["method"] == "pxsim"]
    per_q = px[px["quantity"] != "all"]
    cols = [str(c) for c in summary.columns if str(c).startswith("skill_")]
    beats = per_q[cols].gt(0).all(axis=1) if cols else pd.Series(dtype=bool)
    overall = px[px["quantity"] == "all"]
    return {
        "coverage90": float(overall["coverage90"].iloc[0]) if len(overall) else float("nan"),
        "coverage50": float(overall["coverage50"].iloc[0]) if len(overall) else float("nan"),
        "quantities": len(per_q),
        "beats_both_on_both_scores": int(beats.sum()),
        "mean_skill": {c: float(per_q[c].mean()) for c in cols},
    }


def format_summary(summary: pd.DataFrame) -> str:
    header = ["quantity", "method", "n", "50% cov.", "90% cov.", "IS90", "CRPS", "skill (CRPS)"]
    lines = []
    for _, r in summary.iterrows():
        sk = ""
        if r["method"] == "pxsim" and r["quantity"] != "all":
            sk = (
                f"{r['skill_crps_vs_persistence']:+.2f} pers., "
                f"{r['skill_crps_vs_climatology']:+.2f} clim."
            )
        lines.append(
            [
                str(r["quantity"]),
                str(r["method"]),
                str(int(r["scored"])),
                f"{r['coverage50']:.0%}",
                f"{r['coverage90']:.0%}",
                "" if pd.isna(r["interval90"]) else f"{r['interval90']:,.1f}",
                "" if pd.isna(r["crps"]) else f"{r['crps']:,.1f}",
                sk,
            ]
        )
    return text_table(header, lines, left=2)
