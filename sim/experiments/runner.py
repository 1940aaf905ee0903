"""Running an experiment to disk: plan chunks, skip finished ones, run the rest on a backend,
write each as it finishes, then assemble the output contract.

This is what ``pxsim run`` and ``sim.run`` do. Interrupting (Ctrl-C, SIGTERM, or the process
being killed) leaves the finished chunks on disk; ``resume=True`` continues from them and the
final files are identical to an uninterrupted run's. ``until`` keeps adding replications until
a metric's 95% interval is narrow enough.
"""

from __future__ import annotations

import json
import math
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simpy

from sim.atomic import atomic_write_text
from sim.experiments.backends import run_tasks
from sim.experiments.chunks import (
    CHANNEL_COUNTS,
    PARTY_VALUES,
    ChunkData,
    ChunkTask,
    default_chunk_size,
    plan_chunks,
)
from sim.experiments.options import DEFAULT, Execution
from sim.experiments.store import (
    RUNS_CSV_LIMIT,
    ChunkFiles,
    RunStore,
    csv_text,
    life_tables_from_store,
    stream_csv,
    summary_frame_from_store,
    sums_from_store,
    timeseries_frame_from_store,
)
from sim.model.records import FORMAT_COLUMNS, OUTCOME_COLUMNS
from sim.results.summary import summarise
from sim.results.survival import captivity_tables
from sim.scenario.loading import resolved_yaml, scenario_hash
from sim.scenario.schema import Scenario
from sim.version import __version__

RESERVOIR = 2000


@dataclass
class Precision:
    """Stop when the 95% interval of ``metric`` has half-width at most ``halfwidth``."""

    metric: str
    halfwidth: float


