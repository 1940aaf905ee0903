"""The output directory of a run or sweep: chunk files as they finish, then the contract.

Layout of ``OUT/``::

    run.json                 identity of the run (scenario hash, seed, chunking...): --resume
                             continues only the same run, --force replaces a different one
    runs/part-*.parquet      per-replication outcomes, one file per finished chunk
    parties/part-*.parquet   replication x party accounting
    series/part-*.npz        time-series sums and the replications kept for quantiles
    runs.csv parties.csv timeseries.csv summary.csv manifest.json scenario.resolved.yaml

Each file is written to a temporary name and renamed, and a chunk's ``runs`` file is written
last, so a chunk counts as finished only when all its files are complete: a run killed at any
moment leaves only whole chunks, and ``--resume`` re-runs the rest. The contract files are
assembled from the chunk files in replication order, one chunk (or one column) at a time, so
memory does not grow with the number of replications, and the bytes do not depend on how the
work was chunked or who ran it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.atomic import atomic_write_text, atomic_write_via
from sim.errors import OutputDirError
from sim.experiments.chunks import PARTY_VALUES, ChunkData
from sim.model.records import OUTCOME_COLUMNS
from sim.results.summary import QUANTILES, summarise

RUN_FILE = "run.json"
CONTRACT = (
    "runs.csv",
    "parties.csv",
    "timeseries.csv",
    "summary.csv",
    "manifest.json",
    "scenario.resolved.yaml",
    "survival.csv",
    "captivity.csv",
    "channels.csv",
)
DATASETS = ("runs", "parties", "series")
RUNS_CSV_LIMIT = 200_000  # rows; beyond this runs.csv / parties.csv are not written


def part_name(point: int, start: int) -> str:
    return f"part-{start:010d}" if point < 0 else f"part-p{point:06d}-{start:010d}"


@dataclass
class ChunkFiles:
    point: int
    start: int
    stop: int
    runs: Path
    parties: Path
    series: Path


class RunStore:
    """One output directory."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)

    # ------------------------------------------------------------------ identity
    def open(self, identity: dict[str, Any], *, resume: bool, force: bool) -> dict[str, Any]:
        """Prepare the directory for ``identity``; returns the identity in force (on resume,
        the stored one, whose chunk size the run must keep)."""
        out = self.out
        if out.exists() and not out.is_dir():
            raise OutputDirError(f"{out}: exists and is not a directory")
        existing = self.identity()
        if existing is not None:
            same = _comparable(existing) == _comparable(identity)
            if same and resume:
                return existing
            if not force:
                if same:
                    raise OutputDirError(
                        f"{out}: already holds this run ({self.finished_count()} chunk(s) "
                        "done); use --resume to continue it or --force to start again"
                    )
                raise OutputDirError(
                    f"{out}: holds a different run ({_describe(existing)}); use --force to "
                    "replace it, or choose another --out"
                )
            self.clear()
        elif out.exists() and any(out.iterdir()):
            if not force:
                raise OutputDirError(
                    f"{out}: is not empty and holds no pxsim run; use --force to write into it"
                )
            self.clear()
        elif resume:
            pass  # nothing to resume: a fresh start
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / RUN_FILE, json.dumps(identity, indent=2, sort_keys=True) + "\n")
        return identity

    def identity(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.out / RUN_FILE).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def clear(self) -> None:
        """Remove what pxsim writes here (and stray temporary files)."""
        for name in DATASETS:
            shutil.rmtree(self.out / name, ignore_errors=True)
        optional = ("formats.csv", "sweep.csv", "points.csv", "indices.csv", "sweep.json")
        for name in (*CONTRACT, RUN_FILE, *optional):
            (self.out / name).unlink(missing_ok=True)

    # ------------------------------------------------------------------ chunks
    def write_chunk(
        self, data: ChunkData, runs_frame: pd.DataFrame, parties_frame: pd.DataFrame
    ) -> None:
        name = part_name(data.point, data.start)
        atomic_write_via(
            self.out / "parties" / f"{name}.parquet",
            lambda p: pq.write_table(pa.Table.from_pandas(parties_frame, preserve_index=False), p),
        )
        arrays: dict[str, np.ndarray] = {
            "grid": data.grid,
            "meta": np.array([data.start, data.stop, data.kept]),
        }
        for key, v in data.series_sum.items():
            arrays["sum|" + "|".join(key)] = v
        for key, v in data.series_kept.items():
            arrays["kept|" + "|".join(key)] = v
        for (nat, cat), v in data.life.items():
            arrays[f"life|{nat}|{cat}"] = v
        for channel, v in data.channels.items():
            arrays[f"channel|{channel}"] = v
        for state, v in data.formats.items():
            arrays[f"format|{state}"] = v

        def save_npz(p: str) -> None:
            with open(p, "wb") as fh:
                np.savez(fh, **arrays)  # type: ignore[arg-type]

        atomic_write_via(self.out / "series" / f"{name}.npz", save_npz)
        # the runs file last: its presence marks the chunk finished
        table = pa.Table.from_pandas(runs_frame, preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), b"pxsim_stop": str(data.stop).encode()}
        )
        atomic_write_via(self.out / "runs" / f"{name}.parquet", lambda p: pq.write_table(table, p))

    def finished(self, point: int | None = None) -> list[ChunkFiles]:
        """Finished chunks in order (of one sweep point, or all)."""
        runs_dir = self.out / "runs"
        if not runs_dir.exists():
            return []
        out = []
        for path in sorted(runs_dir.glob("part-*.parquet")):
            stem = path.stem
            bits = stem.split("-")
            if len(bits) == 3:
                p, start = int(bits[1][1:]), int(bits[2])
            else:
                p, start = -1, int(bits[1])
            if point is not None and p != point:
                continue
            meta = pq.read_schema(path).metadata or {}
            stop = int(meta.get(b"pxsim_stop", b"-1"))
            out.append(
                ChunkFiles(
                    p,
                    start,
                    stop,
                    path,
                    self.out / "parties" / f"{stem}.parquet",
                    self.out / "series" / f"{stem}.npz",
                )
            )
        return out

    def finished_count(self) -> int:
        return len(self.finished())

    def clean_temporaries(self) -> None:
        for d in (self.out, *(self.out / n for n in DATASETS)):
            if d.exists():
                for tmp in d.glob(".*.tmp"):
                    tmp.unlink(missing_ok=True)

    # ------------------------------------------------------------------ reading back
    def column(
        self, metric: str, point: int | None = None, chunks: list[ChunkFiles] | None = None
    ) -> np.ndarray:
        """One outcome column over the finished chunks, in replication order."""
        files = [str(c.runs) for c in (self.finished(point) if chunks is None else chunks)]
        if not files:
            return np.empty(0)
        table = pq.ParquetDataset(files).read(columns=[metric], use_threads=True)
        return table.column(0).to_numpy()

    def iter_frames(
        self, dataset: str, point: int | None = None, chunks: list[ChunkFiles] | None = None
    ) -> Iterator[pd.DataFrame]:
        for c in self.finished(point) if chunks is None else chunks:
            yield pq.read_table(c.runs if dataset == "runs" else c.parties).to_pandas()


