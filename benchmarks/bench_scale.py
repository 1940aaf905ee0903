"""pxsim scale benchmark: parallel efficiency, Dask vs local pool, memory, a large sweep.

Run from the repository root::

    python benchmarks/bench_scale.py                  # full run, about 8 minutes on 2 cores
    python benchmarks/bench_scale.py --quick          # tiny sizes, under a minute (the test)
    python benchmarks/bench_scale.py --json out.json  # also write every figure as JSON

Four figures, each a ratio, measured one after the other in one run:

1. Parallel efficiency on 2 cores: replications/s with 2 workers / (2 x replications/s
   serial), both through ``sim.runner.run_to_dir`` into temporary directories, on
   ``scenarios/kursk_2025.yaml`` with n chosen (from a short calibration run) so the serial
   run takes at least 20 s. Pool start-up, the parent writing chunks and the final assembly
   of the output files are inside the timing: that is what a user waits for. Target >= 0.9.
2. Dask local cluster / local process pool on the same work (``backend="dask"`` against
   ``backend="local"``, 2 workers each): once with the cluster started by pxsim inside the
   timing, and once on a cluster started beforehand (``LocalCluster(n_workers=2,
   threads_per_worker=1, processes=True)``, warmed with a small run, passed as
   ``scheduler=``). Target >= 0.85.
3. Peak memory for 10x more replications: ``pxsim run scenarios/minimal.yaml --workers 2
   --out DIR --quiet`` as a subprocess for N and 10 N replications, RSS of the main process
   and of all its descendants sampled with psutil every 50 ms; the peaks of the main process
   and of the total, and their ratio 10N / N. Cross-check: ``getrusage(RUSAGE_CHILDREN)
   .ru_maxrss`` read by a small wrapper process around pxsim (the largest single process).
   Target <= 1.2.
4. A sweep: ``pxsim sweep scenarios/kursk_2025.yaml`` with 3 parameters, 64 LHS points x 100
   replications, 2 workers: wall time and replications/s.

Every figure comes with the load average and the CPU time other processes used on the
machine while it was measured (from /proc/stat, minus this process and its children), since
the 2-core machine is shared. Parts 1 and 2 also break the wall time down (backend start-up,
first result, the parent's per-chunk work, final assembly) so a missed target can be traced.

The script imports only the standard library at module level: worker processes are started
with ``spawn`` and re-import it, and should pay only for what a worker needs (``sim.chunks``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a source tree without installing
    sys.path.insert(0, str(ROOT))

KURSK = ROOT / "scenarios" / "kursk_2025.yaml"
MINIMAL = ROOT / "scenarios" / "minimal.yaml"

TARGET_EFFICIENCY = 0.9  # 2-worker reps/s / (2 x serial reps/s)
TARGET_DASK = 0.85  # dask reps/s / local pool reps/s
TARGET_MEMORY = 1.2  # peak RSS at 10 N / peak RSS at N (at most)
WORKERS = 2
SAMPLE_EVERY = 0.05  # seconds between RSS samples

SWEEP_PARAMS = (
    "parties.russia.reservation=0.2:0.6",
    "intermediaries.uae.delay.mean=2:20",
    "capture_streams.ukraine_takes_dprk.rate=0.01:0.1",
)

FULL: dict[str, Any] = {
    "serial_seconds": 20.0,  # the serial run must take at least this long
    "margin": 1.3,  # calibrate for this much more, in case the machine speeds up
    "calibrate": 40,  # replications of the calibration run
    "round_to": 64,  # n is a multiple of this (even chunks for 2 workers)
    "mem_n": 2000,
    "sweep_points": 64,
    "sweep_reps": 100,
}
QUICK: dict[str, Any] = {
    "serial_seconds": 1.0,
    "margin": 1.0,
    "calibrate": 4,
    "round_to": 8,
    "mem_n": 20,
    "sweep_points": 4,
    "sweep_reps": 4,
}

WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[2:])\n"
    "with open(sys.argv[1], 'w') as fh:\n"
    "    fh.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(rc)\n"
)


# --------------------------------------------------------------------------- machine load
def _proc_stat() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot, or None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    v = [int(x) for x in fields]
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq = v[:7]
    steal = v[7] if len(v) > 7 else 0
    busy = user + nice + system + irq + softirq + steal
    return busy / tick, (busy + idle + iowait) / tick


def _own_cpu() -> float:
    """CPU seconds used by this process, its reaped children and its live descendants."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime
    with contextlib.suppress(ImportError):
        import psutil

        for p in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
    return total


