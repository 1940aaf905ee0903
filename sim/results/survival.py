"""Time in captivity as survival data: Kaplan–Meier curves and median days held.

Prisoners still held at the horizon are censored, not dropped; prisoners already held at the
start enter observation late (at their age in captivity on day 0), so the estimator uses
delayed entry. Input is a life table by whole day of captivity (counts of prisoners entering
observation, leaving captivity and censored), which pools any number of replications exactly.
Intervals: Greenwood's variance on the log-log scale (95%); the median's interval is where the
curve's band crosses one half (Brookmeyer–Crowley).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

Z95 = 1.959963984540054


def kaplan_meier(entered: np.ndarray, exited: np.ndarray, censored: np.ndarray) -> pd.DataFrame:
    """Survival ("still held") by day from a life table; columns day, at_risk, exited,
    censored, survival, ci_low, ci_high."""
    n = max(len(entered), len(exited), len(censored))
    e = np.zeros(n, dtype=np.int64)
    d = np.zeros(n, dtype=np.int64)
    c = np.zeros(n, dtype=np.int64)
    e[: len(entered)] = entered
    d[: len(exited)] = exited
    c[: len(censored)] = censored
    left_before = np.concatenate([[0], np.cumsum(d + c)[:-1]])
    at_risk = np.cumsum(e) - left_before
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, d / np.maximum(at_risk, 1), 0.0)
        surv = np.cumprod(1.0 - hazard)
        var_terms = np.where(
            (at_risk > 0) & (at_risk > d), d / (at_risk * np.maximum(at_risk - d, 1)), 0.0
        )
        greenwood = np.cumsum(var_terms)
        log_s = np.log(surv)
        se = np.sqrt(greenwood) / np.abs(log_s)
        loglog = np.log(-log_s)
        low = np.exp(-np.exp(loglog + Z95 * se))
        high = np.exp(-np.exp(loglog - Z95 * se))
    exact = (surv >= 1.0) | ~np.isfinite(se)
    low = np.where(exact, surv, low)
    high = np.where(exact, surv, high)
    return pd.DataFrame(
        {
            "day": np.arange(n),
            "at_risk": at_risk,
            "exited": d,
            "censored": c,
            "survival": surv,
            "ci_low": low,
            "ci_high": high,
        }
    )


def median_days(km: pd.DataFrame) -> tuple[float, float, float]:
    """Median days held and its 95% interval (NaN where the curve does not reach one half)."""

    def first(col: str) -> float:
        hit = km.index[km[col] <= 0.5]
        return float(km.loc[hit[0], "day"]) if len(hit) else float("nan")

    return first("survival"), first("ci_low"), first("ci_high")


def captivity_tables(life: dict[tuple[str, str], np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(curves, medians) by nationality and category, plus every nationality overall.

    ``life`` maps (nationality, category) to a (3, days) array: entered, exited, censored."""
    groups: dict[tuple[str, str], np.ndarray] = {}
    for (nat, cat), table in sorted(life.items()):
        groups[(nat, cat)] = table
        total = groups.get((nat, "all"))
        if total is None:
            groups[(nat, "all")] = table.copy()
        else:
            n = max(total.shape[1], table.shape[1])
            merged = np.zeros((3, n), dtype=np.int64)
            merged[:, : total.shape[1]] += total
            merged[:, : table.shape[1]] += table
            groups[(nat, "all")] = merged
    curves, medians = [], []
    for (nat, cat), table in sorted(groups.items()):
        km = kaplan_meier(table[0], table[1], table[2])
        med, lo, hi = median_days(km)
        medians.append(
            {
                "nationality": nat,
                "category": cat,
                "prisoners": int(table[0].sum()),
                "exited": int(table[1].sum()),
                "censored": int(table[2].sum()),
                "median_days": med,
                "median_ci_low": lo,
                "median_ci_high": hi,
            }
        )
        km.insert(0, "category", cat)
        km.insert(0, "nationality", nat)
        km.insert(0, "group", f"{nat} {cat}")
        curves.append(km)
    curve_frame = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    return curve_frame, pd.DataFrame(medians)
