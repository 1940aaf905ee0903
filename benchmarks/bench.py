"""pxsim benchmark: events/s, replications/s, and pxsim against hand-written SimPy models.

Run from the repository root::

    python benchmarks/bench.py                 # full run, about 1.5 minutes
    python benchmarks/bench.py --quick         # small n, a few seconds (used by the test)
    python benchmarks/bench.py --json out.json # also write every figure to a JSON file
    python benchmarks/bench.py --scaling       # also time the models at 0.5, 5, 50 captures a day
    python benchmarks/bench.py --profile       # also print where pxsim's time goes (cProfile)
    python benchmarks/bench.py --before REV    # also measure the speed-up against revision REV

Everything is measured in one process, one after the other, on one core:

1. SimPy events per second: a bare SimPy loop (one process doing ``yield env.timeout(1)`` N
   times), the two hand-written two-party models and pxsim on the same two-party world. Events
   are counted exactly as *processed* events: SimPy numbers every scheduled event from
   ``Environment._eid`` (an ``itertools.count``); what was scheduled and is not left in
   ``Environment._queue`` at the end was processed. Counting this way adds no cost to the run.
2. Replications per second of every ``scenarios/*.yaml`` (globbed at run time) through
   ``run_replications``, n chosen so each timing takes a few seconds. Right before each
   scenario the careful baseline (``careful_run``) is timed for about as long, and the
   scenario's replications/s are also given as a multiple of the careful baseline's: a figure
   that moves much less with the machine's speed and load than replications/s do.
3. The two-party world written three ways: by hand in plain SimPy, carefully
   (``careful_run``, the reference baseline) and naively (``handwritten_run``, kept for
   continuity), and as the pxsim scenario ``benchmarks/two_party.yaml``. The three are timed
   alternately, best of ``--repeats``; the ratio is pxsim replications/s over the careful
   baseline's. Their mean outcomes are printed side by side with analytic expectations to show
   that they model the same world.

``--before REV`` measures an older pxsim the same way: the script checks REV out into a
temporary ``git worktree`` and runs itself in child processes (``--ratios-only --pxsim-root
DIR``), alternately on the old tree and on this one. Each child imports pxsim from its own tree
but times the careful baseline of *this* script next to every scenario, so old and new pxsim
are both measured in units of the same baseline, and the speed-up is new ratio / old ratio.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import math
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parents[1]  # this checkout: the benchmark's code and its world


def _pxsim_root(argv: Sequence[str]) -> Path:
    """``--pxsim-root DIR`` from the command line, read before pxsim is imported."""
    for i, arg in enumerate(argv):
        if arg == "--pxsim-root" and i + 1 < len(argv):
            return Path(argv[i + 1]).resolve()
        if arg.startswith("--pxsim-root="):
            return Path(arg.split("=", 1)[1]).resolve()
    return ROOT


# The pxsim measured: this checkout's, or another tree's (the child processes of --before). The
# tree goes first on sys.path, ahead of any installed (or editable-installed) pxsim.
PXSIM_ROOT = _pxsim_root(sys.argv[1:]) if __name__ == "__main__" else ROOT
if "sim" not in sys.modules:
    sys.path.insert(0, str(PXSIM_ROOT))

import sim  # noqa: E402

SIM_FILE = str(Path(sim.__file__ or "").resolve())
if not Path(SIM_FILE).is_relative_to(PXSIM_ROOT):
    raise ImportError(f"pxsim was imported from {SIM_FILE}, not from {PXSIM_ROOT}")

try:  # the package layout since the restructure into floors
    from sim.experiments.experiment import run_replications
    from sim.model.simulation import Simulation
    from sim.scenario.loading import load_scenario
    from sim.version import __version__ as PXSIM_VERSION
except ImportError:  # older revisions, measured with --before
    from sim.experiment import run_replications
    from sim.simulation import Simulation

    from sim import __version__ as PXSIM_VERSION
    from sim.scenario import load_scenario

TWO_PARTY = ROOT / "benchmarks" / "two_party.yaml"  # always this checkout's: it is bench.py's
SCENARIOS = PXSIM_ROOT / "scenarios"  # the measured tree's scenarios

# The two-party world (must match benchmarks/two_party.yaml).
HORIZON = 1095.0  # days
CAPTURE_RATE = 5.0  # captures per day, each way
INITIATIVE_MEAN = 30.0  # days between a's attempts to open talks
RELAY_MEAN = 2.0  # days per relay through the intermediary
P_ACCEPT = 0.8  # each side accepts an offer independently

TARGET, AIM = 5.0, 10.0  # pxsim / careful hand-written replications per second
SPEEDUP_TARGET = 3.0  # issue 11: pxsim 3x faster than before on these scenarios
SPEEDUP_SCENARIOS = (
    "scenarios/ua_ru_2022_2024.yaml",
    "scenarios/ua_ru_2022_2025.yaml",
    "scenarios/kursk_2025.yaml",
)
OUTCOMES = ("captured", "offers", "swaps", "rejected", "swapped", "held_at_end")

# Sizes: bare-loop events; pxsim / hand-written replications timed for events/s; seconds aimed
# at (and most replications) per shipped scenario, and per scenario in a --before child;
# two-party replications timed; two-party replications compared (outcomes).
FULL = {
    "bare": 300_000,
    "event_reps": 30,
    "scenario_seconds": 3.0,
    "scenario_max": 10_000,
    "before_seconds": 1.5,
    "two_party": 40,
    "compare": 200,
}
QUICK = {
    "bare": 20_000,
    "event_reps": 4,
    "scenario_seconds": 0.2,
    "scenario_max": 20,
    "before_seconds": 0.05,
    "two_party": 8,
    "compare": 8,
}


# --------------------------------------------------------------------------- counting events
def processed_events(env: simpy.Environment) -> int:
    """Events the environment has processed: scheduled (ids handed out) minus still queued."""
    scheduled = next(env._eid)  # the next id == number of ids handed out so far
    return scheduled - len(env._queue)


# --------------------------------------------------------------------------- bare SimPy
def bare_simpy(n: int) -> int:
    """One process doing ``yield env.timeout(1)`` ``n`` times; returns events processed."""
    env = simpy.Environment()

    def ticker() -> Any:
        for _ in range(n):
            yield env.timeout(1)

    env.process(ticker())
    env.run()
    return processed_events(env)


# --------------------------------------------------------------------------- hand-written models
def _generator(seed: int, replication: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, replication])))


class Variates:
    """Variates drawn ``size`` at a time from a numpy Generator and handed out one by one.

    ``draw(size)`` returns an array; it is turned into a list of Python floats once, so handing
    out a variate costs a list index (~0.1 µs) instead of a scalar numpy call (~0.4-1 µs).
    """

    __slots__ = ("_buf", "_draw", "_i", "_size")

    def __init__(self, draw: Callable[[int], np.ndarray], size: int = 1024) -> None:
        self._draw = draw
        self._size = size
        self._buf: list[float] = []
        self._i = 0

    def next(self) -> float:
        i = self._i
        if i >= len(self._buf):
            self._buf = self._draw(self._size).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]


def careful_run(
    seed: int, replication: int, rate: float = CAPTURE_RATE
) -> tuple[dict[str, float], int]:
    """The two-party world as a careful, competent SimPy user would write it: the reference.

    Same world, same rules and same outcome distribution as ``handwritten_run``: captures are
    Poisson processes, one SimPy timeout per capture (one process per capture stream); about
    every 30 days a offers a 1:1 swap of min(held by a, held by b) through the intermediary;
    offer and reply are relayed (exponential, mean 2 days each); each side accepts with
    probability 0.8; if both did, the longest-held prisoners are swapped after the reply; an
    attempt while the intermediary is busy is dropped.

    Why it is the fair competitor: it is what someone who knows Python and SimPy writes when
    speed matters, without leaving SimPy's one-event-per-capture style, with no tricks that only
    work for this toy world. Random variates are drawn in blocks (``Variates``) instead of one
    numpy call each; prisoners are only capture times in two ``deque``s (popleft gives the
    longest held, a swap of n pops n from each), with no object per prisoner; hot names are
    bound to locals. Written more naively (``handwritten_run``) the same model is slower, which
    would flatter pxsim; written less like SimPy (no event per capture, counting captures
    analytically) it would not be a SimPy model any more, and pxsim itself draws captures as
    arrays, so that comparison would be between two array programs.

    Returns the outcomes and the number of SimPy events processed.
    """
    rng = _generator(seed, replication)
    env = simpy.Environment()
    timeout = env.timeout
    held_by_a: deque[float] = deque()  # capture days of b's soldiers held by a, oldest first
    held_by_b: deque[float] = deque()
    out = {"captured": 0, "offers": 0, "swaps": 0, "rejected": 0, "swapped": 0}
    busy = False
    relay = Variates(lambda k: rng.exponential(RELAY_MEAN, k), 64).next
    initiative_gap = Variates(lambda k: rng.exponential(INITIATIVE_MEAN, k), 64).next
    uniform = Variates(rng.random, 64).next

    def captures(prisoners: deque[float]) -> Any:
        gap = Variates(lambda k: rng.exponential(1.0 / rate, k)).next
        append = prisoners.append
        while True:
            yield timeout(gap())
            append(env.now)
            out["captured"] += 1

    def negotiate(n: int) -> Any:
        nonlocal busy
        busy = True
        out["offers"] += 1
        yield timeout(relay())  # offer relayed to b
        agreed = uniform() < P_ACCEPT and uniform() < P_ACCEPT
        yield timeout(relay())  # reply relayed back to a
        busy = False
        if not agreed:
            out["rejected"] += 1
            return
        pop_a, pop_b = held_by_a.popleft, held_by_b.popleft
        for _ in range(n):  # longest held first
            pop_a()
            pop_b()
        out["swaps"] += 1
        out["swapped"] += 2 * n

    def initiative() -> Any:
        while True:
            yield timeout(initiative_gap())
            n = min(len(held_by_a), len(held_by_b))
            if busy or n == 0:
                continue
            env.process(negotiate(n))

    env.process(captures(held_by_a))
    env.process(captures(held_by_b))
    env.process(initiative())
    env.run(until=HORIZON)
    result = {k: float(v) for k, v in out.items()}
    result["held_at_end"] = float(len(held_by_a) + len(held_by_b))
    return result, processed_events(env)


def handwritten_run(
    seed: int, replication: int, rate: float = CAPTURE_RATE
) -> tuple[dict[str, float], int]:
    """The two-party world written plainly in SimPy: the naive baseline (kept for continuity).

    Each side captures the other's soldiers as a Poisson process (one SimPy timeout per
    capture, appended to a list of capture days). About every 30 days party a sends an offer
    through the intermediary: a 1:1 swap of min(held by a, held by b); the offer is relayed
    (exponential, mean 2 days), each side accepts with probability 0.8 independently, the reply
    is relayed back (exponential, mean 2 days) and, if both accepted, the longest-held
    prisoners are swapped. The intermediary carries one negotiation at a time: an attempt while
    it is busy is dropped (as pxsim does with a channel of capacity 1). Every variate is a
    scalar numpy call. ``careful_run`` is the same model written with care.

    Returns the outcomes and the number of SimPy events processed.
    """
    rng = _generator(seed, replication)
    env = simpy.Environment()
    held: dict[str, list[float]] = {"a": [], "b": []}  # capture days of prisoners held by a / b
    out = {"captured": 0, "offers": 0, "swaps": 0, "rejected": 0, "swapped": 0}
    busy = [False]

    def captures(captor: str) -> Any:
        prisoners = held[captor]
        while True:
            yield env.timeout(rng.exponential(1.0 / rate))
            prisoners.append(env.now)
            out["captured"] += 1

    def negotiate(n: int) -> Any:
        busy[0] = True
        out["offers"] += 1
        yield env.timeout(rng.exponential(RELAY_MEAN))  # offer relayed to b
        agreed = rng.random() < P_ACCEPT and rng.random() < P_ACCEPT
        yield env.timeout(rng.exponential(RELAY_MEAN))  # reply relayed back to a
        busy[0] = False
        if not agreed:
            out["rejected"] += 1
            return
        del held["a"][:n]  # longest held first
        del held["b"][:n]
        out["swaps"] += 1
        out["swapped"] += 2 * n

    def initiative() -> Any:
        while True:
            yield env.timeout(rng.exponential(INITIATIVE_MEAN))
            n = min(len(held["a"]), len(held["b"]))
            if busy[0] or n == 0:
                continue
            env.process(negotiate(n))

    env.process(captures("a"))
    env.process(captures("b"))
    env.process(initiative())
    env.run(until=HORIZON)
    out["held_at_end"] = len(held["a"]) + len(held["b"])
    return {k: float(v) for k, v in out.items()}, processed_events(env)


def careful_batch(
    seed: int, n: int, rate: float = CAPTURE_RATE, start: int = 0
) -> list[dict[str, float]]:
    return [careful_run(seed, r, rate)[0] for r in range(start, start + n)]


def handwritten_batch(
    seed: int, n: int, rate: float = CAPTURE_RATE, start: int = 0
) -> list[dict[str, float]]:
    return [handwritten_run(seed, r, rate)[0] for r in range(start, start + n)]


def pxsim_outcomes(res: dict[str, float]) -> dict[str, float]:
    """pxsim's outcome columns under the hand-written models' names."""
    return {
        "captured": res["captured"],
        "offers": res["offers"],
        "swaps": res["deals"],
        "rejected": res["deals_collapsed"],
        "swapped": res["exchanged"],
        "held_at_end": res["held_at_end"],
    }


def expected_outcomes() -> dict[str, dict[str, float]]:
    """Analytic expectations (renewal / PASTA approximation, edge effects ignored).

    Attempts arrive at rate 1/30 a day; one finding the intermediary busy is dropped. The
    channel is busy for one relay in pxsim (talks end when the offer arrives and is accepted;
    with preparation 0 the deal is executed then) and for two relays by hand (offer and reply;
    both hand-written models). offers = (T/30) / (1 + (T/30) * busy / T).
    """
    attempts = HORIZON / INITIATIVE_MEAN
    p_both = P_ACCEPT * P_ACCEPT
    out = {}
    for model, legs in (("pxsim", 1), ("handwritten", 2)):
        offers = attempts / (1.0 + attempts * legs * RELAY_MEAN / HORIZON)
        out[model] = {
            "captured": 2 * CAPTURE_RATE * HORIZON,
            "offers": offers,
            "swaps": offers * p_both,
            "rejected": offers * (1 - p_both),
        }
    return out


# --------------------------------------------------------------------------- timing helpers
def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def pxsim_events(scn: Any, seed: int, n: int) -> int:
    """Run replications 0..n-1 with ``Simulation`` directly and count their SimPy events."""
    total = 0
    for r in range(n):
        sim = Simulation(scn, seed, r)
        sim.run()
        total += processed_events(sim.env)
    return total


def mean_se(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=float)
    se = float(a.std(ddof=1) / math.sqrt(len(a))) if len(a) > 1 else float("nan")
    return float(a.mean()), se


def _rel(path: Path) -> str:
    """``path`` relative to the measured tree (scenarios) or to this checkout (two_party)."""
    for base in (PXSIM_ROOT, ROOT):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


# --------------------------------------------------------------------------- sections
def bench_events(scn: Any, seed: int, n_bare: int, n_reps: int, repeats: int) -> dict[str, Any]:
    runs: dict[str, Callable[[], int]] = {
        "bare_simpy": lambda: bare_simpy(n_bare),
        "pxsim": lambda: pxsim_events(scn, seed, n_reps),
        "careful": lambda: sum(careful_run(seed, r)[1] for r in range(n_reps)),
        "handwritten": lambda: sum(handwritten_run(seed, r)[1] for r in range(n_reps)),
    }
    best = {k: {"events": 0, "seconds": math.inf} for k in runs}
    bare_simpy(1000)
    pxsim_events(scn, seed, 1)
    careful_run(seed, 0)
    handwritten_run(seed, 0)
    for _ in range(repeats):  # alternate, keep the best of each
        for key, fn in runs.items():
            dt, ev = timed(fn)
            if dt < best[key]["seconds"]:
                best[key] = {"events": ev, "seconds": dt}
    for d in best.values():
        d["events_per_s"] = d["events"] / d["seconds"]
        d["us_per_event"] = 1e6 * d["seconds"] / d["events"]
    for key in ("pxsim", "careful", "handwritten"):
        best[key]["replications"] = n_reps
        best[key]["events_per_replication"] = best[key]["events"] / n_reps
    bare_rate = best["bare_simpy"]["events_per_s"]
    return {
        "bare_simpy": best["bare_simpy"],
        "pxsim": {"scenario": _rel(TWO_PARTY), **best["pxsim"]},
        "careful": best["careful"],
        "handwritten": best["handwritten"],
        "ratio_pxsim_to_bare": best["pxsim"]["events_per_s"] / bare_rate,
        "ratio_careful_to_bare": best["careful"]["events_per_s"] / bare_rate,
        "ratio_handwritten_to_bare": best["handwritten"]["events_per_s"] / bare_rate,
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bench_scenarios(
    paths: Sequence[Path],
    seed: int,
    target_s: float,
    max_n: int,
    *,
    count_events: bool = True,
    keep_errors: bool = False,
) -> list[dict[str, Any]]:
    """Replications/s of each scenario, and of the careful baseline timed right before it.

    n is calibrated from one replication so the scenario's timing takes about ``target_s``
    (at most ``max_n`` replications); the careful baseline runs about as many seconds (its
    replications 0, 1, ... each time, so every scenario is compared with the same work).
    ``count_events`` runs the calibration replication through ``Simulation`` and counts its
    events (not done in --before children: older revisions may differ inside); with
    ``keep_errors`` a scenario that fails (say, one an older pxsim cannot read) gets an
    ``error`` entry instead of stopping the run.
    """
    careful_run(seed, 0)  # warm-up, then calibration: seconds per careful replication
    careful_s = min(timed(lambda r=r: careful_run(seed, r))[0] for r in (1, 2))
    out = []
    for path in paths:
        row: dict[str, Any] = {"path": _rel(path)}
        if keep_errors:
            row["sha256"] = _sha256(path)
        try:
            scn = load_scenario(path)
            row["name"] = scn.name
            # warm-up and calibration: one replication
            if count_events:
                dt1, events = timed(lambda s=scn: pxsim_events(s, seed, 1))
            else:
                dt1, _ = timed(lambda s=scn: run_replications(s, seed, 1))
            n = int(min(max_n, max(1, round(target_s / max(dt1, 1e-6)))))
            n_careful = max(1, round(n * dt1 / careful_s))
            dt_careful, _ = timed(lambda k=n_careful: careful_batch(seed, k))
            dt, batch = timed(lambda s=scn, k=n: run_replications(s, seed, k))
            assert batch.replications == n
        except Exception as exc:
            if not keep_errors:
                raise
            row["error"] = f"{type(exc).__name__}: {exc}"
            out.append(row)
            continue
        reps_per_s, careful_rate = n / dt, n_careful / dt_careful
        row.update(
            {
                "replications": n,
                "seconds": dt,
                "reps_per_s": reps_per_s,
                "careful_replications": n_careful,
                "careful_seconds": dt_careful,
                "careful_reps_per_s": careful_rate,
                "ratio_to_careful": reps_per_s / careful_rate,
            }
        )
        if count_events:
            row["events_per_replication"] = events  # replication 0
            row["events_per_s_approx"] = events * reps_per_s
        out.append(row)
    return out


def bench_two_party(scn: Any, seed: int, n: int, repeats: int, compare_reps: int) -> dict[str, Any]:
    run_replications(scn, seed, 1)
    careful_run(seed, 0)
    handwritten_run(seed, 0)
    # the same world with nobody taking the initiative: what pxsim costs with no negotiation
    # at all (captures, lives, accounting), the most it could reach if negotiating were free
    silent = load_scenario(TWO_PARTY, {"parties.a.initiative": None})
    run_replications(silent, seed, 1)
    best = {"pxsim": math.inf, "careful": math.inf, "handwritten": math.inf, "silent": math.inf}
    runs: dict[str, list[dict[str, float]]] = {}
    for _ in range(repeats):  # alternate the models, keep the best of each
        dt, batch = timed(lambda: run_replications(scn, seed, n))
        best["pxsim"] = min(best["pxsim"], dt)
        best["silent"] = min(best["silent"], timed(lambda: run_replications(silent, seed, n))[0])
        runs["pxsim"] = [pxsim_outcomes(r.outcomes) for r in batch.runs]
        dt, runs["careful"] = timed(lambda: careful_batch(seed, n))
        best["careful"] = min(best["careful"], dt)
        dt, runs["handwritten"] = timed(lambda: handwritten_batch(seed, n))
        best["handwritten"] = min(best["handwritten"], dt)
    if compare_reps > n:  # more replications (untimed) for the outcome comparison
        extra = run_replications(scn, seed, compare_reps - n, start=n)
        runs["pxsim"] += [pxsim_outcomes(r.outcomes) for r in extra.runs]
        runs["careful"] += careful_batch(seed, compare_reps - n, start=n)
        runs["handwritten"] += handwritten_batch(seed, compare_reps - n, start=n)
    expected = expected_outcomes()
    outcomes: dict[str, Any] = {}
    for key in OUTCOMES:
        o: dict[str, Any] = {}
        for model, model_runs in runs.items():
            o[model], o[f"{model}_se"] = mean_se([r[key] for r in model_runs])
        pm, cm, hm = o["pxsim"], o["careful"], o["handwritten"]
        o["rel_diff"] = (pm - cm) / cm if cm else float("nan")  # pxsim against careful
        o["rel_diff_careful_naive"] = (cm - hm) / hm if hm else float("nan")
        # careful - naive in standard errors of the difference (same world: |z| small)
        o["z_careful_naive"] = (cm - hm) / math.sqrt(
            o["careful_se"] ** 2 + o["handwritten_se"] ** 2
        )
        o["expected_pxsim"] = expected["pxsim"].get(key)
        o["expected_handwritten"] = expected["handwritten"].get(key)  # careful's too
        outcomes[key] = o
    rates = {f"{model}_reps_per_s": n / seconds for model, seconds in best.items()}
    ratio = rates["pxsim_reps_per_s"] / rates["careful_reps_per_s"]
    silent_ratio = rates["silent_reps_per_s"] / rates["careful_reps_per_s"]
    return {
        "scenario": _rel(TWO_PARTY),
        "replications": n,
        "repeats": repeats,
        **{f"{model}_seconds": seconds for model, seconds in best.items()},
        **rates,
        "ratio": ratio,
        "ratio_careful_to_naive": rates["careful_reps_per_s"] / rates["handwritten_reps_per_s"],
        "ratio_pxsim_to_naive": rates["pxsim_reps_per_s"] / rates["handwritten_reps_per_s"],
        "target": TARGET,
        "aim": AIM,
        "meets_target": ratio >= TARGET,
        "ratio_no_negotiation": silent_ratio,
        "negotiation_share": 1.0 - best["silent"] / best["pxsim"],
        "compare_replications": len(runs["pxsim"]),
        "outcomes": outcomes,
        "careful_naive_agree": all(abs(outcomes[k]["z_careful_naive"]) <= 4 for k in OUTCOMES),
        "swapped_agree_within_15pct": abs(outcomes["swapped"]["rel_diff"]) <= 0.15,
    }


def bench_scaling(seed: int, repeats: int, quick: bool) -> list[dict[str, Any]]:
    """The models at 1/10, 1 and 10 times the capture rate: where pxsim's cost goes."""
    out = []
    for factor, n in ((0.1, 30), (1.0, 20), (10.0, 4)):
        n = max(2, n // 4) if quick else n
        rate = CAPTURE_RATE * factor
        scn = load_scenario(
            TWO_PARTY,
            {"capture_streams.a_takes_b.rate": rate, "capture_streams.b_takes_a.rate": rate},
        )
        run_replications(scn, seed, 1)
        careful_run(seed, 0, rate)
        handwritten_run(seed, 0, rate)
        best_px = best_careful = best_hand = math.inf
        for _ in range(repeats):
            best_px = min(best_px, timed(lambda s=scn, k=n: run_replications(s, seed, k))[0])
            best_careful = min(
                best_careful, timed(lambda k=n, r=rate: careful_batch(seed, k, r))[0]
            )
            best_hand = min(best_hand, timed(lambda k=n, r=rate: handwritten_batch(seed, k, r))[0])
        out.append(
            {
                "captures_per_day_each_way": rate,
                "replications": n,
                "pxsim_ms_per_rep": 1e3 * best_px / n,
                "careful_ms_per_rep": 1e3 * best_careful / n,
                "handwritten_ms_per_rep": 1e3 * best_hand / n,
                "ratio": best_careful / best_px,
                "ratio_to_naive": best_hand / best_px,
            }
        )
    return out


def profile_pxsim(scn: Any, seed: int, n: int, top: int = 25) -> str:
    run_replications(scn, seed, 1)
    prof = cProfile.Profile()
    prof.enable()
    run_replications(scn, seed, n)
    prof.disable()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    st.sort_stats("tottime").print_stats(top)
    st.sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


# --------------------------------------------------------------------------- --before
def ratios_only(seed: int, quick: bool) -> dict[str, Any]:
    """What a --before child prints: the measured tree's pxsim in units of the careful baseline.

    Every ``scenarios/*.yaml`` of the measured tree, then this checkout's two-party world, each
    timed once right after the careful baseline (``bench_scenarios`` without event counts).
    """
    cfg = QUICK if quick else FULL
    paths = [*sorted(SCENARIOS.glob("*.yaml")), TWO_PARTY]
    rows = bench_scenarios(
        paths,
        seed,
        cfg["before_seconds"],
        cfg["scenario_max"],
        count_events=False,
        keep_errors=True,
    )
    return {
        "pxsim_root": str(PXSIM_ROOT),
        "sim_file": SIM_FILE,
        "pxsim": PXSIM_VERSION,
        "bench": str(Path(__file__).resolve()),
        "seed": seed,
        "quick": quick,
        "rows": rows,
    }


def _git(*args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def run_child(root: Path, seed: int, quick: bool) -> dict[str, Any]:
    """Run this script with ``--ratios-only --pxsim-root root``; check where pxsim came from."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--ratios-only",
        "--pxsim-root",
        str(root),
        "--seed",
        str(seed),
        *(["--quick"] if quick else []),
    ]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    if not Path(res["sim_file"]).is_relative_to(root.resolve()):
        raise RuntimeError(f"the child for {root} imported pxsim from {res['sim_file']}")
    return res


def bench_before(
    rev: str, seed: int, quick: bool, repeats: int, log: Callable[[str], None]
) -> dict[str, Any]:
    """Speed-up of this tree's pxsim against revision ``rev``, both in careful-baseline units.

    ``rev`` is checked out into a temporary detached worktree (removed at the end, also on
    error). Children for the old tree and for this one run in turn, ``repeats`` times (the
    order swapped every other time); each scenario keeps its best ratio per tree.
    """
    try:
        commit = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except RuntimeError:
        raise RuntimeError(f"--before {rev}: not a commit of {ROOT}") from None
    tmp = Path(tempfile.mkdtemp(prefix="pxsim-before-"))
    tree = tmp / "tree"
    children: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
    try:
        _git("worktree", "add", "--detach", "--quiet", str(tree), commit)
        for i in range(repeats):
            order = [("old", tree), ("new", ROOT)]
            for label, root in order if i % 2 == 0 else order[::-1]:
                log(f"--before {rev}: {label} pxsim ({i + 1}/{repeats}) ...")
                children[label].append(run_child(root, seed, quick))
    finally:
        removed = subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(tmp, ignore_errors=True)
        if removed.returncode != 0:  # e.g. the checkout failed half-way: drop its record
            subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], check=False)

    def best(label: str) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for child in children[label]:
            for row in child["rows"]:
                r = rows.setdefault(row["path"], {"ratios": [], "sha256": row["sha256"]})
                if "error" in row:
                    r["error"] = row["error"]
                else:
                    r["ratios"].append(row["ratio_to_careful"])
        return rows

    old, new = best("old"), best("new")
    rows, skipped = [], []
    for path, n in new.items():
        o = old.get(path)
        if o is None:
            skipped.append({"path": path, "reason": f"not in {rev}"})
            continue
        if "error" in o or "error" in n:
            reason = o.get("error") or n.get("error")
            skipped.append({"path": path, "reason": f"failed: {reason}"})
            continue
        old_ratio, new_ratio = max(o["ratios"]), max(n["ratios"])
        speedup = new_ratio / old_ratio
        # the best ratio is the headline; a ratio is "best" when the baseline next to it was
        # slowed, so the medians are kept as a check on it
        old_median, new_median = float(np.median(o["ratios"])), float(np.median(n["ratios"]))
        targeted = path in SPEEDUP_SCENARIOS
        rows.append(
            {
                "path": path,
                "old_ratio": old_ratio,
                "new_ratio": new_ratio,
                "old_ratios": o["ratios"],
                "new_ratios": n["ratios"],
                "speedup": speedup,
                "old_median": old_median,
                "new_median": new_median,
                "speedup_median": new_median / old_median,
                "targeted": targeted,
                "meets_target": speedup >= SPEEDUP_TARGET if targeted else None,
                "file_changed": o["sha256"] != n["sha256"],
            }
        )
    return {
        "rev": rev,
        "commit": commit,
        "repeats": repeats,
        "target": SPEEDUP_TARGET,
        "old_sim_file": children["old"][0]["sim_file"],
        "new_sim_file": children["new"][0]["sim_file"],
        "old_pxsim": children["old"][0]["pxsim"],
        "new_pxsim": children["new"][0]["pxsim"],
        "rows": rows,
        "skipped": skipped,
        "children": children,
    }


# --------------------------------------------------------------------------- printing
def _fmt(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.{digits}f}"


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def report(res: dict[str, Any]) -> str:
    lines = []
    m = res["meta"]
    lines.append(
        f"pxsim {m['pxsim']} benchmark ({'quick' if m['quick'] else 'full'}): "
        f"Python {m['python']}, SimPy {m['simpy']}, NumPy {m['numpy']}, "
        f"{m['machine']}, seed {m['seed']}, one process"
    )
    ev = res["events"]
    b, p, c, h = ev["bare_simpy"], ev["pxsim"], ev["careful"], ev["handwritten"]
    lines += [
        "",
        f"1. SimPy events per second (processed events, best of {m['repeats']})",
        f"   {'':34} {'events':>10} {'seconds':>8} {'events/s':>12} {'us/event':>9}",
        f"   {'bare SimPy timeout loop':34} {b['events']:>10,} {b['seconds']:>8.3f} "
        f"{b['events_per_s']:>12,.0f} {b['us_per_event']:>9.2f}",
    ]
    for label, d in (
        (f"pxsim, two_party.yaml x{p['replications']}", p),
        (f"careful hand-written x{c['replications']}", c),
        (f"naive hand-written x{h['replications']}", h),
    ):
        lines.append(
            f"   {label:34} {d['events']:>10,} {d['seconds']:>8.3f} "
            f"{d['events_per_s']:>12,.0f} {d['us_per_event']:>9.2f}"
        )
    lines += [
        f"   pxsim / bare events/s = {ev['ratio_pxsim_to_bare']:.4f}; "
        f"careful / bare = {ev['ratio_careful_to_bare']:.3f}; "
        f"naive / bare = {ev['ratio_handwritten_to_bare']:.3f}",
        f"   events per replication: pxsim {p['events_per_replication']:,.0f}, "
        f"careful {c['events_per_replication']:,.0f}, naive {h['events_per_replication']:,.0f}",
        "",
        "2. Replications per second, scenarios/*.yaml (run_replications), and as a multiple of",
        "   the careful baseline's replications/s timed right before each scenario",
        f"   {'scenario':34} {'n':>6} {'seconds':>8} {'reps/s':>9} {'careful/s':>10} "
        f"{'x careful':>10} {'events/rep':>11}",
    ]
    for s in res["scenarios"]:
        lines.append(
            f"   {s['path']:34} {s['replications']:>6} {s['seconds']:>8.2f} "
            f"{s['reps_per_s']:>9.2f} {s['careful_reps_per_s']:>10.2f} "
            f"{s['ratio_to_careful']:>9.3f}x {s['events_per_replication']:>11,}"
        )
    if not res["scenarios"]:
        lines.append("   (no scenarios found)")
    tp = res["two_party"]
    lines += [
        "",
        f"3. Two-party world: pxsim vs hand-written SimPy, careful and naive "
        f"({tp['replications']} replications, best of {tp['repeats']}, alternating)",
        f"   pxsim        {tp['pxsim_reps_per_s']:8.2f} reps/s ({tp['pxsim_seconds']:.3f} s)",
        f"   careful      {tp['careful_reps_per_s']:8.2f} reps/s ({tp['careful_seconds']:.3f} s)",
        f"   naive        {tp['handwritten_reps_per_s']:8.2f} reps/s "
        f"({tp['handwritten_seconds']:.3f} s)",
        f"   ratio pxsim / careful = {tp['ratio']:.2f}x  (target >= {TARGET:g}x, aim "
        f"{AIM:g}x: {_verdict(tp['meets_target'])})",
        f"   ratio careful / naive = {tp['ratio_careful_to_naive']:.2f}x  "
        f"(pxsim / naive = {tp['ratio_pxsim_to_naive']:.2f}x)",
        f"   pxsim with no negotiation at all (parties.a.initiative: null) "
        f"{tp['silent_reps_per_s']:8.2f} reps/s = {tp['ratio_no_negotiation']:.2f}x careful:",
        f"   the ceiling if negotiating cost nothing; negotiation is "
        f"{100 * tp['negotiation_share']:.0f}% of pxsim's time on this world",
        "",
        f"   mean outcome per replication over {tp['compare_replications']} replications "
        "(+- standard error; exp. = analytic approximation,",
        "   exp. hand for both hand-written models; diff = pxsim vs careful)",
        f"   {'':26} {'pxsim':>17} {'careful':>17} {'naive':>17} {'diff':>7} "
        f"{'exp. pxsim':>11} {'exp. hand':>10}",
    ]
    names = {
        "captured": "prisoners captured",
        "offers": "offers made",
        "swaps": "swaps executed",
        "rejected": "offers not executed",
        "swapped": "prisoners swapped (both)",
        "held_at_end": "prisoners held at the end",
    }
    for key, label in names.items():
        o = tp["outcomes"][key]
        lines.append(
            f"   {label:26} {_fmt(o['pxsim']):>9} +-{_fmt(o['pxsim_se']):>6} "
            f"{_fmt(o['careful']):>9} +-{_fmt(o['careful_se']):>6} "
            f"{_fmt(o['handwritten']):>9} +-{_fmt(o['handwritten_se']):>6} "
            f"{100 * o['rel_diff']:>+6.1f}% {_fmt(o['expected_pxsim']):>11} "
            f"{_fmt(o['expected_handwritten']):>10}"
        )
    lines.append(
        "   offers and swaps differ by construction: in pxsim the channel is busy for one relay "
        "(the deal is\n   agreed when the offer arrives and, with preparation 0, executed then); "
        "by hand for two (offer and\n   reply), so more attempts find it busy. The analytic "
        "columns account for that."
    )
    worst = max(OUTCOMES, key=lambda k: abs(tp["outcomes"][k]["z_careful_naive"]))
    lines.append(
        f"   careful and naive agree (every outcome within 4 s.e.): "
        f"{'yes' if tp['careful_naive_agree'] else 'NO'} (largest: {names[worst]}, "
        f"{tp['outcomes'][worst]['z_careful_naive']:+.1f} s.e.)"
    )
    lines.append(
        f"   prisoners swapped, pxsim vs careful, agree within 15%: "
        f"{'yes' if tp['swapped_agree_within_15pct'] else 'NO'}"
    )
    return "\n".join(lines)


def report_scaling(rows: list[dict[str, Any]], repeats: int) -> str:
    lines = [
        f"\n4. Cost against capture density (two-party world, best of {repeats}; "
        "ratio = pxsim reps/s / careful reps/s)",
        f"   {'captures/day each way':>22} {'n':>4} {'pxsim ms/rep':>13} "
        f"{'careful ms/rep':>15} {'naive ms/rep':>13} {'ratio':>7}",
    ]
    for row in rows:
        lines.append(
            f"   {row['captures_per_day_each_way']:>22g} {row['replications']:>4} "
            f"{row['pxsim_ms_per_rep']:>13.1f} {row['careful_ms_per_rep']:>15.1f} "
            f"{row['handwritten_ms_per_rep']:>13.1f} {row['ratio']:>6.2f}x"
        )
    return "\n".join(lines)


def report_before(bf: dict[str, Any]) -> str:
    lines = [
        f"\n6. Speed-up against {bf['rev']} ({bf['commit'][:12]}): pxsim reps/s / careful "
        f"reps/s, old and new pxsim in\n   child processes, alternating, best of "
        f"{bf['repeats']}; speed-up = new / old (and of the medians)",
        f"   {'scenario':34} {'old x careful':>14} {'new x careful':>14} {'speed-up':>9} "
        f"{'medians':>8}",
    ]
    for row in bf["rows"]:
        flag = ""
        if row["targeted"]:
            flag = f"  (target >= {bf['target']:g}x: {_verdict(row['meets_target'])})"
        if row["file_changed"]:
            flag += f"  [scenario file changed since {bf['rev']}]"
        lines.append(
            f"   {row['path']:34} {row['old_ratio']:>14.3f} {row['new_ratio']:>14.3f} "
            f"{row['speedup']:>8.2f}x {row['speedup_median']:>7.2f}x{flag}"
        )
    for row in bf["skipped"]:
        lines.append(f"   {row['path']:34} skipped: {row['reason']}")
    lines.append(f"   old pxsim {bf['old_pxsim']} from {bf['old_sim_file']}")
    lines.append(f"   new pxsim {bf['new_pxsim']} from {bf['new_sim_file']}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small n (seconds), for tests")
    ap.add_argument("--json", metavar="FILE", help="write all figures to FILE as JSON")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument(
        "--repeats", type=int, default=3, help="timings per measurement, best kept (default 3)"
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of pxsim on the two-party world",
    )
    ap.add_argument(
        "--scaling",
        action="store_true",
        help="also time the models at 0.5, 5 and 50 captures a day each way",
    )
    ap.add_argument(
        "--compare-reps",
        type=int,
        default=0,
        metavar="N",
        help="replications for the outcome comparison (default 200; --quick: the timed 8)",
    )
    ap.add_argument(
        "--before",
        metavar="REV",
        help="also measure the speed-up of this tree's pxsim against git revision REV",
    )
    ap.add_argument(
        "--ratios-only",
        action="store_true",
        help="(used by --before) print only JSON: each scenario's reps/s / careful reps/s",
    )
    ap.add_argument(
        "--pxsim-root",
        metavar="DIR",
        help="(used by --before) import pxsim and its scenarios from the source tree DIR",
    )
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    if args.pxsim_root and Path(args.pxsim_root).resolve() != PXSIM_ROOT:
        ap.error("--pxsim-root must be given on the command line")  # main(argv) from Python

    if args.ratios_only:
        print(json.dumps(ratios_only(args.seed, args.quick), allow_nan=True))
        return 0

    cfg = QUICK if args.quick else FULL
    if args.compare_reps:
        cfg = {**cfg, "compare": args.compare_reps}

    scn = load_scenario(TWO_PARTY)
    res: dict[str, Any] = {
        "meta": {
            "pxsim": PXSIM_VERSION,
            "python": platform.python_version(),
            "simpy": simpy.__version__,
            "numpy": np.__version__,
            "machine": f"{platform.machine()} {platform.system()}",
            "seed": args.seed,
            "quick": args.quick,
            "repeats": args.repeats,
            "sim_file": SIM_FILE,
        }
    }
    res["events"] = bench_events(scn, args.seed, cfg["bare"], cfg["event_reps"], args.repeats)
    res["scenarios"] = bench_scenarios(
        sorted(SCENARIOS.glob("*.yaml")), args.seed, cfg["scenario_seconds"], cfg["scenario_max"]
    )
    res["two_party"] = bench_two_party(
        scn, args.seed, cfg["two_party"], args.repeats, max(cfg["two_party"], cfg["compare"])
    )
    print(report(res), flush=True)
    if args.scaling:
        res["scaling"] = bench_scaling(args.seed, args.repeats, args.quick)
        print(report_scaling(res["scaling"], args.repeats), flush=True)
    if args.profile:
        print("\n5. cProfile of pxsim, two_party.yaml")
        print(profile_pxsim(scn, args.seed, cfg["two_party"]), flush=True)
    if args.before:

        def log(msg: str) -> None:
            print(msg, file=sys.stderr, flush=True)

        res["before"] = bench_before(args.before, args.seed, args.quick, args.repeats, log)
        print(report_before(res["before"]))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2, allow_nan=True) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