class Meter:
    """Wall time, load averages, and how much CPU this run and everything else used."""

    def __enter__(self) -> Meter:
        self.load_before = os.getloadavg()
        self.stat0 = _proc_stat()
        self.cpu0 = _own_cpu()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.cpu = _own_cpu() - self.cpu0
        stat1 = _proc_stat()
        self.load_after = os.getloadavg()
        self.other_cores: float | None = None
        if self.stat0 is not None and stat1 is not None and self.seconds > 0:
            busy = stat1[0] - self.stat0[0]
            self.other_cores = max(0.0, (busy - self.cpu) / self.seconds)

    def figures(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "cpu_seconds": self.cpu,
            "cores_used": self.cpu / self.seconds if self.seconds else None,
            "other_processes_cores": self.other_cores,
            "load_before": list(self.load_before),
            "load_after": list(self.load_after),
        }


# --------------------------------------------------------------------------- instrumenting
class Instrument:
    """Times the parent's side of ``run_to_dir`` by wrapping, for the duration of one run,
    ``sim.runner.make_backend`` (backend start-up: a Dask cluster is started here; a local
    pool lazily at the first submit), ``sim.runner.chunk_frames`` and
    ``sim.store.RunStore.write_chunk`` (the parent's work per finished chunk) and
    ``sim.runner.finalize`` (assembling the output contract). Nothing in ``sim/`` changes."""

    def __enter__(self) -> Instrument:
        import sim.runner
        import sim.store

        self.t0 = time.perf_counter()
        self.backend_s = 0.0
        self.parent_chunk_s = 0.0
        self.finalize_s = 0.0
        self.arrivals: list[float] = []
        self.last_done = 0.0
        self.finalize_start = 0.0
        self._saved = (
            sim.runner.make_backend,
            sim.runner.chunk_frames,
            sim.store.RunStore.write_chunk,
            sim.runner.finalize,
        )
        make_backend, chunk_frames, write_chunk, finalize = self._saved
        inst = self

        def timed_make_backend(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return make_backend(*a, **k)
            finally:
                inst.backend_s += time.perf_counter() - t

        def timed_chunk_frames(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            inst.arrivals.append(t - inst.t0)
            try:
                return chunk_frames(*a, **k)
            finally:
                inst.parent_chunk_s += time.perf_counter() - t

        def timed_write_chunk(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return write_chunk(*a, **k)
            finally:
                inst.last_done = time.perf_counter() - inst.t0
                inst.parent_chunk_s += time.perf_counter() - t

        def timed_finalize(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            inst.finalize_start = t - inst.t0
            try:
                return finalize(*a, **k)
            finally:
                inst.finalize_s += time.perf_counter() - t

        sim.runner.make_backend = timed_make_backend  # type: ignore[assignment]
        sim.runner.chunk_frames = timed_chunk_frames  # type: ignore[assignment]
        sim.store.RunStore.write_chunk = timed_write_chunk  # type: ignore[method-assign]
        sim.runner.finalize = timed_finalize  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        import sim.runner
        import sim.store

        (
            sim.runner.make_backend,
            sim.runner.chunk_frames,
            sim.store.RunStore.write_chunk,
            sim.runner.finalize,
        ) = self._saved  # type: ignore[assignment]

    def figures(self) -> dict[str, Any]:
        return {
            "backend_start_s": self.backend_s,
            "first_result_s": self.arrivals[0] if self.arrivals else None,
            "last_result_s": self.arrivals[-1] if self.arrivals else None,
            "chunks": len(self.arrivals),
            "parent_per_chunk_s": self.parent_chunk_s,
            "close_s": max(0.0, self.finalize_start - self.last_done) if self.arrivals else None,
            "finalize_s": self.finalize_s,
        }


def timed_run(scn: Any, n: int, **options: Any) -> dict[str, Any]:
    """One ``run_to_dir`` into a fresh temporary directory, timed and broken down."""
    from sim.runner import run_to_dir

    scratch = tempfile.mkdtemp(prefix="pxsim-bench-")
    try:
        self0 = resource.getrusage(resource.RUSAGE_SELF)
        child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        with Meter() as m, Instrument() as inst:
            report = run_to_dir(scn, Path(scratch) / "out", replications=n, **options)
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = {
            "replications": n,
            "reps_per_s": n / m.seconds,
            "backend": report.backend,
            "workers": report.workers,
            "chunks_run": report.chunks_run,
            **m.figures(),
            **inst.figures(),
            # this process (the parent) and its reaped children (pool workers; a Dask
            # cluster's workers only if they were children of this process and have exited)
            "parent_cpu_s": self1.ru_utime + self1.ru_stime - self0.ru_utime - self0.ru_stime,
            "reaped_children_cpu_s": child1.ru_utime
            + child1.ru_stime
            - child0.ru_utime
            - child0.ru_stime,
        }
        return out
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --------------------------------------------------------------------------- pool start-up
def _worker_ready(sleep: float) -> tuple[int, float, float]:
    """In a fresh worker: import what a chunk needs, report when that was done."""
    t = time.perf_counter()
    import sim.chunks  # noqa: F401

    done = time.time()
    time.sleep(sleep)  # hold this worker so the other task lands on the other one
    return os.getpid(), done, time.perf_counter() - t - sleep


def pool_startup(workers: int = WORKERS) -> dict[str, Any]:
    """Seconds from creating a ``spawn`` pool until every worker has imported sim.chunks
    (what ``LocalBackend`` pays before its first chunk can run)."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    t0 = time.time()
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        res = [f.result() for f in [pool.submit(_worker_ready, 0.5) for _ in range(workers)]]
    return {
        "workers_seen": len({pid for pid, _, _ in res}),
        "all_ready_s": max(done for _, done, _ in res) - t0,
        "import_sim_chunks_s": max(imp for _, _, imp in res),
    }


def import_seconds(module: str) -> float:
    """Wall time of ``import module`` in a fresh interpreter (modules not cached)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return float(proc.stdout.strip())


# --------------------------------------------------------------------------- 1. efficiency
def bench_efficiency(cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    from sim.chunks import default_chunk_size
    from sim.scenario import load_scenario

    scn = load_scenario(KURSK)
    cal = timed_run(scn, cfg["calibrate"], seed=seed, workers=1)
    rate = cal["reps_per_s"]
    step = cfg["round_to"]
    n = max(step, math.ceil(rate * cfg["serial_seconds"] * cfg["margin"] / step) * step)
    serial = timed_run(scn, n, seed=seed, workers=1)
    parallel = timed_run(scn, n, seed=seed, workers=WORKERS)
    eff = parallel["reps_per_s"] / (WORKERS * serial["reps_per_s"])
    # where the 2-worker run's time goes, against the ideal of half the serial time
    compute_serial = serial["seconds"] - serial["parent_per_chunk_s"] - serial["finalize_s"]
    per_rep = compute_serial / n
    chunk = default_chunk_size(n)
    losses = {
        # first result minus the time one chunk takes: workers starting (spawn + imports)
        "startup_s": max(0.0, (parallel["first_result_s"] or 0.0) - chunk * per_rep),
        # finalize is serial in both runs: half of it is lost against the ideal
        "finalize_half_s": parallel["finalize_s"] - serial["finalize_s"] / 2,
        "parent_per_chunk_half_s": parallel["parent_per_chunk_s"]
        - serial["parent_per_chunk_s"] / 2,
        "close_s": parallel["close_s"] or 0.0,
    }
    ideal = serial["seconds"] / WORKERS
    losses["total_s"] = parallel["seconds"] - ideal
    losses["unexplained_s"] = losses["total_s"] - sum(
        v for k, v in losses.items() if k != "total_s"
    )
    return {
        "scenario": str(KURSK.relative_to(ROOT)),
        "replications": n,
        "chunk_size": chunk,
        "calibration": cal,
        "serial": serial,
        "parallel": parallel,
        "efficiency": eff,
        "target": TARGET_EFFICIENCY,
        "meets_target": eff >= TARGET_EFFICIENCY,
        "serial_at_least_s": cfg["serial_seconds"],
        "serial_long_enough": serial["seconds"] >= cfg["serial_seconds"],
        "ideal_parallel_s": ideal,
        "losses": losses,
        "serial_compute_ms_per_rep": 1e3 * per_rep,
        "parallel_cpu_ms_per_rep": 1e3 * parallel["cpu_seconds"] / n,
        "serial_cpu_ms_per_rep": 1e3 * serial["cpu_seconds"] / n,
    }


# --------------------------------------------------------------------------- 2. dask
def bench_dask(n: int, seed: int) -> dict[str, Any]:
    import logging

    from sim.scenario import load_scenario

    try:
        from dask.distributed import LocalCluster
    except ImportError:
        return {"available": False, "reason": "dask.distributed is not installed"}
    logging.getLogger("distributed").setLevel(logging.ERROR)
    scn = load_scenario(KURSK)
    local = timed_run(scn, n, seed=seed, workers=WORKERS, backend="local")
    cold = timed_run(scn, n, seed=seed, workers=WORKERS, backend="dask")
    t = time.perf_counter()
    cluster = LocalCluster(
        n_workers=WORKERS,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )
    start_s = time.perf_counter() - t
    try:
        address = cluster.scheduler_address
        warm_n = max(4, n // 16)
        warmup = timed_run(scn, warm_n, seed=seed, backend="dask", scheduler=address)
        warm = timed_run(scn, n, seed=seed, backend="dask", scheduler=address)
    finally:
        t = time.perf_counter()
        cluster.close()
        stop_s = time.perf_counter() - t
    cold_ratio = cold["reps_per_s"] / local["reps_per_s"]
    warm_ratio = warm["reps_per_s"] / local["reps_per_s"]
    return {
        "available": True,
        "replications": n,
        "local": local,
        "dask_cold": cold,
        "cluster_start_s": start_s,
        "cluster_close_s": stop_s,
        "dask_warmup": warmup,
        "dask_warm": warm,
        "ratio_with_startup": cold_ratio,
        "ratio_started_cluster": warm_ratio,
        "target": TARGET_DASK,
        "meets_target_with_startup": cold_ratio >= TARGET_DASK,
        "meets_target_started_cluster": warm_ratio >= TARGET_DASK,
    }


# --------------------------------------------------------------------------- 3. memory
def pxsim_command() -> list[str]:
    """The ``pxsim`` console script of this interpreter (else ``python -m sim``)."""
    script = Path(sys.executable).with_name("pxsim")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "sim"]


def sample_tree(cmd: list[str], every: float = SAMPLE_EVERY) -> dict[str, Any]:
    """Run ``cmd`` under a wrapper that reports ``RUSAGE_CHILDREN.ru_maxrss``; sample the RSS
    of the command's process (the *main* process) and of all its descendants."""
    import psutil

    fd, maxrss_file = tempfile.mkstemp(prefix="pxsim-maxrss-")
    os.close(fd)
    peak_main = peak_total = peak_single = 0
    peak_procs = samples = 0
    t0 = time.perf_counter()
    with Meter() as meter:
        wrapper = subprocess.Popen(
            [sys.executable, "-c", WRAPPER, maxrss_file, *cmd],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        out: dict[str, str] = {}

        def drain(name: str, stream: Any) -> None:
            out[name] = stream.read()

        readers = [
            threading.Thread(target=drain, args=(k, s))
            for k, s in (("stdout", wrapper.stdout), ("stderr", wrapper.stderr))
        ]
        for r in readers:
            r.start()
        shim = psutil.Process(wrapper.pid)
        while wrapper.poll() is None:
            with contextlib.suppress(psutil.Error):
                procs = shim.children(recursive=True)
                main = [p for p in procs if p.ppid() == wrapper.pid]
                rss = {}
                for p in procs:
                    with contextlib.suppress(psutil.Error):
                        rss[p.pid] = p.memory_info().rss
                if rss:
                    samples += 1
                    total = sum(rss.values())
                    peak_total = max(peak_total, total)
                    peak_single = max(peak_single, *rss.values())
                    peak_procs = max(peak_procs, len(rss))
                    if main and main[0].pid in rss:
                        peak_main = max(peak_main, rss[main[0].pid])
            time.sleep(every)
        for r in readers:
            r.join()
    seconds = time.perf_counter() - t0
    text = Path(maxrss_file).read_text().strip()
    Path(maxrss_file).unlink(missing_ok=True)
    if wrapper.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.get('stderr', '')[-2000:]}")
    mib = 1024 * 1024
    return {
        "seconds": seconds,
        "samples": samples,
        "peak_main_mib": peak_main / mib,
        "peak_total_mib": peak_total / mib,
        "peak_single_process_mib": peak_single / mib,
        "most_processes": peak_procs,
        "ru_maxrss_children_mib": int(text) / 1024 if text else None,  # Linux: KiB
        "stdout_tail": out.get("stdout", "").strip().splitlines()[-1:],
        "machine": meter.figures(),
    }


def bench_memory(n: int, seed: int) -> dict[str, Any]:
    runs = {}
    for label, reps in (("n", n), ("10n", 10 * n)):
        with tempfile.TemporaryDirectory(prefix="pxsim-bench-mem-") as scratch:
            cmd = [
                *pxsim_command(),
                "run",
                str(MINIMAL),
                "-n",
                str(reps),
                "--seed",
                str(seed),
                "--workers",
                str(WORKERS),
                "--out",
                str(Path(scratch) / "out"),
                "--quiet",
            ]
            res = sample_tree(cmd)
        res["replications"] = reps
        res["reps_per_s"] = reps / res["seconds"]
        runs[label] = res
    a, b = runs["n"], runs["10n"]

    def ratio(key: str) -> float | None:
        return b[key] / a[key] if a[key] and b[key] else None

    main_ratio, total_ratio = ratio("peak_main_mib"), ratio("peak_total_mib")
    worst = max(r for r in (main_ratio, total_ratio) if r is not None)
    return {
        "scenario": str(MINIMAL.relative_to(ROOT)),
        "command": " ".join(
            Path(c).name if i == 0 else c for i, c in enumerate([*pxsim_command(), "run"])
        ),
        "n": a,
        "10n": b,
        "ratio_peak_main": main_ratio,
        "ratio_peak_total": total_ratio,
        "ratio_ru_maxrss": ratio("ru_maxrss_children_mib"),
        "target": TARGET_MEMORY,
        "meets_target": worst <= TARGET_MEMORY,
    }


# --------------------------------------------------------------------------- 4. sweep
def sweep_available() -> bool:
    proc = subprocess.run(
        [*pxsim_command(), "sweep", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    return proc.returncode == 0 and "--param" in proc.stdout


def bench_sweep(points: int, reps: int, seed: int) -> dict[str, Any]:
    if not sweep_available():
        return {"available": False, "reason": "`pxsim sweep` is not available"}
    with tempfile.TemporaryDirectory(prefix="pxsim-bench-sweep-") as scratch:
        cmd = [*pxsim_command(), "sweep", str(KURSK)]
        for p in SWEEP_PARAMS:
            cmd += ["--param", p]
        cmd += [
            "--design",
            "lhs",
            "--points",
            str(points),
            "-n",
            str(reps),
            "--seed",
            str(seed),
            "--workers",
            str(WORKERS),
            "--out",
            str(Path(scratch) / "out"),
            "--quiet",
        ]
        with Meter() as m:
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            return {
                "available": True,
                "failed": True,
                "returncode": proc.returncode,
                "stderr": proc.stderr[-2000:],
            }
        with open(Path(scratch) / "out" / "sweep.csv") as fh:
            rows = sum(1 for _ in fh) - 1
    found = re.search(r"chunk\(s\) run.* in ([0-9.]+) s", proc.stdout)
    total = points * reps
    return {
        "available": True,
        "failed": False,
        "scenario": str(KURSK.relative_to(ROOT)),
        "params": list(SWEEP_PARAMS),
        "design": "lhs",
        "points": points,
        "replications_per_point": reps,
        "replications": total,
        "rows_written": rows,
        "reps_per_s": total / m.seconds,
        "reported_seconds": float(found.group(1)) if found else None,
        **m.figures(),
    }


# --------------------------------------------------------------------------- printing
def _load(m: dict[str, Any]) -> str:
    other = m.get("other_processes_cores")
    la = m["load_before"][0], m["load_after"][0]
    extra = f", other processes {other:.2f} cores" if other is not None else ""
    return f"load {la[0]:.2f}->{la[1]:.2f}{extra}"


def _row(label: str, r: dict[str, Any]) -> str:
    return (
        f"   {label:30} {r['replications']:>6} {r['seconds']:>8.2f} {r['reps_per_s']:>8.2f}"
        f"   {_load(r)}"
    )


def report(res: dict[str, Any]) -> str:
    m = res["meta"]
    lines = [
        f"pxsim {m['pxsim']} scale benchmark ({'quick' if m['quick'] else 'full'}): "
        f"Python {m['python']}, {m['machine']}, {m['cpus']} CPUs, seed {m['seed']}, "
        f"load average at start {m['load_start'][0]:.2f} / {m['load_start'][1]:.2f} / "
        f"{m['load_start'][2]:.2f}",
    ]
    ps = res.get("pool_startup")
    if ps is not None:
        lines.append(
            f"   spawn pool of {WORKERS}: all workers ready after {ps['all_ready_s']:.2f} s "
            f"(import sim.chunks in a worker {ps['import_sim_chunks_s']:.2f} s); fresh "
            f"interpreter: import sim.chunks {res['imports']['sim.chunks']:.2f} s, "
            f"sim.cli {res['imports']['sim.cli']:.2f} s"
        )
    e = res["efficiency"]
    hdr = f"   {'':30} {'reps':>6} {'seconds':>8} {'reps/s':>8}"
    lines += [
        "",
        f"1. Parallel efficiency on {WORKERS} cores ({e['scenario']}, run_to_dir, "
        f"chunks of {e['chunk_size']})",
        hdr,
        _row("serial (workers=1)", e["serial"]),
        _row(f"local pool (workers={WORKERS})", e["parallel"]),
        f"   efficiency = {e['efficiency']:.3f}  (target >= {TARGET_EFFICIENCY}: "
        f"{'met' if e['meets_target'] else 'NOT met'})"
        + ("" if e["serial_long_enough"] else f"; serial ran < {e['serial_at_least_s']:g} s"),
    ]
    p, lo = e["parallel"], e["losses"]
    lines += [
        f"   {WORKERS}-worker run: ideal {e['ideal_parallel_s']:.2f} s, took "
        f"{p['seconds']:.2f} s (+{lo['total_s']:.2f} s): start-up to first result "
        f"{lo['startup_s']:.2f}, parent per-chunk work {p['parent_per_chunk_s']:.2f} "
        f"(serial {e['serial']['parent_per_chunk_s']:.2f}), finalize {p['finalize_s']:.2f} "
        f"(serial {e['serial']['finalize_s']:.2f}), pool close {lo['close_s']:.2f}, "
        f"rest {lo['unexplained_s']:.2f}",
        f"   CPU per replication: serial {e['serial_cpu_ms_per_rep']:.1f} ms, "
        f"{WORKERS} workers {e['parallel_cpu_ms_per_rep']:.1f} ms (parent + workers); "
        f"cores used {p['cores_used']:.2f}",
    ]
    d = res["dask"]
    lines += ["", f"2. Dask local cluster vs local process pool ({WORKERS} workers each)"]
    if not d.get("available"):
        lines.append(f"   not run: {d.get('reason')}")
    else:
        lines += [
            hdr,
            _row("local pool", d["local"]),
            _row("dask, cluster started by pxsim", d["dask_cold"]),
            _row("dask, warm-up on started cluster", d["dask_warmup"]),
            _row("dask, started cluster", d["dask_warm"]),
            f"   dask / local incl. cluster start-up = {d['ratio_with_startup']:.3f}; on a "
            f"started cluster = {d['ratio_started_cluster']:.3f}  (target >= {TARGET_DASK}: "
            f"{'met' if d['meets_target_with_startup'] else 'NOT met'} / "
            f"{'met' if d['meets_target_started_cluster'] else 'NOT met'})",
            f"   cluster start-up inside pxsim {d['dask_cold']['backend_start_s']:.2f} s, "
            f"close {d['dask_cold']['close_s']:.2f} s; LocalCluster started here in "
            f"{d['cluster_start_s']:.2f} s; first result: local "
            f"{d['local']['first_result_s']:.2f} s, dask cold "
            f"{d['dask_cold']['first_result_s']:.2f} s, dask warm "
            f"{d['dask_warm']['first_result_s']:.2f} s",
        ]
    mem = res["memory"]
    a, b = mem["n"], mem["10n"]
    lines += [
        "",
        f"3. Peak memory, {mem['command']} {mem['scenario']} --workers {WORKERS} "
        f"(RSS every {1000 * SAMPLE_EVERY:.0f} ms)",
        f"   {'':10} {'reps':>7} {'seconds':>8} {'main MiB':>9} {'total MiB':>10} "
        f"{'largest':>8} {'ru_maxrss':>10} {'procs':>6}",
    ]
    for label, r in (("N", a), ("10 N", b)):
        lines.append(
            f"   {label:10} {r['replications']:>7} {r['seconds']:>8.1f} "
            f"{r['peak_main_mib']:>9.1f} {r['peak_total_mib']:>10.1f} "
            f"{r['peak_single_process_mib']:>8.1f} {r['ru_maxrss_children_mib'] or 0:>10.1f} "
            f"{r['most_processes']:>6}   {_load(r['machine'])}"
        )
    lines.append(
        f"   ratio 10N / N: main {mem['ratio_peak_main']:.3f}, total "
        f"{mem['ratio_peak_total']:.3f}, ru_maxrss {mem['ratio_ru_maxrss'] or float('nan'):.3f}"
        f"  (target <= {TARGET_MEMORY}: {'met' if mem['meets_target'] else 'NOT met'})"
    )
    s = res["sweep"]
    lines += ["", "4. Sweep, pxsim sweep (LHS) of scenarios/kursk_2025.yaml"]
    if not s.get("available"):
        lines.append(f"   not run: {s.get('reason')}")
    elif s.get("failed"):
        lines.append(f"   FAILED (exit {s['returncode']}): {s['stderr'].strip()[-500:]}")
    else:
        rep = s["reported_seconds"]
        lines += [
            f"   {s['points']} points x {s['replications_per_point']} replications = "
            f"{s['replications']:,} ({len(s['params'])} params, {WORKERS} workers): "
            f"{s['seconds']:.1f} s wall"
            + (f" ({rep:.1f} s reported by pxsim)" if rep is not None else "")
            + f", {s['reps_per_s']:.1f} reps/s   {_load(s)}",
        ]
    lines += [
        "",
        f"load average at the end {' / '.join(f'{x:.2f}' for x in res['meta']['load_end'])}",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def section(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    print(f"[{time.strftime('%H:%M:%S')}] {name} ...", file=sys.stderr, flush=True)
    return fn()


@contextlib.contextmanager
def _quiet_warnings() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (under a minute), for tests")
    ap.add_argument("--json", metavar="FILE", help="also write every figure to FILE as JSON")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL

    from sim import __version__

    t0 = time.perf_counter()
    res: dict[str, Any] = {
        "meta": {
            "pxsim": __version__,
            "python": platform.python_version(),
            "machine": f"{platform.machine()} {platform.system()}",
            "cpus": os.cpu_count(),
            "seed": args.seed,
            "quick": args.quick,
            "workers": WORKERS,
            "load_start": list(os.getloadavg()),
        }
    }
    if not args.quick:  # diagnostics of worker start-up (a few seconds)
        res["pool_startup"] = section("pool start-up", pool_startup)
        res["imports"] = {m: import_seconds(m) for m in ("sim.chunks", "sim.cli")}
    res["efficiency"] = section("1. parallel efficiency", lambda: bench_efficiency(cfg, args.seed))
    n = res["efficiency"]["replications"]
    with _quiet_warnings():
        res["dask"] = section("2. dask vs local", lambda: bench_dask(n, args.seed))
    res["memory"] = section("3. memory", lambda: bench_memory(cfg["mem_n"], args.seed))
    res["sweep"] = section(
        "4. sweep", lambda: bench_sweep(cfg["sweep_points"], cfg["sweep_reps"], args.seed)
    )
    res["meta"]["load_end"] = list(os.getloadavg())
    res["meta"]["total_seconds"] = time.perf_counter() - t0
    print(report(res))
    print(f"\n(benchmark took {res['meta']['total_seconds']:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2, allow_nan=True) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
