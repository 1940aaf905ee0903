"""Answers to "will they go home, and when?" from the runs of a scenario.

The seed question (``seeds/kursk_2025.md``) asks how likely an exchange of North Korean
prisoners is within 3, 6 and 12 months, and what becomes of those who do not want to go home.
These functions answer such questions from ``RunResult``s of
``sim.run_replications(scenario, seed, n, keep_events=True)`` (the events are needed):

- ``first_transfer_day(run, nationality, destination)``: the day the first prisoner of a
  nationality was handed over to a destination in an executed deal (NaN if never);
- ``probability_by(days, first_days)``: the share of runs where it happened by each day, with a
  binomial 95% interval (Wilson, or exact Clopper–Pearson);
- ``share_without(first_days, days)``: the same read the other way round, day by day, as a
  survival-style curve (share of runs still without one);
- ``paired_difference(first_a, first_b, day)``: how much more likely by ``day`` in variant b
  than in a, from runs paired by replication (common random numbers);
- ``describe_chance(p, low, high, ruled_out)``: such a probability in words: "6.8% [4.9–9.4%]",
  or, where the scenario's assumptions rule the event out in every run
  (``sim.results.impossible.impossible``), that no run can have it and why, not "0% [0–0.8%]";
- ``held_on(run, nationality, day)``: of that nationality's prisoners held at the start (the
  two of the seed case), how many were still held on a day (runs kept with their prisoners);
- ``fates(run, nationality)``: what became of that nationality's prisoners by the horizon
  (sent home by a deal or otherwise, resettled by the holder's asylum or by a deal with a third
  country, died, still held); ``fates_table`` makes one row per run of both, and
  ``fates_summary`` pools them over runs.

Pure numpy/pandas on run results: nothing here runs a simulation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from sim.model.records import RunResult
from sim.results.impossible import Impossible
from sim.results.impossible import impossible as impossible  # for notebooks, which import this

Event = tuple[float, str, Mapping[str, Any]]
Method = Literal["wilson", "exact"]

FATES = (
    "repatriated_by_deal",
    "repatriated_other",
    "resettled_by_holder",
    "resettled_by_deal",
    "died",
    "held",
    "in_custody",
)
"""The fates of ``fates``: they add up to ``total``, the prisoners present in the run."""


def _events(run: RunResult | Iterable[Event]) -> Iterable[Event]:
    return run.events if isinstance(run, RunResult) else run


def _moves(run: RunResult | Iterable[Event]) -> Iterable[Event]:
    """The events that move people: a deal's stages where it had them, else its execution."""
    events = list(_events(run))
    staged = {data.get("deal") for _, kind, data in events if kind == "stage"}
    for day, kind, data in events:
        if kind == "stage" or (kind == "executed" and data.get("deal") not in staged):
            yield day, kind, data


def transfers(run: RunResult | Iterable[Event], nationality: str | None = None) -> pd.DataFrame:
    """Every prisoner moved by a deal (stage by stage where it went in stages), one row per
    transfer line with a nonzero count: ``day, deal, holder, nationality, destination, count``
    (optionally one nationality's)."""
    rows = [
        (float(day), data.get("deal"), holder, nat, dest, int(count))
        for day, _kind, data in _moves(run)
        for holder, nat, dest, count in data.get("transfers", ())
        if count > 0 and (nationality is None or nat == nationality)
    ]
    return pd.DataFrame(
        rows, columns=["day", "deal", "holder", "nationality", "destination", "count"]
    )


def first_transfer_day(
    run: RunResult | Iterable[Event], nationality: str, destination: str | None = None
) -> float:
    """Day of the first executed deal that moved at least one prisoner of ``nationality`` to
    ``destination`` (default: home, ``destination == nationality``); NaN if none did.

    ``run`` is a ``RunResult`` recorded with events, or its ``events`` list of
    ``(day, kind, data)``; only deals carried out count, at the stage that moved the prisoner
    where the deal went in stages (agreed deals that collapse, or lines that moved nobody
    because the prisoners were no longer there, do not)."""
    dest = nationality if destination is None else destination
    first = math.inf
    for day, _kind, data in _moves(run):
        if day >= first:
            continue
        for _holder, nat, to, count in data.get("transfers", ()):
            if nat == nationality and to == dest and count > 0:
                first = float(day)
                break
    return first if math.isfinite(first) else math.nan


