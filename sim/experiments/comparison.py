"""Comparing scenarios and variants with common random numbers and paired intervals.

Every arm runs replications ``0..n-1`` at the same seed, so replication ``r`` of each arm draws
the same random streams wherever the arms share them (captures, delays, breakdowns...). The
difference of a metric between an arm and the baseline is then estimated from the per-
replication differences (a paired t interval), which is far narrower than comparing two
independent samples when the arms share most of their randomness. A difference is called
*clear* when its paired 95% interval excludes zero.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.atomic import atomic_write_text
from sim.experiments.options import DEFAULT, Execution
from sim.experiments.runner import run_to_dir
from sim.experiments.store import csv_text
from sim.model.records import OUTCOME_COLUMNS
from sim.results.summary import MAIN_METRICS
from sim.scenario.loading import load_scenario
from sim.scenario.schema import Scenario

# drawn from these files by ``sim.present.write_comparison_figures``
FIGURES = ("comparison", "arms_over_time", "arms_survival", "arms_outcomes")


@dataclass
class Arm:
    """One scenario (or variant) in a comparison."""

    label: str
    scenario: Scenario
    source: str
    overrides: list[str]


@dataclass
class Comparison:
    arms: list[Arm]
    runs: dict[str, pd.DataFrame]  # label -> runs
    table: pd.DataFrame  # metric x arm differences against the baseline
    out: Path | None


def make_arms(
    scenarios: Sequence[str | Path],
    variants: Sequence[tuple[str, Sequence[str]]] = (),
    overrides: Sequence[str] = (),
) -> list[Arm]:
    """Arms from scenario files (each with the common ``overrides``) and named variants of the
    first scenario (its overrides plus the variant's own)."""
    arms: list[Arm] = []
    for path in scenarios:
        scn = load_scenario(path, list(overrides))
        arms.append(Arm(scn.name, scn, str(path), list(overrides)))
    if not arms:
        raise ValueError("nothing to compare: give at least one scenario")
    for name, changes in variants:
        ovs = [*overrides, *changes]
        scn = load_scenario(arms[0].source, ovs)
        arms.append(Arm(name, scn, arms[0].source, ovs))
    seen: dict[str, int] = {}
    for arm in arms:  # labels must be unique: they name the output folders and columns
        base = arm.label
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            arm.label = f"{base} ({seen[base]})"
    if len(arms) < 2:
        raise ValueError("nothing to compare: give two scenarios, or a scenario and a --variant")
    return arms


def folder(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_") or "arm"


def paired_differences(base: pd.DataFrame, other: pd.DataFrame, metric: str) -> dict[str, Any]:
    """Mean difference (other - base) with paired and unpaired 95% intervals."""
    merged = base[["replication", metric]].merge(
        other[["replication", metric]], on="replication", suffixes=("_a", "_b")
    )
    a = merged[f"{metric}_a"].to_numpy(dtype=float)
    b = merged[f"{metric}_b"].to_numpy(dtype=float)
    both = ~np.isnan(a) & ~np.isnan(b)
    d = b[both] - a[both]
    n = len(d)
    row: dict[str, Any] = {
        "n_paired": n,
        "mean_baseline": float(np.nanmean(a)) if (~np.isnan(a)).any() else np.nan,
        "mean_variant": float(np.nanmean(b)) if (~np.isnan(b)).any() else np.nan,
    }
    if n < 2:
        row.update(
            diff=np.nan,
            ci_low=np.nan,
            ci_high=np.nan,
            unpaired_ci_low=np.nan,
            unpaired_ci_high=np.nan,
            clear=False,
        )
        return row
    mean = float(d.mean())
    sd = float(d.std(ddof=1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / np.sqrt(n) if sd > 0 else 0.0
    aa, bb = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(aa) > 1 and len(bb) > 1:
        va, vb = aa.var(ddof=1) / len(aa), bb.var(ddof=1) / len(bb)
        se = float(np.sqrt(va + vb))
        df = (va + vb) ** 2 / ((va**2 / (len(aa) - 1)) + (vb**2 / (len(bb) - 1))) if se > 0 else 1
        uhalf = float(stats.t.ppf(0.975, df)) * se if se > 0 else 0.0
        udiff = float(bb.mean() - aa.mean())
    else:
        uhalf, udiff = np.nan, np.nan
    row.update(
        diff=mean,
        ci_low=mean - half,
        ci_high=mean + half,
        unpaired_ci_low=udiff - uhalf,
        unpaired_ci_high=udiff + uhalf,
        clear=bool(mean - half > 0 or mean + half < 0),
    )
    return row


def comparison_table(
    arms: list[Arm], runs: dict[str, pd.DataFrame], metrics: Sequence[str] = OUTCOME_COLUMNS
) -> pd.DataFrame:
    base = arms[0]
    rows = []
    for arm in arms[1:]:
        for metric in metrics:
            rows.append(
                {
                    "metric": metric,
                    "baseline": base.label,
                    "variant": arm.label,
                    **paired_differences(runs[base.label], runs[arm.label], metric),
                }
            )
    cols = [
        "metric",
        "baseline",
        "variant",
        "n_paired",
        "mean_baseline",
        "mean_variant",
        "diff",
        "ci_low",
        "ci_high",
        "unpaired_ci_low",
        "unpaired_ci_high",
        "clear",
    ]
    return pd.DataFrame(rows, columns=cols)


def compare(
    arms: list[Arm],
    replications: int | None,
    seed: int | None,
    out: str | Path,
    execution: Execution = DEFAULT,
) -> Comparison:
    """Run every arm with common random numbers into ``out/arms/<label>/`` and write
    ``comparison.csv`` and ``comparison.json`` (the figures are drawn from these files by
    ``sim.present``)."""
    out = Path(out)
    seed = arms[0].scenario.seed if seed is None else seed
    n = arms[0].scenario.replications if replications is None else replications
    runs: dict[str, pd.DataFrame] = {}
    for arm in arms:
        target = out / "arms" / folder(arm.label)
        run_to_dir(
            arm.scenario,
            target,
            seed=seed,
            replications=n,
            source=arm.source,
            overrides=arm.overrides,
            execution=execution,
        )
        runs[arm.label] = pd.read_parquet(
            target / "runs", columns=["replication", *OUTCOME_COLUMNS]
        )
    table = comparison_table(arms, runs)
    atomic_write_text(out / "comparison.csv", csv_text(table))
    manifest = {
        "kind": "compare",
        "seed": seed,
        "replications": n,
        "baseline": arms[0].label,
        "arms": [
            {
                "label": a.label,
                "scenario": a.scenario.name,
                "file": a.source,
                "overrides": a.overrides,
                "folder": f"arms/{folder(a.label)}",
            }
            for a in arms
        ],
        "files": [
            "comparison.csv",
            "comparison.json",
            *(f"{fig}.{ext}" for fig in FIGURES for ext in ("png", "svg")),
        ],
    }
    atomic_write_text(out / "comparison.json", json.dumps(manifest, indent=2) + "\n")
    return Comparison(arms, runs, table, out)


def format_comparison(table: pd.DataFrame, metrics: Sequence[str] = MAIN_METRICS) -> str:
    lines = [
        f"{'metric':<22}{'variant':<22}{'baseline':>11}{'variant':>11}{'difference':>12}"
        f"{'paired 95% CI':>24}{'unpaired 95% CI':>24}  clear"
    ]
    lines.append("-" * len(lines[0]))
    sub = table[table["metric"].isin(metrics)]
    for _, r in sub.iterrows():
        ci = f"[{r.ci_low:,.2f}, {r.ci_high:,.2f}]"
        uci = f"[{r.unpaired_ci_low:,.2f}, {r.unpaired_ci_high:,.2f}]"
        lines.append(
            f"{r.metric:<22}{str(r.variant)[:21]:<22}{r.mean_baseline:>11,.2f}"
            f"{r.mean_variant:>11,.2f}{r['diff']:>12,.2f}{ci:>24}{uci:>24}  "
            f"{'yes' if r.clear else 'no'}"
        )
    return "\n".join(lines)
