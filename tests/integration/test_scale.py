"""Experiments at scale: identical results whatever the workers, chunking or backend; runs
that survive interruption, killed workers and killed processes; output directories that are
never silently overwritten; replications until a precision is reached; progress."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.api import run as api_run
from sim.experiments.options import Execution
from sim.experiments.runner import Precision, run_to_dir
from sim.experiments.store import CONTRACT, OutputDirError
from sim.scenario.schema import Scenario


def same_contract(a: Path, b: Path) -> None:
    for name in CONTRACT:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    pa, pb = pd.read_parquet(a / "runs"), pd.read_parquet(b / "runs")
    pd.testing.assert_frame_equal(pa.reset_index(drop=True), pb.reset_index(drop=True))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, kursk_scenario: Scenario) -> Path:
    out = tmp_path_factory.mktemp("ref")
    run_to_dir(
        kursk_scenario,
        out,
        seed=5,
        replications=40,
        execution=Execution(workers=1, chunk_size=40),
    )
    return out


@pytest.mark.parametrize(("workers", "chunk"), [(1, 3), (2, 7), (2, 40), (2, 1)])
def test_identical_whatever_workers_and_chunks(
    reference: Path, tmp_path: Path, workers: int, chunk: int, kursk_scenario: Scenario
) -> None:
    report = run_to_dir(
        kursk_scenario,
        tmp_path,
        seed=5,
        replications=40,
        execution=Execution(workers=workers, chunk_size=chunk),
    )
    # one worker or a single chunk runs in this process; otherwise a process pool
    assert report.backend == ("serial" if workers == 1 or chunk >= 40 else "local")
    same_contract(reference, tmp_path)


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_results(
    reference: Path, tmp_path: Path, kursk_scenario: Scenario
) -> None:
    pytest.importorskip("dask.distributed")
    report = run_to_dir(
        kursk_scenario,
        tmp_path,
        seed=5,
        replications=40,
        execution=Execution(workers=2, chunk_size=6, backend="dask"),
    )
    assert report.backend == "dask" and report.workers == 2
    same_contract(reference, tmp_path)


def test_existing_scheduler_address(
    reference: Path, tmp_path: Path, kursk_scenario: Scenario
) -> None:
    """A real scheduler and workers started as processes, reached by address."""
    pytest.importorskip("dask.distributed")
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        report = run_to_dir(
            kursk_scenario,
            tmp_path,
            seed=5,
            replications=40,
            execution=Execution(chunk_size=10, backend="dask", scheduler=cluster.scheduler_address),
        )
    assert report.workers == 2
    same_contract(reference, tmp_path)


def test_unreachable_scheduler_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], minimal_path: Path
) -> None:
    pytest.importorskip("dask.distributed")
    from sim.cli.main import main

    code = main(
        [
            "run",
            str(minimal_path),
            "-n",
            "4",
            "--backend",
            "dask",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert "Traceback" not in err


def test_a_different_run_is_not_overwritten_without_force(
    tmp_path: Path, minimal_scenario: Scenario
) -> None:
    scn = minimal_scenario
    run_to_dir(scn, tmp_path, seed=1, replications=4, execution=Execution(workers=1))
    before = (tmp_path / "runs.csv").read_bytes()
    with pytest.raises(OutputDirError, match="holds a different run"):
        run_to_dir(scn, tmp_path, seed=2, replications=4, execution=Execution(workers=1))
    with pytest.raises(OutputDirError, match="already holds this run"):
        run_to_dir(scn, tmp_path, seed=1, replications=4, execution=Execution(workers=1))
    assert (tmp_path / "runs.csv").read_bytes() == before
    run_to_dir(scn, tmp_path, seed=2, replications=4, execution=Execution(workers=1, force=True))
    assert set(pd.read_csv(tmp_path / "runs.csv")["seed"]) == {2}


def test_a_non_pxsim_directory_is_refused(tmp_path: Path, minimal_scenario: Scenario) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputDirError, match="holds no pxsim run"):
        run_to_dir(minimal_scenario, tmp_path, replications=2, execution=Execution(workers=1))
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_resume_after_losing_chunks_gives_identical_files(
    reference: Path, tmp_path: Path, kursk_scenario: Scenario
) -> None:
    scn = kursk_scenario
    run_to_dir(scn, tmp_path, seed=5, replications=40, execution=Execution(workers=1, chunk_size=8))
    for part in sorted((tmp_path / "runs").glob("part-*"))[1::2]:
        part.unlink()  # as if the run had been killed before these chunks finished
    for name in CONTRACT:
        (tmp_path / name).unlink()
    report = run_to_dir(
        scn, tmp_path, seed=5, replications=40, execution=Execution(workers=1, resume=True)
    )
    assert report.chunks_reused == 3 and report.chunks_run == 2
    same_contract(reference, tmp_path)


def test_until_precision_adds_replications_until_narrow(
    tmp_path: Path, minimal_scenario: Scenario
) -> None:
    scn = minimal_scenario
    report = run_to_dir(
        scn,
        tmp_path / "p",
        seed=3,
        replications=20,
        until=Precision("repatriated", 15.0),
        execution=Execution(workers=1),
    )
    p = report.precision
    assert p is not None and p["reached"] and p["halfwidth"] <= 15.0
    assert report.replications > 20
    manifest = json.loads((tmp_path / "p" / "manifest.json").read_text())
    assert manifest["replications"] == report.replications
    assert manifest["precision"]["reached"] is True
    # the same as a plain run of that many replications
    plain = run_to_dir(
        scn,
        tmp_path / "q",
        seed=3,
        replications=report.replications,
        execution=Execution(
            workers=1,
            chunk_size=json.loads((tmp_path / "p" / "run.json").read_text())["chunk_size"],
        ),
    )
    assert plain.replications == report.replications
    for name in ("runs.csv", "summary.csv", "timeseries.csv"):
        assert (tmp_path / "p" / name).read_bytes() == (tmp_path / "q" / name).read_bytes()


def test_until_precision_stops_at_the_maximum(tmp_path: Path, minimal_scenario: Scenario) -> None:
    report = run_to_dir(
        minimal_scenario,
        tmp_path,
        seed=3,
        replications=10,
        until=Precision("repatriated", 0.001),
        max_replications=30,
        execution=Execution(workers=1),
    )
    assert report.replications == 30
    assert report.precision is not None and not report.precision["reached"]


def test_python_api_returns_frames(tmp_path: Path, minimal_path: Path) -> None:
    res = api_run(minimal_path, 8, seed=2, workers=2, out=tmp_path / "api")
    assert len(res.runs) == 8 and list(res.runs["replication"]) == list(range(8))
    assert set(res.summary["metric"]) >= {"repatriated", "deals"}
    assert res.report.backend == "local"
    again = api_run(minimal_path, 8, seed=2, workers=1)
    pd.testing.assert_frame_equal(res.runs, again.runs)


# ---------------------------------------------------------------------------- real processes
def _start(args: list[str], **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )  # type: ignore[call-overload]


def _wait_for_parts(out: Path, n: int, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        parts = list((out / "runs").glob("part-*.parquet")) if (out / "runs").exists() else []
        if len(parts) >= n:
            return
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("no chunks appeared")


@pytest.fixture(scope="module")
def long_reference(
    tmp_path_factory: pytest.TempPathFactory, minimal_path: Path, minimal_scenario: Scenario
) -> Path:
    out = tmp_path_factory.mktemp("long")
    run_to_dir(
        minimal_scenario,
        out,
        seed=11,
        replications=300,
        source=str(minimal_path),
        execution=Execution(workers=2, chunk_size=10),
    )  # as the command line records it
    return out


@pytest.mark.slow
def test_killed_process_then_resume_is_identical(
    long_reference: Path, tmp_path: Path, minimal_path: Path
) -> None:
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "k"
    args = [
        "run",
        str(minimal_path),
        "-n",
        "300",
        "--seed",
        "11",
        "--workers",
        "2",
        "--chunk-size",
        "10",
        "--out",
        str(out),
        "--quiet",
    ]
    proc = _start(args)
    _wait_for_parts(out, 3, proc)
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.kill()  # SIGKILL: no chance to clean up
    for child in children:
        child.kill()
    proc.wait()
    done = len(list((out / "runs").glob("part-*.parquet")))
    assert 3 <= done < 30
    assert not (out / "runs.csv").exists()
    resumed = subprocess.run(
        [sys.executable, "-m", "sim", *args, "--resume"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done} reused" in resumed.stdout
    same_contract(long_reference, out)


@pytest.mark.slow
def test_ctrl_c_keeps_finished_chunks_and_says_how_to_resume(
    long_reference: Path, tmp_path: Path, minimal_path: Path
) -> None:
    out = tmp_path / "c"
    args = [
        "run",
        str(minimal_path),
        "-n",
        "300",
        "--seed",
        "11",
        "--workers",
        "2",
        "--chunk-size",
        "10",
        "--out",
        str(out),
        "--quiet",
    ]
    proc = _start(args, start_new_session=True)
    _wait_for_parts(out, 2, proc)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    assert list((out / "runs").glob("part-*.parquet"))
    resumed = subprocess.run(
        [sys.executable, "-m", "sim", *args, "--resume"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    same_contract(long_reference, out)


def _long_run(scenario: Path, out: Path) -> list[str]:
    """``pxsim run`` arguments for 300 replications in chunks of 10 on two workers: long
    enough to be interrupted or have a worker killed while it runs."""
    args = ["-n", "300", "--seed", "11", "--workers", "2", "--chunk-size", "10", "--quiet"]
    return ["run", str(scenario), *args, "--out", str(out)]


@pytest.mark.slow
def test_sigterm_is_an_interrupt(tmp_path: Path, minimal_path: Path) -> None:
    out = tmp_path / "t"
    proc = _start(_long_run(minimal_path, out))
    _wait_for_parts(out, 2, proc)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "--resume" in stderr


@pytest.mark.slow
def test_a_killed_worker_has_its_chunk_rerun(
    long_reference: Path, tmp_path: Path, minimal_path: Path
) -> None:
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "w"
    proc = _start(_long_run(minimal_path, out))
    _wait_for_parts(out, 2, proc)
    workers = [
        c
        for c in psutil.Process(proc.pid).children(recursive=True)
        if "spawn" in " ".join(c.cmdline()) or "multiprocessing" in " ".join(c.cmdline())
    ]
    assert workers, "no worker processes found"
    workers[0].kill()
    _stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    same_contract(long_reference, out)


def test_progress_bar_on_request_and_quiet_otherwise(tmp_path: Path, minimal_path: Path) -> None:
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            str(minimal_path),
            "-n",
            "6",
            "--workers",
            "1",
            "--progress",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "6/6" in shown.stderr and "rep" in shown.stderr
    quiet = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(minimal_path), "-n", "6", "--workers", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert quiet.stderr == ""  # not a terminal: no bar


@pytest.mark.slow
def test_runs_from_a_notebook_kernel(tmp_path: Path, minimal_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import sim\n"
            f"res = sim.run(r'{minimal_path}', 12, seed=4, workers=2)\n"
            "print(res.report.backend, res.report.workers, len(res.runs))\n"
            "print(int(res.runs['repatriated'].sum()))"
        )
    ]
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    out = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert out.splitlines()[0] == "local 2 12"
    expected = api_run(minimal_path, 12, seed=4, workers=1).runs["repatriated"].sum()
    assert int(out.splitlines()[1]) == int(expected)
