"""The scale benchmark runs (``--quick``) and reports every figure in a sane range.

``benchmarks/bench_scale.py --quick`` runs in a subprocess (under a minute on an idle 2-core
machine) so that pytest's own machinery is not inside the timings. The ranges are loose: the
quick sizes are dominated by start-up costs and the machine may be shared.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "bench_scale.py"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    pytest.importorskip("psutil")
    out = tmp_path_factory.mktemp("bench_scale") / "scale.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def _timing_ok(r: dict) -> None:
    assert r["seconds"] > 0
    assert r["reps_per_s"] > 0
    assert len(r["load_before"]) == 3
    assert len(r["load_after"]) == 3


def test_meta_reports_load(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    assert res["meta"]["quick"] is True
    assert len(res["meta"]["load_start"]) == 3
    assert len(res["meta"]["load_end"]) == 3
    assert "load average at start" in stdout


def test_parallel_efficiency(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    e = res["efficiency"]
    _timing_ok(e["serial"])
    _timing_ok(e["parallel"])
    assert e["serial"]["backend"] == "serial"
    assert e["parallel"]["backend"] == "local"
    assert e["parallel"]["workers"] == 2
    assert e["efficiency"] == pytest.approx(
        e["parallel"]["reps_per_s"] / (2 * e["serial"]["reps_per_s"])
    )
    assert 0.2 <= e["efficiency"] <= 1.2
    assert e["parallel"]["finalize_s"] > 0
    assert e["parallel"]["chunks"] == e["parallel"]["chunks_run"] >= 2
    assert "1. Parallel efficiency" in stdout


def test_dask_against_local(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    d = res["dask"]
    if not d["available"]:
        pytest.skip(d["reason"])
    for key in ("local", "dask_cold", "dask_warm"):
        _timing_ok(d[key])
    assert d["dask_cold"]["backend"] == "dask"
    assert d["dask_warm"]["backend"] == "dask"
    assert d["local"]["backend"] == "local"
    assert 0.05 < d["ratio_with_startup"] < 3
    assert 0.05 < d["ratio_started_cluster"] < 3
    assert d["cluster_start_s"] > 0
    assert "2. Dask local cluster" in stdout


def test_memory_ratio(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    mem = res["memory"]
    assert mem["10n"]["replications"] == 10 * mem["n"]["replications"]
    for key in ("n", "10n"):
        r = mem[key]
        assert r["samples"] > 0
        assert 10 < r["peak_main_mib"] <= r["peak_total_mib"]
        # main process and two workers at least
        assert r["most_processes"] >= 3
        assert r["ru_maxrss_children_mib"] > 0
    assert 0 < mem["ratio_peak_main"] < 5
    assert 0 < mem["ratio_peak_total"] < 5
    assert 0 < mem["ratio_ru_maxrss"] < 5
    assert "3. Peak memory" in stdout


def test_sweep(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    s = res["sweep"]
    if not s["available"]:
        pytest.skip(s["reason"])
    assert not s["failed"], s.get("stderr")
    assert s["replications"] == s["points"] * s["replications_per_point"]
    assert s["rows_written"] == s["replications"]
    assert s["seconds"] > 0
    assert s["reps_per_s"] > 0
    assert "4. Sweep" in stdout
