"""The benchmark script runs, reports positive figures, and its two models agree.

``benchmarks/bench.py --quick`` runs in a subprocess (a few seconds) so that pytest's own
machinery does not sit inside the timings; the hand-written model and the event counter are
also checked directly.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "bench.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("pxsim_bench", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text()), proc.stdout


def test_events_per_second_positive(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    ev = res["events"]
    for key in ("bare_simpy", "pxsim", "handwritten"):
        assert ev[key]["events"] > 0
        assert ev[key]["seconds"] > 0
        assert ev[key]["events_per_s"] > 0
    assert ev["ratio_pxsim_to_bare"] > 0
    # pxsim makes only decisions into events: far fewer than one event per capture
    assert ev["pxsim"]["events_per_replication"] < ev["handwritten"]["events_per_replication"] / 10
    assert "1. SimPy events per second" in stdout
    assert "pxsim / bare events/s" in stdout


def test_every_shipped_scenario_timed(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    shipped = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scenarios").glob("*.yaml"))
    assert [s["path"] for s in res["scenarios"]] == shipped
    for s in res["scenarios"]:
        assert s["replications"] >= 1
        assert s["reps_per_s"] > 0
        assert s["events_per_replication"] > 0
        assert s["path"] in stdout


def test_two_party_models_agree(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    tp = res["two_party"]
    assert tp["pxsim_reps_per_s"] > 0
    assert tp["handwritten_reps_per_s"] > 0
    assert tp["ratio"] == pytest.approx(tp["pxsim_reps_per_s"] / tp["handwritten_reps_per_s"])
    out = tp["outcomes"]
    for key in ("captured", "swapped", "swaps"):
        assert out[key]["pxsim"] > 0
        assert out[key]["handwritten"] > 0
    swapped = out["swapped"]
    assert abs(swapped["pxsim"] - swapped["handwritten"]) <= 0.15 * swapped["handwritten"]
    # captures are Poisson 5/day each way over 1095 days: 10950 expected
    for model in ("pxsim", "handwritten"):
        assert out["captured"][model] == pytest.approx(10950, rel=0.03)
    assert "ratio pxsim / hand-written" in stdout


def test_event_counter_counts_processed_events() -> None:
    bench = _load_bench()
    # Initialize + n timeouts + the process's own completion event
    assert bench.bare_simpy(100) == 102
    assert bench.bare_simpy(1) == 3


def test_handwritten_model_conserves_and_is_reproducible() -> None:
    bench = _load_bench()
    a, ev_a = bench.handwritten_run(3, 0)
    b, ev_b = bench.handwritten_run(3, 0)
    c, _ = bench.handwritten_run(3, 1)
    assert a == b and ev_a == ev_b
    assert a != c
    assert a["captured"] == a["held_at_end"] + a["swapped"]
    # the last offer may still be in flight at the horizon
    assert a["offers"] - a["swaps"] - a["rejected"] in (0, 1)
    assert ev_a > a["captured"]  # every capture is an event
