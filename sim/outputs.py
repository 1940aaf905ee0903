"""Writing the output contract of DESIGN.md to a directory, atomically and reproducibly.

``runs.csv``, ``parties.csv``, ``timeseries.csv``, ``summary.csv``, ``manifest.json`` and
``scenario.resolved.yaml``. Every file is written to a temporary name in the same directory
and moved into place, so a reader never sees a half-written file; nothing in them depends on
the clock, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simpy

from sim import __version__
from sim.experiment import Batch
from sim.results import parties_frame, runs_frame, summary_frame, timeseries_frame
from sim.scenario import resolved_yaml, scenario_hash

OUTPUT_FILES = (
    "runs.csv",
    "parties.csv",
    "timeseries.csv",
    "summary.csv",
    "manifest.json",
    "scenario.resolved.yaml",
)


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def csv_text(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, lineterminator="\n", float_format="%.10g")


def manifest(batch: Batch, source: str | None, overrides: list[str]) -> dict[str, Any]:
    scn = batch.scenario
    return {
        "tool": "pxsim",
        "version": __version__,
        "scenario": scn.name,
        "scenario_file": source,
        "scenario_hash": scenario_hash(scn),
        "overrides": overrides,
        "seed": batch.seed,
        "replications": batch.replications,
        "first_replication": batch.runs[0].replication if batch.runs else 0,
        "horizon_days": scn.horizon,
        "start_date": scn.start_date.isoformat(),
        "random_streams": "Generator(PCG64(SeedSequence([seed, replication, stable_key(name)])))",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "simpy": simpy.__version__,
        "files": list(OUTPUT_FILES),
    }


def write_outputs(
    out_dir: str | Path,
    batch: Batch,
    *,
    source: str | None = None,
    overrides: list[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Write the output contract for ``batch`` into ``out_dir``; return the frames written."""
    out = Path(out_dir)
    runs = runs_frame(batch)
    frames = {
        "runs": runs,
        "parties": parties_frame(batch),
        "timeseries": timeseries_frame(batch),
        "summary": summary_frame(runs),
    }
    texts = {f"{k}.csv": csv_text(v) for k, v in frames.items()}
    texts["manifest.json"] = json.dumps(manifest(batch, source, overrides or []), indent=2) + "\n"
    texts["scenario.resolved.yaml"] = resolved_yaml(batch.scenario)
    for name in OUTPUT_FILES:
        atomic_write(out / name, texts[name])
    return frames
