"""Sweeps: run a scenario at many parameter points, with common random numbers.

Every point runs replications ``0 .. n-1`` at the same seed, so replication ``r`` draws the same
random streams at every point and differences between points are not noise between their
random draws (a capture stream untouched by a parameter gives the same captures everywhere).
The points come from ``sim.experiments.designs`` and are all validated before anything runs.
The work is chunks (``ChunkTask(point=i)``) run by ``sim.experiments.runner.execute`` into a
``RunStore``, so a sweep resumes (``resume=True``) and parallelises like ``pxsim run``, and
its files are byte-identical whatever the worker count. Output directory::

    sweep.csv    point x replication: point, one column per parameter, scenario, replication,
                 seed, then every outcome (streamed chunk by chunk)
    points.csv   per point: parameters, then mean, ci_low, ci_high of each main outcome
    indices.csv  sobol / morris only: SALib indices of each outcome's per-point mean
    sweep.json   the manifest; scenario.resolved.yaml the scenario before the sweep's values
"""

from __future__ import annotations

import copy
import json
import math
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.errors import ScenarioError
from sim.experiments.designs import (
    CONF_LEVEL,
    RESAMPLES,
    Design,
    analyse,
    index_columns,
    make_design,
)
from sim.experiments.options import DEFAULT, Execution
from sim.experiments.params import DesignError, ParamSpec, parse_params, type_params
from sim.scenario.loading import load_scenario, loads_scenario, resolved_dict
from sim.scenario.paths import parse_override
from sim.scenario.schema import Scenario
from sim.text import text_table

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiments.chunks import ChunkData
    from sim.experiments.store import RunStore

SWEEP_FILES = ("sweep.csv", "points.csv", "indices.csv", "sweep.json", "scenario.resolved.yaml")
SHOW_METRICS = ("repatriated", "deals", "died", "held_at_end")


@dataclass
class SweepPlan:
    """A validated sweep: the base scenario and one validated scenario per point."""

    base: Scenario
    design: Design
    scenarios: list[Scenario]
    seed: int
    source: str | None = None
    overrides: list[str] = field(default_factory=list)


@dataclass
class SweepReport:
    out: Path
    points: int
    replications: int
    chunks_run: int
    chunks_reused: int
    seconds: float
    backend: str
    workers: int
    summary: pd.DataFrame  # points.csv
    indices: pd.DataFrame | None
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class SweepResult:
    """What ``sim.sweep`` returns: ``table`` (sweep.csv), ``points`` (points.csv), ``indices``
    (indices.csv, sobol/morris only) and ``out``, the directory (None when it was temporary)."""

    table: pd.DataFrame
    points: pd.DataFrame
    indices: pd.DataFrame | None
    out: Path | None
    design: str = ""
    replications: int = 0
    seed: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- planning
def _point_error(exc: ScenarioError, specs: Sequence[ParamSpec], where: str) -> ScenarioError:
    """Name the --param behind a point's validation error (it came in as a --set)."""
    source = exc.source
    for s in specs:
        if source == f"--set {s.path}":
            source = s.label
            break
    return DesignError(f"{exc.detail} ({where})", source=source, line=exc.line, field=exc.field)


def plan_sweep(
    scenario: str | Path | Scenario,
    params: Sequence[str] | Mapping[str, Any],
    *,
    design: str = "lhs",
    points: int | None = 16,
    seed: int | None = None,
    overrides: Sequence[str] | Mapping[str, Any] = (),
) -> SweepPlan:
    """Parse the parameters, make the design and validate every point's scenario.

    Raises ``ScenarioError`` (a ``DesignError`` naming the ``--param`` where one is to blame)
    before anything runs."""
    specs = parse_params(params)
    if isinstance(scenario, Scenario):
        from sim.scenario.loading import resolved_yaml

        text: str | bytes = resolved_yaml(scenario)
        source: str | None = None
        label = f"<{scenario.name}>"
        base = loads_scenario(text, overrides, source=label)
    else:
        source = str(scenario)
        label = source
        base = load_scenario(scenario, overrides)
        text = Path(scenario).read_bytes()
    if isinstance(overrides, Mapping):
        fixed = dict(overrides)
        override_texts = [f"{k}={v}" for k, v in overrides.items()]
    else:
        fixed = dict(parse_override(o) for o in overrides)
        override_texts = list(overrides)
    for s in specs:
        if s.path in fixed:
            raise s.error(f"{s.path} is also fixed with --set; drop one of them")
    specs = type_params(specs, resolved_dict(base))
    for s in specs:  # each value alone first, so an error names the value as given
        ends = s.int_range if s.integer else (s.low, s.high)
        names = s.labels if s.kind == "values" else ("LOW", "HIGH")
        trials = s.values if s.kind == "values" else ends
        for what, value in zip(names, trials, strict=True):
            try:
                loads_scenario(text, {**copy.deepcopy(fixed), s.path: value}, source=label)
            except ScenarioError as exc:
                where = f"the value {what}" if s.kind == "values" else f"{what} = {value:g}"
                raise _point_error(exc, specs, where) from None
    run_seed = base.seed if seed is None else int(seed)
    des = make_design(specs, design, points, run_seed)
    scenarios = []
    for i, values in enumerate(des.values):
        try:
            scenarios.append(loads_scenario(text, {**copy.deepcopy(fixed), **values}, source=label))
        except ScenarioError as exc:
            shown = ", ".join(f"{k}={des.columns[i][k]}" for k in des.paths)
            raise _point_error(exc, specs, f"at sweep point {i}: {shown}") from None
    return SweepPlan(base, des, scenarios, run_seed, source, override_texts)


