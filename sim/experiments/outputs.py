"""Writing the output contract for results already in memory (a ``Batch`` from
``run_replications``), through the same store and assembly as ``pxsim run``.

``runs.csv``, ``parties.csv``, ``timeseries.csv``, ``summary.csv``, ``manifest.json`` and
``scenario.resolved.yaml`` (plus the Parquet parts), each written atomically; nothing depends
on the clock, so the same seed gives byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.experiments.chunks import ChunkBuilder
from sim.experiments.runner import RESERVOIR, chunk_frames, finalize, identity_of
from sim.experiments.store import CONTRACT, RunStore, timeseries_frame_from_store
from sim.model.records import Batch

OUTPUT_FILES = CONTRACT


def write_outputs(
    out_dir: str | Path,
    batch: Batch,
    *,
    source: str | None = None,
    overrides: list[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Write the output contract for ``batch`` into ``out_dir`` (replacing what a previous run
    left there); return the frames written."""
    if not batch.runs:
        raise ValueError("the batch has no replications")
    scn = batch.scenario
    first = batch.runs[0].replication
    store = RunStore(out_dir)
    store.open(identity_of(scn, batch.seed, len(batch.runs)), resume=False, force=True)
    builder = ChunkBuilder(scn, batch.seed, first, first + len(batch.runs), RESERVOIR)
    for res in batch.runs:
        builder.add(res)
    data = builder.build()
    runs, parties = chunk_frames(data)
    store.write_chunk(data, runs, parties)
    summary = finalize(
        store,
        scn,
        batch.seed,
        first + len(batch.runs),
        source=source,
        overrides=overrides or [],
        precision=None,
        first=first,
    )
    return {
        "runs": runs,
        "parties": parties,
        "timeseries": timeseries_frame_from_store(store, scn.start_date, -1),
        "summary": summary,
    }
