"""The Python API for experiments: ``sim.run`` (a scenario, many replications, on all cores).

It does what ``pxsim run`` does, into ``out`` or a temporary directory, and returns the
results as DataFrames. Safe from notebooks (workers are started with ``spawn``); in a script,
call it under ``if __name__ == "__main__":`` so worker processes can import the script.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.runner import Precision, RunReport, run_to_dir
from sim.scenario.loading import load_scenario, loads_scenario
from sim.scenario.schema import Scenario


@dataclass
class RunOutput:
    """Results of ``sim.run``: the output contract as DataFrames, and how the run went."""

    runs: pd.DataFrame
    parties: pd.DataFrame
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    report: RunReport
    out: Path | None


def as_scenario(scenario: Scenario | str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """A Scenario from a Scenario, a YAML file path or YAML text (with ``--set`` overrides)."""
    if isinstance(scenario, Scenario):
        if overrides:
            from sim.scenario.loading import resolved_yaml

            return loads_scenario(resolved_yaml(scenario), list(overrides), source=scenario.name)
        return scenario
    text = str(scenario)
    if "\n" in text:
        return loads_scenario(text, list(overrides))
    return load_scenario(Path(text), list(overrides))


def run(
    scenario: Scenario | str | Path,
    replications: int | None = None,
    seed: int | None = None,
    *,
    workers: int | None = None,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    until: tuple[str, float] | None = None,
    **options: Any,
) -> RunOutput:
    """Run ``replications`` of ``scenario`` (Scenario, path or YAML text) and return the
    results. ``options`` are those of ``sim.experiments.runner.run_to_dir`` (chunk_size, backend,
    scheduler, resume, force, progress, max_replications)."""
    scn = as_scenario(scenario, overrides)
    precision = Precision(*until) if until else None
    with tempfile.TemporaryDirectory(prefix="pxsim-") as scratch:
        target = Path(out) if out is not None else Path(scratch)
        report = run_to_dir(
            scn,
            target,
            seed=seed,
            replications=replications,
            workers=workers,
            until=precision,
            overrides=list(overrides),
            **options,
        )
        frames = {
            name: pd.read_csv(target / f"{name}.csv", keep_default_na=True)
            for name in ("runs", "parties", "timeseries")
            if (target / f"{name}.csv").exists()
        }
        if "runs" not in frames:  # very large runs: no CSV, read the Parquet parts
            frames["runs"] = pd.read_parquet(target / "runs")
            frames["parties"] = pd.read_parquet(target / "parties")
    return RunOutput(
        frames["runs"],
        frames["parties"],
        frames.get("timeseries", pd.DataFrame()),
        report.summary,
        report,
        Path(out) if out is not None else None,
    )