def _comparable(identity: dict[str, Any]) -> dict[str, Any]:
    """Identity fields that must match to resume (the replication count may grow; a resumed
    run keeps its stored chunk size)."""
    return {
        k: v for k, v in identity.items() if k not in ("replications", "created_by", "chunk_size")
    }


def _describe(identity: dict[str, Any]) -> str:
    return (
        f"scenario {identity.get('scenario')!r}, hash {identity.get('scenario_hash')}, "
        f"seed {identity.get('seed')}"
    )


# ---------------------------------------------------------------------- assembling the contract
def csv_text(df: pd.DataFrame, header: bool = True) -> str:
    return df.to_csv(index=False, header=header, lineterminator="\n", float_format="%.10g")


def stream_csv(
    store: RunStore,
    dataset: str,
    path: Path,
    point: int | None = None,
    chunks: list[ChunkFiles] | None = None,
) -> int:
    """Concatenate a dataset's chunk files (all finished ones of ``point``, or ``chunks``) into
    one CSV, one chunk in memory at a time."""
    rows = 0

    def write(tmp: str) -> None:
        nonlocal rows
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            first = True
            for frame in store.iter_frames(dataset, point, chunks):
                fh.write(csv_text(frame, header=first))
                first = False
                rows += len(frame)

    atomic_write_via(path, write)
    return rows


