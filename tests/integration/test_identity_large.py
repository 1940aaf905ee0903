"""Byte-identical outputs above the time-series reservoir, whoever runs the chunks (issue 11).

Above ``RESERVOIR`` (2,000) replications the quantiles in timeseries.csv come only from the
first ``RESERVOIR`` replications: each chunk keeps the per-replication series of its
replications numbered below ``RESERVOIR`` (``ChunkBuilder.kept``) and the store lays them out
by replication, while the means still use the integer sums of every replication. This guards
that this switch depends on replication numbers alone, never on which worker ran a chunk or
in what order chunks finished: the same 2,150-replication run of ``scenarios/minimal.yaml``
is made by three separate ``pxsim run`` processes (1 worker, so serial in the process; a
local pool of 2 workers; a local Dask cluster of 2 workers), and every file each one writes
is compared byte for byte: the contract CSVs, manifest.json, scenario.resolved.yaml,
run.json and the chunk files under runs/, parties/ and series/. Nothing is left out:
manifest.json and run.json record neither the backend, the workers nor any time (if they
ever do, the comparison must drop those fields and say so here).

Chunks of 300 put the reservoir boundary inside a chunk (1,800-2,100 keeps 200) and end
with a short chunk (2,100-2,150) wholly past it, which on two workers finishes before the
long chunk running beside it: a reservoir filled in order of arrival would then hold other
replications than the serial run's, and timeseries.csv would differ. The reference run is
also checked to take the reservoir path (chunks keep exactly the replications below
``RESERVOIR``, the quantiles are those of exactly those replications and are not flat).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.experiments.chunks import plan_chunks
from sim.experiments.runner import RESERVOIR
from sim.experiments.store import CONTRACT, DATASETS, RUN_FILE
from sim.results.summary import QUANTILES

N = 2_150  # a little above RESERVOIR
SEED = 7
CHUNK = 300
CHUNKS = plan_chunks(0, N, CHUNK)
QUANTILE_COLUMNS = [f"p{round(q * 100):02d}" for q in QUANTILES]

# name -> (pxsim run options, the backend and workers it must report)
MODES: dict[str, tuple[list[str], str, int]] = {
    "serial": (["--workers", "1"], "serial", 1),
    "local": (["--workers", "2"], "local", 2),
    "dask": (["--backend", "dask", "--workers", "2"], "dask", 2),
}

pytestmark = pytest.mark.slow


def pxsim_run(scenario: Path, out: Path, mode: str) -> Path:
    """Run ``pxsim run`` in its own process in ``mode``; check it used that backend."""
    options, backend, workers = MODES[mode]
    args = ["run", str(scenario), "-n", str(N), "--seed", str(SEED), "--chunk-size", str(CHUNK)]
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *args, *options, "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"{len(CHUNKS)} chunk(s) run on {backend} ({workers} worker(s))" in proc.stdout, (
        proc.stdout
    )
    return out


def written_files(out: Path) -> set[str]:
    """Every file under ``out``, as paths relative to it (hidden ones included)."""
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def describe_difference(a: Path, b: Path, name: str) -> str:
    """Which columns (or arrays, or keys) of two differing files differ."""
    if name.endswith(".csv"):
        fa, fb = pd.read_csv(a), pd.read_csv(b)
        if list(fa.columns) != list(fb.columns) or len(fa) != len(fb):
            return f"{name}: columns or rows differ ({fa.shape} vs {fb.shape})"
        cols = [c for c in fa.columns if not fa[c].equals(fb[c])]
        return f"{name}: columns {cols} differ" if cols else f"{name}: formatting differs"
    if name.endswith(".parquet"):
        ta, tb = pq.read_table(a), pq.read_table(b)
        if ta.schema.names != tb.schema.names or ta.num_rows != tb.num_rows:
            return f"{name}: columns or rows differ"
        cols = [c for c in ta.schema.names if not ta.column(c).equals(tb.column(c))]
        return f"{name}: columns {cols} differ" if cols else f"{name}: metadata differs"
    if name.endswith(".npz"):
        with np.load(a) as za, np.load(b) as zb:
            if sorted(za.files) != sorted(zb.files):
                return f"{name}: different arrays"
            arrays = [k for k in za.files if not np.array_equal(za[k], zb[k])]
        return f"{name}: arrays {arrays} differ" if arrays else f"{name}: container differs"
    if name.endswith(".json"):
        ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
        keys = sorted(k for k in ja.keys() | jb.keys() if ja.get(k) != jb.get(k))
        return f"{name}: keys {keys} differ"
    return f"{name}: bytes differ"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, minimal_path: Path) -> Path:
    """The serial run (one worker, in the process)."""
    return pxsim_run(minimal_path, tmp_path_factory.mktemp("large") / "serial", "serial")


@pytest.fixture(scope="module", params=["local", "dask"])
def parallel(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, minimal_path: Path
) -> Path:
    """The same run on 2 local workers, then on a local Dask cluster of 2 workers."""
    mode: str = request.param
    if mode == "dask":
        pytest.importorskip("dask.distributed")
    return pxsim_run(minimal_path, tmp_path_factory.mktemp("large") / mode, mode)


def test_reference_takes_the_reservoir_path(reference: Path) -> None:
    assert N > RESERVOIR
    manifest = json.loads((reference / "manifest.json").read_text())
    assert manifest["replications"] == N
    assert manifest["timeseries_quantiles_from_first"] == RESERVOIR
    assert json.loads((reference / RUN_FILE).read_text())["reservoir"] == RESERVOIR

    # each chunk kept the series of exactly its replications below RESERVOIR
    kept: dict[str, list[np.ndarray]] = {}
    sums: dict[str, np.ndarray] = {}
    ranges = []
    for part in sorted((reference / "series").glob("part-*.npz")):
        with np.load(part) as z:
            start, stop, k = (int(v) for v in z["meta"])
            ranges.append((start, stop))
            assert k == max(0, min(stop, RESERVOIR) - start), part.name
            grid = z["grid"]
            for name in z.files:
                if name.startswith("kept|"):
                    assert z[name].shape == (k, len(grid)), name
                    kept.setdefault(name[5:], []).append(z[name])
                elif name.startswith("sum|"):
                    sums[name[4:]] = sums.get(name[4:], 0) + z[name]
    assert ranges == CHUNKS
    assert any(a < RESERVOIR < b for a, b in ranges), "no chunk straddles the reservoir"
    assert any(a >= RESERVOIR for a, _ in ranges), "no chunk lies wholly past the reservoir"

    # quantiles over exactly the first RESERVOIR replications, means over all N; not flat
    ts = pd.read_csv(reference / "timeseries.csv")
    assert set(ts["series"]) == {"held", "repatriated_cumulative"}
    assert set(kept) == set(sums)
    for key, blocks in kept.items():
        series, holder, nat = key.split("|")
        rows = ts[(ts["series"] == series) & (ts["holder"].fillna("") == holder)]
        rows = rows[rows["nationality"] == nat]
        mat = np.concatenate(blocks)
        assert mat.shape == (RESERVOIR, len(rows)), key
        q = np.quantile(mat, QUANTILES, axis=0)
        np.testing.assert_allclose(rows[QUANTILE_COLUMNS].to_numpy().T, q, rtol=1e-9)
        np.testing.assert_allclose(rows["mean"].to_numpy(), sums[key] / N, rtol=1e-9)
        assert not np.allclose(sums[key] / N, mat.mean(axis=0)), key  # the last 150 count
        spread = rows["p95"].to_numpy() > rows["p05"].to_numpy()
        assert spread.mean() > 0.5, f"{key}: quantiles mostly flat"
        assert rows["p50"].nunique() > 10, f"{key}: the median hardly moves"


def test_every_file_identical_to_the_serial_run(reference: Path, parallel: Path) -> None:
    files = written_files(reference)
    assert set(CONTRACT) <= files
    for dataset in DATASETS:
        assert sum(f.startswith(f"{dataset}/") for f in files) == len(CHUNKS), dataset
    assert written_files(parallel) == files, "the runs wrote different files"
    differences = [
        describe_difference(reference / name, parallel / name, name)
        for name in sorted(files)
        if (reference / name).read_bytes() != (parallel / name).read_bytes()
    ]
    assert not differences, f"{parallel.name} run differs from the serial run: {differences}"
