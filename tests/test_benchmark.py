"""The benchmark script runs, prints and writes every figure, its figures are consistent with
one another, its three models of the same world agree on what happens in it, and its --before
machinery measures the old and the new pxsim from the trees it was asked to.

``benchmarks/bench.py --quick`` runs in a subprocess. How fast anything is is not asserted
here: timings depend on the machine and its load, and are measured and quoted by the benchmark
itself (docs/performance.md). What is asserted holds exactly, or within the stated sampling
error of the outcomes (the outcomes are seeded, so these checks are deterministic): the JSON
schema, figures that are ratios of other figures, event counts, conservation in every model,
and agreement of their outcomes.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

TIMED = ("events", "seconds", "events_per_s", "us_per_event")
OUTCOMES = ("captured", "offers", "swaps", "rejected", "swapped", "held_at_end")
MODELS = ("pxsim", "careful", "handwritten")
SPEEDUP_SCENARIOS = {
    "scenarios/ua_ru_2022_2024.yaml",
    "scenarios/ua_ru_2022_2025.yaml",
    "scenarios/kursk_2025.yaml",
}


def _load_bench(root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("pxsim_bench", root / "benchmarks" / "bench.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def bench(repo_root: Path) -> ModuleType:
    return _load_bench(repo_root)


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


def _positive(x: Any) -> bool:
    return _number(x) and x > 0


def test_meta(quick: tuple[dict, str], repo_root: Path) -> None:
    res, stdout = quick
    meta = res["meta"]
    assert meta["quick"] is True and meta["seed"] == 1 and meta["repeats"] == 3
    assert set(meta) >= {"pxsim", "python", "simpy", "numpy", "machine", "sim_file"}
    assert Path(meta["sim_file"]).is_relative_to(repo_root.resolve())
    assert stdout.startswith(f"pxsim {meta['pxsim']} benchmark (quick)")
    assert "before" not in res and "Speed-up against" not in stdout


def test_event_figures_are_consistent(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    ev = res["events"]
    for key in ("bare_simpy", *MODELS):
        r = ev[key]
        assert all(_number(r[k]) for k in TIMED), r
        assert isinstance(r["events"], int) and r["events"] > 0
        assert r["events_per_s"] == pytest.approx(r["events"] / r["seconds"])
        assert r["us_per_event"] == pytest.approx(1e6 * r["seconds"] / r["events"])
    # the bare loop: Initialize + 20,000 timeouts + the process's own completion event
    assert ev["bare_simpy"]["events"] == 20_002
    for key in MODELS:
        r = ev[key]
        assert r["events_per_replication"] == pytest.approx(r["events"] / r["replications"])
        assert ev[f"ratio_{key}_to_bare"] == pytest.approx(
            r["events_per_s"] / ev["bare_simpy"]["events_per_s"]
        )
    # both hand-written models make every capture an event: about 2 * 5 * 1095 = 10,950 each
    for key in ("careful", "handwritten"):
        assert ev[key]["events_per_replication"] == pytest.approx(11_000, rel=0.05)
    # pxsim makes only decisions into events: far fewer than one event per capture
    assert ev["pxsim"]["events_per_replication"] < ev["careful"]["events_per_replication"] / 10
    assert "1. SimPy events per second" in stdout
    assert "pxsim / bare events/s" in stdout
    assert f"{ev['bare_simpy']['events']:,}" in stdout


def test_every_shipped_scenario_timed(
    quick: tuple[dict, str], repo_root: Path, shipped_scenarios: list[Path]
) -> None:
    res, stdout = quick
    shipped = [str(p.relative_to(repo_root)) for p in shipped_scenarios]
    assert [s["path"] for s in res["scenarios"]] == shipped
    assert "x careful" in stdout
    for s in res["scenarios"]:
        assert Path(s["path"]).stem == s["name"]
        assert isinstance(s["replications"], int) and s["replications"] >= 1
        assert isinstance(s["careful_replications"], int) and s["careful_replications"] >= 1
        assert isinstance(s["events_per_replication"], int) and s["events_per_replication"] > 0
        assert s["reps_per_s"] == pytest.approx(s["replications"] / s["seconds"])
        assert s["careful_reps_per_s"] == pytest.approx(
            s["careful_replications"] / s["careful_seconds"]
        )
        assert _positive(s["ratio_to_careful"])
        assert s["ratio_to_careful"] == pytest.approx(s["reps_per_s"] / s["careful_reps_per_s"])
        assert s["events_per_s_approx"] == pytest.approx(
            s["events_per_replication"] * s["reps_per_s"]
        )
        line = next(ln for ln in stdout.splitlines() if ln.strip().startswith(s["path"]))
        assert f"{s['ratio_to_careful']:.3f}x" in line


def test_two_party_figures_are_consistent(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    tp = res["two_party"]
    assert tp["scenario"] == "benchmarks/two_party.yaml"
    for model in MODELS:
        assert _positive(tp[f"{model}_reps_per_s"])
        assert tp[f"{model}_reps_per_s"] == pytest.approx(
            tp["replications"] / tp[f"{model}_seconds"]
        )
    # the reference baseline is the careful one
    assert _positive(tp["ratio"])
    assert tp["ratio"] == pytest.approx(tp["pxsim_reps_per_s"] / tp["careful_reps_per_s"])
    assert tp["ratio_careful_to_naive"] == pytest.approx(
        tp["careful_reps_per_s"] / tp["handwritten_reps_per_s"]
    )
    assert tp["ratio_pxsim_to_naive"] == pytest.approx(
        tp["pxsim_reps_per_s"] / tp["handwritten_reps_per_s"]
    )
    assert (tp["target"], tp["aim"]) == (5.0, 10.0)
    assert tp["meets_target"] == (tp["ratio"] >= tp["target"])
    verdict = "met" if tp["meets_target"] else "NOT met"
    assert f"ratio pxsim / careful = {tp['ratio']:.2f}x" in stdout
    assert f"(target >= 5x, aim 10x: {verdict})" in stdout
    assert f"ratio careful / naive = {tp['ratio_careful_to_naive']:.2f}x" in stdout
    # the same world with no negotiation: the ceiling, and negotiation's share of the time
    assert tp["ratio_no_negotiation"] == pytest.approx(
        tp["silent_reps_per_s"] / tp["careful_reps_per_s"]
    )
    assert tp["negotiation_share"] == pytest.approx(
        1.0 - tp["silent_seconds"] / tp["pxsim_seconds"]
    )
    assert f"{tp['silent_reps_per_s']:8.2f} reps/s = {tp['ratio_no_negotiation']:.2f}x" in stdout
    assert f"negotiation is {100 * tp['negotiation_share']:.0f}% of pxsim" in stdout
    for label, model in (("pxsim", "pxsim"), ("careful", "careful"), ("naive", "handwritten")):
        rate = tp[f"{model}_reps_per_s"]
        assert re.search(rf"^ +{label} +{rate:.2f} reps/s", stdout, re.MULTILINE), label


def test_two_party_models_agree(quick: tuple[dict, str]) -> None:
    res, stdout = quick
    tp = res["two_party"]
    out = tp["outcomes"]
    assert set(out) == set(OUTCOMES)
    for key in OUTCOMES:
        o = out[key]
        assert o["rel_diff"] == pytest.approx((o["pxsim"] - o["careful"]) / o["careful"])
        assert o["z_careful_naive"] == pytest.approx(
            (o["careful"] - o["handwritten"]) / math.hypot(o["careful_se"], o["handwritten_se"])
        )
    for model in MODELS:
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
        # model (both hand-written ones share theirs), within 4 standard errors of the mean
        expected = "pxsim" if model == "pxsim" else "handwritten"
        for key in ("offers", "swaps", "rejected"):
            o = out[key]
            assert abs(o[model] - o[f"expected_{expected}"]) <= 4 * o[f"{model}_se"] + 1, (key, o)
    # careful and naive are the same world: captured counts (and every other outcome) agree
    # within 4 standard errors of their difference
    cap = out["captured"]
    assert abs(cap["careful"] - cap["handwritten"]) <= 4 * math.hypot(
        cap["careful_se"], cap["handwritten_se"]
    )
    assert tp["careful_naive_agree"] is True
    assert all(abs(out[k]["z_careful_naive"]) <= 4 for k in OUTCOMES)
    assert "careful and naive agree (every outcome within 4 s.e.): yes" in stdout
    # pxsim against the careful baseline on the quantity the world is about
    assert abs(out["swapped"]["rel_diff"]) <= 0.15
    assert tp["swapped_agree_within_15pct"] is True
    assert "prisoners swapped, pxsim vs careful, agree within 15%: yes" in stdout


def test_event_counter_counts_processed_events(bench: ModuleType) -> None:
    # Initialize + n timeouts + the process's own completion event
    assert bench.bare_simpy(100) == 102
    assert bench.bare_simpy(1) == 3


@pytest.mark.parametrize("model", ["careful_run", "handwritten_run"])
def test_handwritten_models_conserve_and_are_reproducible(bench: ModuleType, model: str) -> None:
    run = getattr(bench, model)
    a, ev_a = run(3, 0)
    b, ev_b = run(3, 0)
    c, _ = run(3, 1)
    assert a == b and ev_a == ev_b
    assert a != c
    assert set(a) == set(OUTCOMES)
    assert a["captured"] == a["held_at_end"] + a["swapped"]
    # the last offer may still be in flight at the horizon
    assert a["offers"] - a["swaps"] - a["rejected"] in (0, 1)
    assert ev_a > a["captured"]  # every capture is an event


def test_variates_hand_out_blocks_in_order(bench: ModuleType) -> None:
    import numpy as np

    draws: list[int] = []

    def draw(k: int) -> np.ndarray:
        draws.append(k)
        return np.arange(len(draws) * 100, len(draws) * 100 + k, dtype=float)

    v = bench.Variates(draw, 3)
    assert [v.next() for _ in range(7)] == [100, 101, 102, 200, 201, 202, 300]
    assert draws == [3, 3, 3]
    assert all(type(v.next()) is float for _ in range(3))


def test_before_head(bench: ModuleType, repo_root: Path, shipped_scenarios: list[Path]) -> None:
    """--before HEAD: a temporary worktree of HEAD, one old and one new child (``--ratios-only``
    runs of bench.py, each importing pxsim from its own tree), then cleaned up."""
    messages: list[str] = []
    bf = bench.bench_before("HEAD", 1, True, 1, messages.append)
    kind = subprocess.run(
        ["git", "-C", str(repo_root), "cat-file", "-t", bf["commit"]],
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert len(bf["commit"]) == 40 and kind == "commit"  # HEAD resolved (others may commit)
    assert bf["repeats"] == 1 and bf["target"] == 3.0
    assert len(messages) == 2
    # each child imported pxsim from its own tree: the old one from the (now removed) worktree
    old_file, new_file = Path(bf["old_sim_file"]), Path(bf["new_sim_file"])
    assert new_file == (repo_root / "sim" / "__init__.py").resolve()
    assert not old_file.is_relative_to(repo_root.resolve())
    assert old_file.name == "__init__.py" and old_file.parent.name == "sim"
    old_tree = old_file.parents[1]
    assert not old_tree.exists()
    worktrees = subprocess.run(
        ["git", "-C", str(repo_root), "worktree", "list", "--porcelain"],
        capture_output=True,
        text=True,
    ).stdout
    assert str(old_tree) not in worktrees
    for label in ("old", "new"):
        assert len(bf["children"][label]) == 1
    # the new child (``--ratios-only --quick --pxsim-root <repo>``): every shipped scenario and
    # the two-party world in units of the careful baseline
    child = bf["children"]["new"][0]
    assert Path(child["pxsim_root"]) == repo_root.resolve() and child["quick"] is True
    shipped = [str(p.relative_to(repo_root)) for p in shipped_scenarios]
    assert [r["path"] for r in child["rows"]] == [*shipped, "benchmarks/two_party.yaml"]
    for row in child["rows"]:
        assert "error" not in row, row
        assert len(row["sha256"]) == 64
        assert _positive(row["ratio_to_careful"])
        assert row["ratio_to_careful"] == pytest.approx(
            row["reps_per_s"] / row["careful_reps_per_s"]
        )
    rows = {r["path"]: r for r in bf["rows"]}
    skipped = {r["path"] for r in bf["skipped"]}
    # every scenario of HEAD that the working tree still has is either compared or skipped
    assert "benchmarks/two_party.yaml" in rows
    assert set(rows) | skipped == {r["path"] for r in bf["children"]["new"][0]["rows"]}
    for path, r in rows.items():
        assert _positive(r["old_ratio"]) and _positive(r["new_ratio"])
        assert r["speedup"] == pytest.approx(r["new_ratio"] / r["old_ratio"])
        assert r["old_ratio"] == max(r["old_ratios"]) and r["new_ratio"] == max(r["new_ratios"])
        assert r["speedup_median"] == pytest.approx(r["new_median"] / r["old_median"])
        assert r["targeted"] == (path in SPEEDUP_SCENARIOS)
        if r["targeted"]:
            assert r["meets_target"] == (r["speedup"] >= 3.0)
        else:
            assert r["meets_target"] is None
    text = bench.report_before(bf)
    assert "Speed-up against HEAD" in text
    for path in SPEEDUP_SCENARIOS & set(rows):
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(path))
        assert "target >= 3x" in line


def test_before_unknown_revision(bench: ModuleType) -> None:
    with pytest.raises(RuntimeError, match="not a commit"):
        bench.bench_before("no-such-revision-xyz", 1, True, 1, lambda msg: None)
