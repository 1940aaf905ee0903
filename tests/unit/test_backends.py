"""sim/experiments/backends.py: which backend runs the work, and what running it promises (every
task's result handed to ``on_result`` exactly once, in any order; the backend actually used
reported back; clear errors)."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

import pytest

from sim.experiments.backends import (
    BackendError,
    LocalBackend,
    SerialBackend,
    interrupt_on_sigterm,
    local_workers,
    make_backend,
    run_tasks,
)
from sim.experiments.options import Execution


@dataclass(frozen=True)
class Job:
    """A task as backends see one: picklable, with ``key``, ``start`` and ``stop``."""

    start: int
    stop: int

    @property
    def key(self) -> tuple[int, int]:
        return (-1, self.start)


def total(job: Job) -> tuple[int, int, int]:
    """A pure function of a task (module level, so worker processes can import it)."""
    return job.start, sum(range(job.start, job.stop)), os.getpid()


JOBS = [Job(a, a + 3) for a in range(0, 24, 3)]
EXPECTED = {a: sum(range(a, a + 3)) for a in range(0, 24, 3)}


def collect(execution: Execution) -> tuple[list[tuple[int, int, int]], tuple[str, int]]:
    got: list[tuple[int, int, int]] = []
    used = run_tasks(JOBS, got.append, fn=total, execution=execution)
    return got, used


# ---------------------------------------------------------------------- choosing a backend
def test_local_workers_defaults_to_every_core() -> None:
    assert local_workers(None) == (os.cpu_count() or 1)
    assert local_workers(0) == (os.cpu_count() or 1)
    assert local_workers(3) == 3


def test_serial_is_serial_whatever_the_workers() -> None:
    backend = make_backend("serial", workers=8)
    assert isinstance(backend, SerialBackend)
    assert (backend.name, backend.workers) == ("serial", 1)


@pytest.mark.parametrize(("workers", "n_tasks"), [(1, None), (1, 10), (4, 1), (4, 0)])
def test_local_runs_in_this_process_when_a_pool_cannot_help(workers: int, n_tasks: int) -> None:
    assert isinstance(make_backend("local", workers, n_tasks=n_tasks), SerialBackend)


def test_local_with_workers_and_work_is_a_pool_of_that_size() -> None:
    backend = make_backend("local", workers=3, n_tasks=10)
    try:
        assert isinstance(backend, LocalBackend)
        assert (backend.name, backend.workers) == ("local", 3)
    finally:
        backend.close()  # no pool was started: closing is harmless


def test_unknown_backend_is_a_backend_error() -> None:
    with pytest.raises(BackendError, match="unknown backend 'threads'; expected local, serial"):
        make_backend("threads")
    with pytest.raises(BackendError, match="unknown backend 'threads'"):
        run_tasks(JOBS, print, fn=total, execution=Execution(backend="threads"))


def test_a_scheduler_is_only_for_dask() -> None:
    for name in ("local", "serial"):
        with pytest.raises(BackendError, match="--scheduler is only for --backend dask"):
            make_backend(name, scheduler="tcp://127.0.0.1:8786")


# ---------------------------------------------------------------------- running tasks
def test_serial_run_hands_each_result_over_once_in_order() -> None:
    got, used = collect(Execution(backend="serial"))
    assert used == ("serial", 1)
    assert [(a, s) for a, s, _ in got] == sorted(EXPECTED.items())
    assert {pid for *_, pid in got} == {os.getpid()}  # in this process


def test_local_pool_hands_each_result_over_once_in_any_order() -> None:
    got, used = collect(Execution(workers=2))
    assert used == ("local", 2)
    assert len(got) == len(JOBS)  # once per task: no result lost, none twice
    assert {a: s for a, s, _ in got} == EXPECTED
    assert os.getpid() not in {pid for *_, pid in got}  # in worker processes


def test_one_task_runs_here_even_when_workers_are_asked_for() -> None:
    got: list[tuple[int, int, int]] = []
    used = run_tasks(JOBS[:1], got.append, fn=total, execution=Execution(workers=4))
    assert used == ("serial", 1)
    assert got == [(0, 3, os.getpid())]


def test_no_tasks_no_backend() -> None:
    got: list[object] = []
    assert run_tasks([], got.append, fn=total, execution=Execution(backend="nope")) == ("none", 0)
    assert got == []


def test_an_error_in_a_task_reaches_the_caller() -> None:
    def fails(job: Job) -> None:
        raise ValueError(f"task {job.start} failed")

    with pytest.raises(ValueError, match="task 0 failed"):
        run_tasks(JOBS, print, fn=fails, execution=Execution(backend="serial"))


def test_sigterm_interrupts_like_ctrl_c_inside_and_only_inside() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), interrupt_on_sigterm():
        signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before


# ---------------------------------------------------------------------- workers from the work
def test_a_pool_pays_only_when_the_work_left_outweighs_its_start_up() -> None:
    from sim.experiments.backends import POOL_START_UP_S, pool_pays

    assert POOL_START_UP_S == 0.8
    # 2 workers save half of the work left: 1.7 s saved > 0.8 s, 0.75 s saved < 0.8 s
    assert pool_pays(0.1, 34, 2) and not pool_pays(0.1, 15, 2)
    assert pool_pays(1.0, 2, 4)  # 1.5 s saved
    assert not pool_pays(10.0, 0, 2)  # nothing left


def test_left_to_itself_a_small_run_never_starts_a_pool() -> None:
    """With the workers not given, quick tasks all run here (no pool start-up to pay), and
    the report says so; given two workers, the same tasks go to a pool."""
    backend = make_backend("local", None, n_tasks=len(JOBS))
    assert isinstance(backend, LocalBackend) and backend.auto
    got: list[tuple[int, int, int]] = []
    try:
        backend.run(JOBS, got.append, fn=total)
    finally:
        backend.close()
    assert (backend.name, backend.workers) == ("serial", 1)
    assert {pid for *_, pid in got} == {os.getpid()}
    assert {a: s for a, s, _ in got} == EXPECTED
    assert not make_backend("local", 2, n_tasks=len(JOBS)).auto  # asked for: a pool