def summary_frame_from_store(
    store: RunStore, point: int | None = None, chunks: list[ChunkFiles] | None = None
) -> pd.DataFrame:
    chunks = store.finished(point) if chunks is None else chunks
    rows = [{"metric": m, **summarise(store.column(m, chunks=chunks))} for m in OUTCOME_COLUMNS]
    return pd.DataFrame(
        rows, columns=["metric", "mean", "sd", "ci_low", "ci_high", "p05", "p50", "p95", "n"]
    )


def timeseries_frame_from_store(
    store: RunStore,
    start_date: Any,
    point: int | None = None,
    chunks: list[ChunkFiles] | None = None,
) -> pd.DataFrame:
    """Mean over all replications (from exact integer sums) and quantiles over the kept ones."""
    import datetime as dt

    sums: dict[str, np.ndarray] = {}
    kept: dict[str, list[tuple[int, np.ndarray]]] = {}
    n_total = 0
    n_kept = 0
    grid: np.ndarray | None = None
    for c in store.finished(point) if chunks is None else chunks:
        with np.load(c.series) as z:
            start, stop, k = (int(v) for v in z["meta"])
            grid = z["grid"]
            n_total += stop - start
            for name in z.files:
                if name.startswith("sum|"):
                    key = name[4:]
                    sums[key] = sums.get(key, 0) + z[name]
            if k:
                for name in z.files:
                    if name.startswith("kept|"):
                        kept.setdefault(name[5:], []).append((n_kept, z[name]))
                n_kept += k
    if grid is None:
        return pd.DataFrame()
    dates = [(start_date + dt.timedelta(days=int(d))).isoformat() for d in grid]
    frames = []
    order = sorted(sums, key=lambda k: (0 if k.startswith("held") else 1, k))
    for key in order:
        series, holder, nat = key.split("|")
        mat = np.zeros((n_kept, len(grid)), dtype=np.int64)
        for offset, block in kept.get(key, []):
            mat[offset : offset + len(block)] = block
        q = (
            np.quantile(mat, QUANTILES, axis=0)
            if n_kept
            else np.full((len(QUANTILES), len(grid)), np.nan)
        )
        data: dict[str, Any] = {
            "day": grid,
            "date": dates,
            "series": series,
            "holder": holder,
            "nationality": nat,
            "mean": sums[key] / n_total,
        }
        for qq, row in zip(QUANTILES, q, strict=True):
            data[f"p{round(qq * 100):02d}"] = row
        frames.append(pd.DataFrame(data))
    if not frames:  # nobody held at any time: the columns, no rows
        columns = ["day", "date", "series", "holder", "nationality", "mean"]
        return pd.DataFrame(columns=columns + [f"p{round(qq * 100):02d}" for qq in QUANTILES])
    return pd.concat(frames, ignore_index=True)


PARTY_FRAME_COLUMNS = ("party", *PARTY_VALUES)


def life_tables_from_store(
    store: RunStore, point: int | None = None, chunks: list[ChunkFiles] | None = None
) -> tuple[dict[tuple[str, str], np.ndarray], dict[str, np.ndarray], int]:
    """Captivity life tables and channel counts summed over all finished chunks (exact integer
    sums), and the number of replications."""
    from sim.experiments.chunks import add_padded

    life: dict[tuple[str, str], np.ndarray] = {}
    channels: dict[str, np.ndarray] = {}
    n = 0
    for c in store.finished(point) if chunks is None else chunks:
        with np.load(c.series) as z:
            start, stop, _ = (int(v) for v in z["meta"])
            n += stop - start
            for name in z.files:
                if name.startswith("life|"):
                    _, nat, cat = name.split("|")
                    life[(nat, cat)] = add_padded(life.get((nat, cat)), z[name])
                elif name.startswith("channel|"):
                    key = name.split("|", 1)[1]
                    channels[key] = channels.get(key, 0) + z[name]
    return life, channels, n


def sums_from_store(
    store: RunStore, prefix: str, point: int | None = None, chunks: list[ChunkFiles] | None = None
) -> dict[str, np.ndarray]:
    """The arrays saved under ``PREFIX|key`` (e.g. ``format|summit.open``) summed over all
    finished chunks, by key."""
    sums: dict[str, np.ndarray] = {}
    for c in store.finished(point) if chunks is None else chunks:
        with np.load(c.series) as z:
            for name in z.files:
                if name.startswith(prefix + "|"):
                    key = name.split("|", 1)[1]
                    sums[key] = sums.get(key, 0) + z[name]
    return sums