def binomial_interval(
    successes: np.ndarray | int,
    trials: np.ndarray | int,
    confidence: float = 0.95,
    method: Method = "wilson",
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided interval of a binomial proportion, elementwise: Wilson score (the default)
    or exact Clopper–Pearson. Trials of 0 give NaN."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    alpha = 1.0 - confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "wilson":
            z = float(stats.norm.ppf(1.0 - alpha / 2.0))
            p = k / n
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
            low, high = np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
            low = np.where(k == 0, 0.0, low)  # exact at the edges (rounding)
            high = np.where(k == n, 1.0, high)
        elif method == "exact":
            low = np.where(k == 0, 0.0, stats.beta.ppf(alpha / 2, k, n - k + 1))
            high = np.where(k == n, 1.0, stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
        else:
            raise ValueError(f"method must be 'wilson' or 'exact', got {method!r}")
    bad = n <= 0
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def probability_by(
    days: Sequence[float] | np.ndarray,
    first_days: Sequence[float] | np.ndarray | pd.Series,
    *,
    confidence: float = 0.95,
    method: Method = "wilson",
) -> pd.DataFrame:
    """For each day in ``days``: in how many of the runs (one first day per run, NaN for runs
    where it never happened) it had happened by that day, that share and its binomial interval.

    Columns ``day, runs, happened, p, ci_low, ci_high``."""
    first = np.asarray(first_days, dtype=float)
    n = len(first)
    d = np.asarray(days, dtype=float)
    hit = np.array([int(np.sum(first <= day)) for day in d], dtype=np.int64)  # NaN <= x: False
    low, high = binomial_interval(hit, n, confidence, method)
    return pd.DataFrame(
        {
            "day": d,
            "runs": n,
            "happened": hit,
            "p": hit / n if n else np.full(len(d), np.nan),
            "ci_low": low,
            "ci_high": high,
        }
    )


def share_without(
    first_days: Sequence[float] | np.ndarray | pd.Series,
    days: Sequence[float] | np.ndarray,
    *,
    confidence: float = 0.95,
    method: Method = "wilson",
) -> pd.DataFrame:
    """Survival-style: the share of runs in which it has *not* happened by each day, with its
    binomial interval. Every run is followed to the same horizon, so there is no censoring and
    this is just ``1 - probability_by``. Columns ``day, runs, without, share, ci_low, ci_high``."""
    by = probability_by(days, first_days, confidence=confidence, method=method)
    return pd.DataFrame(
        {
            "day": by["day"],
            "runs": by["runs"],
            "without": by["runs"] - by["happened"],
            "share": 1.0 - by["p"],
            "ci_low": 1.0 - by["ci_high"],
            "ci_high": 1.0 - by["ci_low"],
        }
    )


def percent(x: float) -> str:
    """A share as the tables write it: one decimal under 10% ("6.8%"), none above ("58%")."""
    return f"{100 * x:.1f}%" if 0 < x < 0.1 else f"{100 * x:.0f}%"


def describe_chance(
    p: float, ci_low: float, ci_high: float, ruled_out: Impossible | None = None
) -> str:
    """A probability estimated from runs, with its interval: "6.8% [4.9–9.4%]". If the
    scenario's assumptions rule the event out (``impossible``), it is no estimate: "no run can
    (" + the assumptions + ")". Runs that had it although it is ruled out are an error."""
    if ruled_out is None:
        return f"{percent(p)} [{percent(ci_low).rstrip('%')}–{percent(ci_high)}]"
    if p > 0:
        raise ValueError(f"{100 * p:g}% of runs had what the scenario rules out: {ruled_out}")
    return f"no run can ({ruled_out})"


def paired_difference(
    first_a: Sequence[float] | np.ndarray | pd.Series,
    first_b: Sequence[float] | np.ndarray | pd.Series,
    day: float,
    *,
    confidence: float = 0.95,
) -> dict[str, float]:
    """Difference ``P_b - P_a`` of "happened by ``day``" between two variants whose runs are
    paired (run ``i`` of both used the same seed and replication index), with a normal 95%
    interval from the per-run differences (as ``sim.compare`` does for every metric). Also the
    discordant counts: runs where it happened only in a, only in b.

    Keys ``p_a, p_b, diff, ci_low, ci_high, only_a, only_b, runs``."""
    a = np.asarray(first_a, dtype=float) <= day
    b = np.asarray(first_b, dtype=float) <= day
    if len(a) != len(b) or not len(a):
        raise ValueError(f"need paired runs of equal, nonzero length, got {len(a)} and {len(b)}")
    d = b.astype(float) - a.astype(float)
    n = len(d)
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    half = z * float(d.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    mean = float(d.mean())
    return {
        "p_a": float(a.mean()),
        "p_b": float(b.mean()),
        "diff": mean,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "only_a": float(np.sum(a & ~b)),
        "only_b": float(np.sum(b & ~a)),
        "runs": float(n),
    }


def _party_row(run: RunResult, party: str) -> Mapping[str, Any]:
    for row in run.parties:
        if row["party"] == party:
            return row
    raise KeyError(f"{party!r} is not a party of scenario {run.scenario!r}")


def held_on(run: RunResult, nationality: str, day: float) -> tuple[int, int]:
    """Of the prisoners of ``nationality`` held at the start of ``run``, how many were still
    held on ``day`` (not yet sent home, resettled or dead), and how many there were. Needs the
    run's prisoner table (``keep_prisoners=True``)."""
    p = run.prisoners
    if not p:
        raise ValueError("held_on needs runs kept with their prisoners (keep_prisoners=True)")
    ids = [row["party"] for row in run.parties]  # in the order of the prisoner table's codes
    if nationality not in ids:
        raise KeyError(f"{nationality!r} is not a party of scenario {run.scenario!r}")
    code = ids.index(nationality)
    start = (p["nat"] == code) & (p["source"] < 0)
    return int((start & (p["t_exit"] > day)).sum()), int(start.sum())


def fates(run: RunResult, nationality: str) -> dict[str, int]:
    """What became of the prisoners of ``nationality`` present in ``run`` (held at the start or
    captured by the horizon), as of the horizon:

    - ``repatriated_by_deal``: sent home in an executed deal;
    - ``repatriated_other``: sent home otherwise (humanitarian release);
    - ``resettled_by_deal``: handed to a third country that takes them in, in a deal;
    - ``resettled_by_holder``: granted asylum by the party holding them (the rest of resettled);
    - ``died``: died in custody; ``held``: still held;
    - ``in_custody``: in neutral custody (``sim.model.custody``) at the horizon; those who left
      it are counted by their choice (home in ``repatriated_other``, staying or a third
      country in ``resettled_by_holder``);
    - ``total``: all of them (the seven add up to it).

    Uses the run's events (executed deals), per-party accounting and captivity life tables, so
    the run must have been recorded with ``keep_events=True`` for the ``by_deal`` split."""
    row = _party_row(run, nationality)
    total = int(
        sum(
            int(t.entered.sum()) for (nat, _cat), t in run.life_tables.items() if nat == nationality
        )
    )
    moved = transfers(run, nationality)
    home = moved["destination"] == nationality
    repatriated = int(row["repatriated_home"])
    died = int(row["own_died"])
    held = int(row["own_still_held"])
    in_custody = int(row.get("own_in_custody", 0))
    by_deal_home = int(moved.loc[home, "count"].sum())
    by_deal_away = int(moved.loc[~home, "count"].sum())
    resettled = total - repatriated - died - held - in_custody
    return {
        "total": total,
        "repatriated_by_deal": by_deal_home,
        "repatriated_other": repatriated - by_deal_home,
        "resettled_by_holder": resettled - by_deal_away,
        "resettled_by_deal": by_deal_away,
        "died": died,
        "held": held,
        "in_custody": in_custody,
    }


def fates_table(
    runs: Iterable[RunResult], nationality: str, destination: str | None = None
) -> pd.DataFrame:
    """One row per run: ``replication``, ``first_day`` (``first_transfer_day`` to
    ``destination``, default home) and the counts of ``fates``. Small enough to keep for
    thousands of runs, so batches of runs can be reduced to it as they finish."""
    rows = [
        {
            "replication": run.replication,
            "first_day": first_transfer_day(run, nationality, destination),
            **fates(run, nationality),
        }
        for run in runs
    ]
    columns = ["replication", "first_day", "total", *FATES]
    return pd.DataFrame(rows, columns=columns)


def fates_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Pool a ``fates_table`` (or several, with a ``variant`` column) over runs: per fate, the
    mean number per run and the share of all prisoners (pooled over runs) it accounts for.

    Columns ``[variant,] fate, mean_per_run, share``; a last row ``total`` per variant has the
    mean number of prisoners per run and share 1."""
    keys = ["variant"] if "variant" in table.columns else []
    out = []
    groups = table.groupby(keys, sort=False) if keys else [((), table)]
    for key, sub in groups:
        total = float(sub["total"].sum())
        label = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        for fate in (*FATES, "total"):
            count = float(sub[fate].sum())
            out.append(
                {
                    **label,
                    "fate": fate,
                    "mean_per_run": count / len(sub) if len(sub) else math.nan,
                    "share": count / total if total else math.nan,
                }
            )
    return pd.DataFrame(out, columns=[*keys, "fate", "mean_per_run", "share"])
