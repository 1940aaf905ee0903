"""The benchmark script runs, prints and writes every figure, its figures are consistent with
one another, and its two models of the same world agree on what happens in it.

``benchmarks/bench.py --quick`` runs in a subprocess. How fast anything is is not asserted
here: timings depend on the machine and its load, and are measured and quoted by the benchmark
itself (docs/performance.md). What is asserted holds exactly, or within the stated sampling
error of the outcomes: the JSON schema, figures that are ratios of other figures, event
counts, conservation in both models, and agreement of their outcomes.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

TIMED = ("events", "seconds", "events_per_s", "us_per_event")
OUTCOMES = ("captured", "offers", "swaps", "rejected", "swapped", "held_at_end")


def _load_bench(root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("pxsim_bench", root / "benchmarks" / "bench.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "bench.py"), "--quick", "--json", str(out)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text()), proc.stdout


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def test_meta(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    meta = res["meta"]
    assert meta["quick"] is True and meta["seed"] == 1 and meta["repeats"] == 3
    assert set(meta) >= {"pxsim", "python", "simpy", "numpy", "machine"}
    assert stdout.startswith(f"pxsim {meta['pxsim']} benchmark (quick)")


def test_event_figures_are_consistent(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    ev = res["events"]
    for key in ("bare_simpy", "pxsim", "handwritten"):
        r = ev[key]
        assert all(_number(r[k]) for k in TIMED), r
        assert isinstance(r["events"], int) and r["events"] > 0
        assert r["events_per_s"] == pytest.approx(r["events"] / r["seconds"])
        assert r["us_per_event"] == pytest.approx(1e6 * r["seconds"] / r["events"])
    # the bare loop: Initialize + 20,000 timeouts + the process's own completion event
    assert ev["bare_simpy"]["events"] == 20_002
    for key in ("pxsim", "handwritten"):
        r = ev[key]
        assert r["events_per_replication"] == pytest.approx(r["events"] / r["replications"])
    assert ev["ratio_pxsim_to_bare"] == pytest.approx(
        ev["pxsim"]["events_per_s"] / ev["bare_simpy"]["events_per_s"]
    )
    assert ev["ratio_handwritten_to_bare"] == pytest.approx(
        ev["handwritten"]["events_per_s"] / ev["bare_simpy"]["events_per_s"]
    )
    # pxsim makes only decisions into events: far fewer than one event per capture
    assert ev["pxsim"]["events_per_replication"] < ev["handwritten"]["events_per_replication"] / 10
    assert "1. SimPy events per second" in stdout
    assert "pxsim / bare events/s" in stdout
    assert f"{ev['bare_simpy']['events']:,}" in stdout


def test_every_shipped_scenario_timed(
    quick: tuple[dict, str], repo_root: Path, shipped_scenarios: list[Path]
) -> None:
    res, stdout = quick
    shipped = [str(p.relative_to(repo_root)) for p in shipped_scenarios]
    assert [s["path"] for s in res["scenarios"]] == shipped
    for s in res["scenarios"]:
        assert Path(s["path"]).stem == s["name"]
        assert isinstance(s["replications"], int) and s["replications"] >= 1
        assert isinstance(s["events_per_replication"], int) and s["events_per_replication"] > 0
        assert s["reps_per_s"] == pytest.approx(s["replications"] / s["seconds"])
        assert s["events_per_s_approx"] == pytest.approx(
            s["events_per_replication"] * s["reps_per_s"]
        )
        assert s["path"] in stdout


def test_two_party_figures_are_consistent(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    tp = res["two_party"]
    assert tp["scenario"] == "benchmarks/two_party.yaml"
    for model in ("pxsim", "handwritten"):
        assert tp[f"{model}_reps_per_s"] == pytest.approx(
            tp["replications"] / tp[f"{model}_seconds"]
        )
    assert tp["ratio"] == pytest.approx(tp["pxsim_reps_per_s"] / tp["handwritten_reps_per_s"])
    assert (tp["target"], tp["aim"]) == (3.0, 10.0)  # as docs/performance.md quotes them
    assert tp["meets_target"] == (tp["ratio"] >= tp["target"])
    verdict = "met" if tp["meets_target"] else "NOT met"
    assert f"ratio pxsim / hand-written = {tp['ratio']:.2f}x" in stdout
    assert f"(target >= 3x, aim 10x: {verdict})" in stdout


def test_two_party_models_agree(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    tp = res["two_party"]
    out = tp["outcomes"]
    assert set(out) == set(OUTCOMES)
    for key in OUTCOMES:
        o = out[key]
        assert o["rel_diff"] == pytest.approx((o["pxsim"] - o["handwritten"]) / o["handwritten"])
    for model in ("pxsim", "handwritten"):
        # conservation: nobody dies in this world, so everyone captured is swapped or held
        assert out["captured"][model] == pytest.approx(
            out["swapped"][model] + out["held_at_end"][model]
        )
        # every offer is executed or not, but for at most one still in flight per run
        in_flight = out["offers"][model] - out["swaps"][model] - out["rejected"][model]
        assert 0 <= in_flight <= 1, (model, in_flight)
        # captures are Poisson 5/day each way over 1095 days: 10,950 expected
        assert out["captured"][model] == pytest.approx(10950, rel=0.03)
        # offers, swaps and failures against the benchmark's analytic approximation for each
        # model, within 4 standard errors of the mean over the replications
        for key in ("offers", "swaps", "rejected"):
            o = out[key]
            assert abs(o[model] - o[f"expected_{model}"]) <= 4 * o[f"{model}_se"] + 1, (key, o)
    swapped = out["swapped"]
    agree = abs(swapped["rel_diff"]) <= 0.15
    assert agree and tp["swapped_agree_within_15pct"] is True
    assert "prisoners swapped agree within 15%: yes" in stdout


def test_event_counter_counts_processed_events(repo_root: Path) -> None:
    bench = _load_bench(repo_root)
    # Initialize + n timeouts + the process's own completion event
    assert bench.bare_simpy(100) == 102
    assert bench.bare_simpy(1) == 3


def test_handwritten_model_conserves_and_is_reproducible(repo_root: Path) -> None:
    bench = _load_bench(repo_root)
    a, ev_a = bench.handwritten_run(3, 0)
    b, ev_b = bench.handwritten_run(3, 0)
    c, _ = bench.handwritten_run(3, 1)
    assert a == b and ev_a == ev_b
    assert a != c
    assert a["captured"] == a["held_at_end"] + a["swapped"]
    # the last offer may still be in flight at the horizon
    assert a["offers"] - a["swaps"] - a["rejected"] in (0, 1)
    assert ev_a > a["captured"]  # every capture is an event