@dataclass
class RunReport:
    out: Path
    replications: int
    chunks_run: int
    chunks_reused: int
    seconds: float
    backend: str
    workers: int
    summary: pd.DataFrame
    precision: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def chunk_frames(
    data: ChunkData, extra: dict[str, Any] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A chunk's per-replication rows as (runs, parties) frames, with optional extra columns
    (sweep parameters) placed after ``scenario, replication, seed``."""
    reps = np.arange(data.start, data.stop)
    runs: dict[str, Any] = {"scenario": data.scenario, "replication": reps, "seed": data.seed}
    if extra:
        runs.update(extra)
    for j, name in enumerate(OUTCOME_COLUMNS):
        runs[name] = data.outcomes[:, j]
    n, p = data.parties.shape[:2]
    parties: dict[str, Any] = {"scenario": data.scenario, "replication": np.repeat(reps, p)}
    if extra:
        parties.update(extra)
    parties["party"] = np.tile(np.array(data.party_ids, dtype=object), n)
    for j, name in enumerate(PARTY_VALUES):
        parties[name] = data.parties[:, :, j].reshape(-1)
    return pd.DataFrame(runs), pd.DataFrame(parties)


class Progress:
    """A progress bar on stderr (tqdm) with elapsed time and an estimate; silent if off."""

    def __init__(self, total: int, enabled: bool, desc: str) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                unit="rep",
                desc=desc,
                file=sys.stderr,
                dynamic_ncols=True,
                smoothing=0.1,
            )

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def grow(self, total: int) -> None:
        if self.bar is not None:
            self.bar.total = total
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def identity_of(
    scn: Scenario,
    seed: int,
    chunk_size: int,
    kind: str = "run",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    ident = {
        "kind": kind,
        "scenario": scn.name,
        "scenario_hash": scenario_hash(scn),
        "seed": seed,
        "chunk_size": chunk_size,
        "reservoir": RESERVOIR,
        "created_by": f"pxsim {__version__}",
    }
    if extra:
        ident.update(extra)
    return ident


def execute(
    tasks: Sequence[ChunkTask],
    store: RunStore,
    frames: Callable[[ChunkData], tuple[pd.DataFrame, pd.DataFrame]],
    *,
    execution: Execution,
    progress: Progress,
) -> tuple[str, int]:
    """Run ``tasks`` on a backend, writing each chunk as it finishes."""

    def on_result(data: ChunkData) -> None:
        runs, parties = frames(data)
        store.write_chunk(data, runs, parties)
        progress.update(data.n)

    return run_tasks(tasks, on_result, execution=execution)


def run_to_dir(
    scn: Scenario,
    out: str | Path,
    *,
    seed: int | None = None,
    replications: int | None = None,
    execution: Execution = DEFAULT,
    until: Precision | None = None,
    max_replications: int = 100_000,
    source: str | None = None,
    overrides: Sequence[str] = (),
) -> RunReport:
    """Run replications of ``scn`` into ``out`` and write the output contract there."""
    t0 = time.perf_counter()
    seed = scn.seed if seed is None else int(seed)
    n = scn.replications if replications is None else int(replications)
    store = RunStore(out)
    size = execution.chunk_size or default_chunk_size(n)
    ident = store.open(identity_of(scn, seed, size), resume=execution.resume, force=execution.force)
    size = int(ident["chunk_size"])
    store.clean_temporaries()
    done = {(c.start, c.stop) for c in store.finished(-1)}
    bar = Progress(n, execution.progress, scn.name)
    bar.update(sum(b - a for a, b in done if b <= n))
    ran = 0
    name, nworkers = execution.backend, execution.workers or 0
    precision: dict[str, Any] | None = None

    def frames(data: ChunkData) -> tuple[pd.DataFrame, pd.DataFrame]:
        return chunk_frames(data)

    try:
        target = n
        while True:
            todo = [
                ChunkTask(scn, seed, a, b, RESERVOIR)
                for a, b in plan_chunks(0, target, size)
                if (a, b) not in done
            ]
            name, nworkers = execute(
                todo,
                store,
                frames,
                execution=execution,
                progress=bar,
            )
            ran += len(todo)
            done |= {(t.start, t.stop) for t in todo}
            if until is None:
                break
            values = store.column(until.metric)
            stats = summarise(values)
            half = float(stats["ci_high"] - stats["ci_low"]) / 2 if stats["n"] else math.inf
            precision = {
                "metric": until.metric,
                "target_halfwidth": until.halfwidth,
                "halfwidth": half,
                "replications": int(stats["n"]),
                "reached": bool(half <= until.halfwidth),
            }
            if half <= until.halfwidth or target >= max_replications:
                break
            # the half-width shrinks like 1/sqrt(n): aim a little past the target
            grow = (half / until.halfwidth) ** 2 * 1.1 if math.isfinite(half) else 2.0
            target = min(max_replications, max(target + size, math.ceil(target * grow)))
            target = math.ceil(target / size) * size if target < max_replications else target
            bar.grow(target)
        n = target
    finally:
        bar.close()
    summary = finalize(store, scn, seed, n, source=source, overrides=overrides, precision=precision)
    notes = []
    if n > RUNS_CSV_LIMIT:
        notes.append(
            f"{n} replications: runs.csv and parties.csv are not written above "
            f"{RUNS_CSV_LIMIT:,} rows; read {out}/runs (Parquet) instead"
        )
    return RunReport(
        Path(out),
        n,
        ran,
        len(done) - ran,
        time.perf_counter() - t0,
        name,
        nworkers,
        summary,
        precision,
        notes,
    )


def finalize(
    store: RunStore,
    scn: Scenario,
    seed: int,
    n: int,
    *,
    source: str | None,
    overrides: Sequence[str],
    precision: dict[str, Any] | None,
    first: int = 0,
) -> pd.DataFrame:
    """Assemble the output contract from the finished chunks of replications first..n-1."""
    out = store.out
    chunks = [c for c in store.finished(-1) if c.stop <= n]
    covered = sum(c.stop - c.start for c in chunks)
    if covered != n - first:
        raise RuntimeError(f"only {covered} of {n - first} replications are on disk")
    n_reps = n - first
    files = ["summary.csv", "timeseries.csv", "manifest.json", "scenario.resolved.yaml"]
    if n_reps <= RUNS_CSV_LIMIT:
        stream_csv(store, "runs", out / "runs.csv", -1, chunks)
        stream_csv(store, "parties", out / "parties.csv", -1, chunks)
        files = ["runs.csv", "parties.csv", *files]
    summary = summary_frame_from_store(store, -1, chunks)
    atomic_write_text(out / "summary.csv", csv_text(summary))
    atomic_write_text(
        out / "timeseries.csv",
        csv_text(timeseries_frame_from_store(store, scn.start_date, -1, chunks)),
    )
    curves, medians, channels = accounting_frames(store, -1, chunks)
    atomic_write_text(out / "survival.csv", csv_text(curves))
    atomic_write_text(out / "captivity.csv", csv_text(medians))
    atomic_write_text(out / "channels.csv", csv_text(channels))
    files += ["survival.csv", "captivity.csv", "channels.csv"]
    if scn.formats:
        atomic_write_text(out / "formats.csv", csv_text(formats_frame(store, scn, n_reps, chunks)))
        files.append("formats.csv")
    manifest = {
        "tool": "pxsim",
        "version": __version__,
        "scenario": scn.name,
        "scenario_file": source,
        "scenario_hash": scenario_hash(scn),
        "overrides": list(overrides),
        "seed": seed,
        "replications": n_reps,
        "first_replication": first,
        "horizon_days": scn.horizon,
        "start_date": scn.start_date.isoformat(),
        "random_streams": "Generator(PCG64(SeedSequence([seed, replication, stable_key(name)])))",
        "timeseries_quantiles_from_first": min(n_reps, RESERVOIR),
        "parquet": {"runs": "runs/", "parties": "parties/"},
        "python": platform.python_version(),
        "numpy": np.__version__,
        "simpy": simpy.__version__,
        "files": files,
    }
    if precision is not None:
        manifest["precision"] = precision
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    atomic_write_text(out / "scenario.resolved.yaml", resolved_yaml(scn))
    return summary


def formats_frame(
    store: RunStore, scn: Scenario, n: int, chunks: list[ChunkFiles] | None = None
) -> pd.DataFrame:
    """Per format state, means per run: days in it (and the share of the horizon), times
    entered, deals agreed while it held and the people they moved."""
    sums = sums_from_store(store, "format", -1, chunks)
    rows = []
    for fmt in scn.formats:
        for state in fmt.states:
            v = sums.get(f"{fmt.id}.{state.id}", np.zeros(len(FORMAT_COLUMNS)))
            row: dict[str, Any] = {"format": fmt.id, "state": state.id}
            row.update({f"{k}_per_run": v[i] / n for i, k in enumerate(FORMAT_COLUMNS)})
            row["share_of_time"] = v[0] / n / scn.horizon
            rows.append(row)
    return pd.DataFrame(rows)


def accounting_frames(
    store: RunStore, point: int | None, chunks: list[ChunkFiles] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Kaplan–Meier curves, median days held, and talks/deals per channel (means per run)."""
    life, channels, n = life_tables_from_store(store, point, chunks)
    curves, medians = captivity_tables(life)
    rows = []
    for channel in sorted(channels):
        counts = channels[channel]
        rows.append(
            {
                "channel": channel,
                **{f"{k}_per_run": counts[i] / n for i, k in enumerate(CHANNEL_COUNTS)},
                **{f"{k}_total": int(counts[i]) for i, k in enumerate(CHANNEL_COUNTS)},
            }
        )
    columns = [
        "channel",
        *(f"{k}_per_run" for k in CHANNEL_COUNTS),
        *(f"{k}_total" for k in CHANNEL_COUNTS),
    ]
    return curves, medians, pd.DataFrame(rows, columns=columns)