def sweep_chunk_size(points: int, replications: int) -> int:
    """About 32 chunks or more in all (never depends on the workers), at most one point's
    replications and 500 per chunk: many points give one chunk per point."""
    return max(1, min(500, replications, -(-points * replications // 32)))


# --------------------------------------------------------------------------- running
def run_sweep(
    plan: SweepPlan,
    out: str | Path,
    *,
    replications: int = 100,
    execution: Execution = DEFAULT,
) -> SweepReport:
    """Run every point of ``plan`` into ``out`` and write the sweep's files there."""
    from sim.experiments.chunks import ChunkTask, plan_chunks
    from sim.experiments.runner import RESERVOIR, Progress, chunk_frames, execute, identity_of
    from sim.experiments.store import RunStore
    from sim.model.records import OUTCOME_COLUMNS

    t0 = time.perf_counter()
    des, n = plan.design, int(replications)
    size = execution.chunk_size or sweep_chunk_size(des.points, n)
    extra = {
        "design": des.name,
        "params": [s.text for s in des.specs],
        "design_points": des.k,
        "points": des.points,
        "design_hash": des.digest(),
        "replications_per_point": n,
    }
    store = RunStore(out)
    ident = store.open(
        identity_of(plan.base, plan.seed, size, kind="sweep", extra=extra),
        resume=execution.resume,
        force=execution.force,
    )
    size = int(ident["chunk_size"])
    store.clean_temporaries()
    done = {(c.point, c.start, c.stop) for c in store.finished()}
    tasks = [
        ChunkTask(scn, plan.seed, a, b, RESERVOIR, point=i)
        for i, scn in enumerate(plan.scenarios)
        for a, b in plan_chunks(0, n, size)
        if (i, a, b) not in done
    ]
    bar = Progress(des.points * n, execution.progress, f"{plan.base.name} sweep")
    bar.update(sum(b - a for _, a, b in done))
    order = ["point", *des.paths, "scenario", "replication", "seed", *OUTCOME_COLUMNS]

    def frames(data: ChunkData) -> tuple[pd.DataFrame, pd.DataFrame]:
        cols = {"point": data.point, **des.columns[data.point]}
        runs, parties = chunk_frames(data, cols)
        return runs[order], parties

    try:
        name, nworkers = execute(
            tasks,
            store,
            frames,
            execution=execution,
            progress=bar,
        )
    finally:
        bar.close()
    summary, indices, skipped = finish_sweep(store, plan, n)
    total = des.points * len(plan_chunks(0, n, size))
    return SweepReport(
        Path(out),
        des.points,
        n,
        len(tasks),
        total - len(tasks),
        time.perf_counter() - t0,
        name,
        nworkers,
        summary,
        indices,
        skipped,
        list(des.notes),
    )


def _point_outcomes(store: RunStore, chunks: list[Any], n: int, point: int) -> np.ndarray:
    import pyarrow.parquet as pq

    from sim.model.records import OUTCOME_COLUMNS

    covered = sum(c.stop - c.start for c in chunks)
    if covered != n:
        raise RuntimeError(f"sweep point {point}: only {covered} of {n} replications on disk")
    table = pq.ParquetDataset([str(c.runs) for c in chunks]).read(columns=list(OUTCOME_COLUMNS))
    return np.column_stack([table.column(m).to_numpy() for m in OUTCOME_COLUMNS]).astype(float)


def finish_sweep(
    store: RunStore, plan: SweepPlan, n: int
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, str]]:
    """Write sweep.csv, points.csv, indices.csv, sweep.json and scenario.resolved.yaml."""
    import pandas as pd
    import scipy

    from sim.atomic import atomic_write_text
    from sim.experiments.store import csv_text, stream_csv
    from sim.model.records import OUTCOME_COLUMNS
    from sim.results.summary import MAIN_METRICS, summarise
    from sim.scenario.loading import resolved_yaml, scenario_hash
    from sim.version import __version__

    des, out = plan.design, store.out
    by_point: dict[int, list[Any]] = {}
    for c in store.finished():
        by_point.setdefault(c.point, []).append(c)
    means = np.full((des.points, len(OUTCOME_COLUMNS)), np.nan)
    rows = []
    for i in range(des.points):
        values = _point_outcomes(store, by_point.get(i, []), n, i)
        row: dict[str, Any] = {"point": i, **des.columns[i]}
        for j, metric in enumerate(OUTCOME_COLUMNS):
            col = values[:, j]
            col = col[~np.isnan(col)]
            if len(col):
                means[i, j] = col.mean()
            if metric in MAIN_METRICS:
                stats = summarise(values[:, j])
                row.update({f"{metric}_{k}": stats[k] for k in ("mean", "ci_low", "ci_high")})
        rows.append(row)
    summary = pd.DataFrame(rows)
    files = ["sweep.csv", "points.csv"]
    stream_csv(store, "runs", out / "sweep.csv")
    atomic_write_text(out / "points.csv", csv_text(summary))
    indices: pd.DataFrame | None = None
    skipped: dict[str, str] = {}
    if des.name in ("sobol", "morris"):
        outputs = {m: means[:, j] for j, m in enumerate(OUTCOME_COLUMNS)}
        found, skipped = analyse(des, outputs, plan.seed)
        indices = pd.DataFrame(found, columns=list(index_columns(des.name)))
        atomic_write_text(out / "indices.csv", csv_text(indices))
        files.append("indices.csv")
    files += ["sweep.json", "scenario.resolved.yaml"]
    manifest: dict[str, Any] = {
        "tool": "pxsim",
        "version": __version__,
        "kind": "sweep",
        "design": des.name,
        "design_points": des.k,
        "points": des.points,
        "params": [s.describe() for s in des.specs],
        "replications": n,
        "seed": plan.seed,
        "common_random_numbers": "every point runs replications 0..n-1 at this seed",
        "scenario": plan.base.name,
        "scenario_file": plan.source,
        "scenario_hash": scenario_hash(plan.base),
        "overrides": plan.overrides,
        "random_streams": "Generator(PCG64(SeedSequence([seed, replication, stable_key(name)])))",
        "files": files,
        "parquet": {"runs": "runs/", "parties": "parties/"},
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
    if des.name in ("sobol", "morris"):
        from importlib.metadata import version

        manifest["SALib"] = version("SALib")
        manifest["indices"] = {
            "of": "per-point mean of each outcome",
            "method": f"SALib.analyze.{des.name}.analyze",
            "num_resamples": RESAMPLES,
            "conf_level": CONF_LEVEL,
            "skipped": skipped,
        }
        if des.name == "sobol":
            manifest["indices"]["calc_second_order"] = True
    if des.notes:
        manifest["notes"] = list(des.notes)
    atomic_write_text(out / "sweep.json", json.dumps(manifest, indent=2) + "\n")
    atomic_write_text(out / "scenario.resolved.yaml", resolved_yaml(plan.base))
    return summary, indices, skipped


# --------------------------------------------------------------------------- presentation
def _fmt(x: Any) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, bool | np.bool_):
        return "true" if x else "false"
    v = float(x)
    if not math.isfinite(v):
        return "—"
    if float(v).is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def format_points(summary: pd.DataFrame, paths: Sequence[str], limit: int = 20) -> str:
    """Points with their parameters and the mean of a few main outcomes."""
    header = ["point", *paths, *(f"{m} (mean)" for m in SHOW_METRICS)]
    rows = []
    for _, r in summary.head(limit).iterrows():
        cells = [str(int(r["point"])), *(_fmt(r[p]) for p in paths)]
        cells += [_fmt(r[f"{m}_mean"]) for m in SHOW_METRICS]
        rows.append(cells)
    text = text_table(header, rows, left=0)
    if len(summary) > limit:
        text += f"\n... {len(summary) - limit} more point(s) in points.csv"
    return text


def format_indices(indices: pd.DataFrame, design: str, metrics: Sequence[str]) -> str:
    """The sensitivity indices of ``metrics``, one row per metric and parameter."""
    sub = indices[indices["metric"].isin(list(metrics))]
    if design == "sobol":
        header = ["metric", "parameter", "S1", "±", "ST", "±"]
        keys = ["S1", "S1_conf", "ST", "ST_conf"]
    else:
        header = ["metric", "parameter", "mu_star", "±", "mu", "sigma"]
        keys = ["mu_star", "mu_star_conf", "mu", "sigma"]
    rows = [
        [str(r["metric"]), str(r["parameter"]), *(f"{r[k]:.3g}" for k in keys)]
        for _, r in sub.iterrows()
    ]
    if not rows:
        return "(no indices for the main outcomes: each is constant or undefined at some point)"
    return text_table(header, rows, left=2)
