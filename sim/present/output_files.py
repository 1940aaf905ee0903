"""Reading pxsim output directories (a run's, a comparison's) back into DataFrames for the
figures and the report.

A comparison directory (written by ``sim.experiments.comparison.compare``) holds
``comparison.csv`` (differences against the baseline), ``comparison.json`` (the manifest: the
``arms`` in order, the baseline first, each with its ``label`` and ``folder``) and each arm's
full run output in ``arms/<name>/`` (``runs.csv``, ``timeseries.csv``, ``survival.csv``, …).
``read_comparison`` gives the table, the manifest and the arms (with their colours); the
arms' frames are read when asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.present.style import arm_colors

__all__ = ["ComparisonFiles", "read_comparison", "read_csv_text", "read_runs", "read_timeseries"]


def read_csv_text(path: Path) -> pd.DataFrame:
    """A CSV whose text columns stay text: only empty cells are missing (a nationality code
    such as ``NA`` is not)."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def read_timeseries(path: Path) -> pd.DataFrame:
    """``timeseries.csv``, the holder of rows without one (cumulative series) as ``""``."""
    ts = read_csv_text(path)
    ts["holder"] = ts["holder"].fillna("")
    return ts


def read_runs(run_dir: Path) -> pd.DataFrame:
    """A run's ``runs.csv``, or its Parquet ``runs/`` when the CSV was not written."""
    csv = run_dir / "runs.csv"
    return pd.read_csv(csv) if csv.exists() else pd.read_parquet(run_dir / "runs")


@dataclass(frozen=True)
class ComparisonFiles:
    """A comparison directory: its table, manifest and arms (label -> folder, baseline
    first)."""

    directory: Path
    manifest: dict[str, Any]
    table: pd.DataFrame
    arms: dict[str, Path]

    @property
    def colors(self) -> dict[str, str]:
        """Each arm's colour, the same in every figure of the comparison."""
        return arm_colors(self.arms)

    def _each(self, name: str) -> dict[str, Path] | None:
        paths = {label: folder / name for label, folder in self.arms.items()}
        return paths if all(p.exists() for p in paths.values()) else None

    def timeseries(self) -> dict[str, pd.DataFrame] | None:
        """Each arm's ``timeseries.csv``; ``None`` if an arm has none."""
        paths = self._each("timeseries.csv")
        return None if paths is None else {k: read_timeseries(p) for k, p in paths.items()}

    def survival(self) -> dict[str, pd.DataFrame] | None:
        """Each arm's ``survival.csv``; ``None`` if an arm has none."""
        paths = self._each("survival.csv")
        return None if paths is None else {k: read_csv_text(p) for k, p in paths.items()}

    def runs(self) -> dict[str, pd.DataFrame] | None:
        """Each arm's runs (``runs.csv`` or Parquet ``runs/``); ``None`` if an arm has
        neither."""
        if not all((d / "runs.csv").exists() or (d / "runs").is_dir() for d in self.arms.values()):
            return None
        return {label: read_runs(folder) for label, folder in self.arms.items()}


def read_comparison(directory: str | Path) -> ComparisonFiles:
    """The comparison in ``directory`` (``comparison.json`` and ``comparison.csv``)."""
    d = Path(directory)
    manifest = json.loads((d / "comparison.json").read_text())
    arms = {str(a["label"]): d / str(a["folder"]) for a in manifest["arms"]}
    return ComparisonFiles(d, manifest, pd.read_csv(d / "comparison.csv"), arms)
