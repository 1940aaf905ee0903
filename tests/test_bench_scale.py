"""The scale benchmark runs (``--quick``), prints every section and writes every figure, and its
figures are consistent with one another and with the work it describes.

``benchmarks/bench_scale.py --quick`` runs in a subprocess (under a minute on a 2-core
machine). How fast or how large anything is — parallel efficiency, Dask against the local
pool, peak memory — is not asserted: at the quick sizes those figures are dominated by start-up
costs and by whatever else the machine runs, so any bound loose enough never to fail spuriously
would be far looser than what docs/performance.md claims. They are measured and quoted by the
full benchmark. What is asserted holds exactly: the backends and worker counts used, the work
done (replications, chunks, rows), each headline figure as the ratio it is defined as, each
verdict against the target docs/performance.md quotes, and the JSON schema.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

MACHINE = ("seconds", "cpu_seconds", "cores_used", "load_before", "load_after")
RUN = ("replications", "reps_per_s", "backend", "workers", "chunks_run", *MACHINE)
RUN += ("backend_start_s", "chunks", "parent_per_chunk_s", "finalize_s", "parent_cpu_s")


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> tuple[dict, str]:
    pytest.importorskip("psutil")
    out = tmp_path_factory.mktemp("bench_scale") / "scale.json"
    bench = repo_root / "benchmarks" / "bench_scale.py"
    proc = subprocess.run(
        [sys.executable, str(bench), "--quick", "--json", str(out)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def _run(r: dict[str, Any], backend: str, workers: int, replications: int) -> None:
    """One timed ``run_to_dir``: its schema, and the work it says it did."""
    missing = [k for k in RUN if k not in r]
    assert not missing, missing
    assert (r["backend"], r["workers"], r["replications"]) == (backend, workers, replications)
    assert r["chunks_run"] == r["chunks"] >= 1  # every chunk run, each result received once
    assert r["reps_per_s"] == pytest.approx(r["replications"] / r["seconds"])
    assert len(r["load_before"]) == len(r["load_after"]) == 3


def test_meta(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    meta = res["meta"]
    assert meta["quick"] is True and meta["workers"] == 2 and meta["seed"] == 1
    assert meta["cpus"] == os.cpu_count()
    assert len(meta["load_start"]) == len(meta["load_end"]) == 3
    assert "load average at start" in stdout and "load average at the end" in stdout


def test_parallel_efficiency_figures(quick: tuple[dict, str], repo_root: Path) -> None:
    res, stdout = quick
    e = res["efficiency"]
    n = e["replications"]
    assert e["scenario"] == "scenarios/kursk_2025.yaml"
    assert (repo_root / e["scenario"]).is_file()
    assert n % 8 == 0  # quick: a multiple of 8, even chunks for 2 workers
    _run(e["calibration"], "serial", 1, 4)
    _run(e["serial"], "serial", 1, n)
    _run(e["parallel"], "local", 2, n)
    for r in (e["serial"], e["parallel"]):
        assert r["chunks"] == math.ceil(n / e["chunk_size"])
    assert len(e["serial_runs"]) == len(e["parallel_runs"]) == e["repeats"]
    # the headline: 2-worker reps/s over twice the serial reps/s, of the pair it names
    assert e["efficiency"] == pytest.approx(
        e["parallel"]["reps_per_s"] / (2 * e["serial"]["reps_per_s"])
    )
    assert e["efficiency_each_pair"][e["pair_used"]] == e["efficiency"]
    assert e["target"] == 0.9  # as docs/performance.md quotes it
    assert e["meets_target"] == (e["efficiency"] >= e["target"])
    losses = e["losses"]
    assert losses["total_s"] == pytest.approx(e["parallel"]["seconds"] - e["ideal_parallel_s"])
    parts = sum(v for k, v in losses.items() if k not in ("total_s", "rest_s"))
    assert losses["rest_s"] == pytest.approx(losses["total_s"] - parts)
    verdict = "met" if e["meets_target"] else "NOT met"
    assert "1. Parallel efficiency" in stdout
    assert f"efficiency = {e['efficiency']:.3f}  (target >= 0.9: {verdict})" in stdout


def test_dask_against_local_figures(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    d = res["dask"]
    if not d["available"]:
        pytest.skip(d["reason"])
    n = d["replications"]
    _run(d["local"], "local", 2, n)
    _run(d["dask_cold"], "dask", 2, n)
    _run(d["dask_warm"], "dask", 2, n)
    assert d["local"]["chunks"] == d["dask_cold"]["chunks"] == d["dask_warm"]["chunks"]
    assert d["ratio_with_startup"] == pytest.approx(
        d["dask_cold"]["reps_per_s"] / d["local"]["reps_per_s"]
    )
    assert d["ratio_started_cluster"] == pytest.approx(
        d["dask_warm"]["reps_per_s"] / d["local"]["reps_per_s"]
    )
    assert d["target"] == 0.85  # as docs/performance.md quotes it
    assert d["meets_target_with_startup"] == (d["ratio_with_startup"] >= d["target"])
    assert d["meets_target_started_cluster"] == (d["ratio_started_cluster"] >= d["target"])
    assert "2. Dask local cluster" in stdout
    assert f"dask / local incl. cluster start-up = {d['ratio_with_startup']:.3f}" in stdout


def test_memory_figures(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    mem = res["memory"]
    assert mem["scenario"] == "scenarios/minimal.yaml"
    assert mem["10n"]["replications"] == 10 * mem["n"]["replications"]
    for key in ("n", "10n"):
        r = mem[key]
        assert r["samples"] > 0
        assert r["peak_main_mib"] <= r["peak_total_mib"]
        assert r["most_processes"] >= 3  # pxsim run --workers 2: itself and two workers
        assert r["stdout_tail"] and r["stdout_tail"][0].startswith("wrote ")
    for ratio, key in (
        ("ratio_peak_main", "peak_main_mib"),
        ("ratio_peak_total", "peak_total_mib"),
    ):
        assert mem[ratio] == pytest.approx(mem["10n"][key] / mem["n"][key])
    assert mem["target"] == 1.2  # as docs/performance.md quotes it
    worst = max(mem["ratio_peak_main"], mem["ratio_peak_total"])
    assert mem["meets_target"] == (worst <= mem["target"])
    assert "3. Peak memory" in stdout
    assert f"ratio 10N / N: main {mem['ratio_peak_main']:.3f}" in stdout


def test_sweep_figures(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    s = res["sweep"]
    if not s["available"]:
        pytest.skip(s["reason"])
    assert not s["failed"], s.get("stderr")
    assert s["replications"] == s["points"] * s["replications_per_point"]
    assert s["rows_written"] == s["replications"]  # sweep.csv: one row per replication
    assert s["reps_per_s"] == pytest.approx(s["replications"] / s["seconds"])
    assert s["reported_seconds"] is not None  # pxsim sweep printed its work line
    assert "4. Sweep" in stdout
    line = f"{s['points']} points x {s['replications_per_point']} replications = "
    assert line + str(s["replications"]) in stdout
