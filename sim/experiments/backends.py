"""Where chunks run: in this process, a local process pool, or a Dask cluster.

Every backend takes a list of tasks (``ChunkTask`` by default; any picklable object with
``key``, ``start`` and ``stop``) and a pure function of one task (``run_chunk`` by default),
and calls ``on_result`` with each result as it finishes, in any order (the caller puts them
in order). A worker that dies has its task run again; a task that keeps killing its workers
is given up after a few attempts.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Protocol

from sim.experiments.chunks import run_chunk
from sim.experiments.options import DEFAULT, Execution

OnResult = Callable[[Any], None]
Work = Callable[[Any], Any]  # a pure function of one task (default: ``run_chunk``)
MAX_ATTEMPTS = 3


class BackendError(Exception):
    """A backend cannot run the work (missing optional dependency, unreachable scheduler,
    a chunk that keeps failing)."""


class Backend(Protocol):
    name: str
    workers: int

    def run(self, tasks: Iterable[Any], on_result: OnResult, fn: Work = run_chunk) -> None: ...

    def close(self) -> None: ...


def _context() -> Any:
    """``spawn`` (clean workers, safe with threads and notebooks), unless the main program is
    not a file spawn can re-import (a script piped to ``python -``): then ``fork``."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if (
        path is not None
        and not os.path.exists(path)
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def local_workers(requested: int | None) -> int:
    return max(1, requested if requested else (os.cpu_count() or 1))


class SerialBackend:
    """Everything in this process, in order."""

    name = "serial"
    workers = 1

    def run(self, tasks: Iterable[Any], on_result: OnResult, fn: Work = run_chunk) -> None:
        for task in tasks:
            on_result(fn(task))

    def close(self) -> None:
        pass


# seconds from starting a spawn pool to its first result on the 2-core machine (workers
# importing sim.experiments.chunks; benchmarks/README.md, "Where the time goes")
POOL_START_UP_S = 0.8


def pool_pays(seconds_per_task: float, remaining: int, workers: int) -> bool:
    """Whether starting a pool of ``workers`` would finish ``remaining`` tasks sooner than
    running them here, one after another: it saves ``1 − 1/workers`` of their time and costs
    ``POOL_START_UP_S``."""
    return seconds_per_task * remaining * (1 - 1 / workers) > POOL_START_UP_S


class LocalBackend:
    """A pool of worker processes started with ``spawn`` (safe from notebooks and threads).

    At most ``2 × workers`` chunks are in flight, so memory stays bounded. If a worker dies
    (the pool breaks), the pool is restarted and unfinished chunks are submitted again.

    With the number of workers left to it (``auto``), it chooses it from the work: tasks run
    here, one by one, while the work left is too small for a pool to pay for its start-up
    (``pool_pays``, from the time the tasks so far took); a small run never starts one, so it
    is never slower on two workers than on one. Results are the same either way (tasks are
    pure functions of themselves)."""

    name = "local"

    def __init__(self, workers: int | None = None, *, auto: bool = False) -> None:
        self.workers = local_workers(workers)
        self.auto = auto
        self._pool: ProcessPoolExecutor | None = None

    def _here_while_cheaper(self, pending: list[Any], on_result: OnResult, fn: Work) -> list[Any]:
        """Run tasks in this process while a pool would not pay; return the rest."""
        spent, done = 0.0, 0
        while pending:
            t0 = time.perf_counter()
            on_result(fn(pending.pop()))
            spent += time.perf_counter() - t0
            done += 1
            if pool_pays(spent / done, len(pending), self.workers):
                break
        if not pending and self._pool is None:
            self.name, self.workers = "serial", 1  # it all ran here
        self.auto = False
        return pending

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=_context())

    def run(self, tasks: Iterable[Any], on_result: OnResult, fn: Work = run_chunk) -> None:
        pending = list(tasks)[::-1]  # pop from the end: submit in order
        if self.auto and self._pool is None:
            pending = self._here_while_cheaper(pending, on_result, fn)
        attempts: dict[tuple[int, int], int] = {}
        inflight: dict[Future[Any], Any] = {}
        limit = 2 * self.workers
        while pending or inflight:
            if self._pool is None:
                self._pool = self._new_pool()
            try:
                while pending and len(inflight) < limit:
                    task = pending.pop()
                    inflight[self._pool.submit(fn, task)] = task
                done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                for fut in done:
                    task = inflight.pop(fut)
                    on_result(fut.result())
            except BrokenProcessPool:
                # a worker died: every unfinished chunk goes back in the queue
                for fut, task in list(inflight.items()):
                    if fut.done() and not fut.cancelled() and fut.exception() is None:
                        on_result(fut.result())
                        continue
                    attempts[task.key] = attempts.get(task.key, 0) + 1
                    if attempts[task.key] >= MAX_ATTEMPTS:
                        raise BackendError(
                            f"chunk {task.start}..{task.stop - 1} failed {MAX_ATTEMPTS} times "
                            "(its worker process died each time; in a script, call pxsim "
                            "under `if __name__ == '__main__':` so workers can start)"
                        ) from None
                    pending.append(task)
                inflight.clear()
                self._discard_pool()

    def _discard_pool(self) -> None:
        if self._pool is not None:
            _stop_pool(self._pool)
            self._pool = None

    def close(self) -> None:
        """Stop the workers now (also on interrupt: running chunks are abandoned)."""
        pool = self._pool
        self._pool = None
        if pool is not None:
            _stop_pool(pool)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued, terminate the workers and wait for the pool's manager thread.
    Left running, that thread can race the interpreter's exit hook that wakes it, which then
    writes to a pipe the thread has just closed (a traceback at exit after Ctrl-C)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)  # shutdown forgets it
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)
        if proc.is_alive():  # deaf to SIGTERM: no worker outlives its pool
            proc.kill()
            proc.join(timeout=5)
    if manager is not None and manager.is_alive():
        manager.join(timeout=5)


class DaskBackend:
    """Dask distributed: an existing scheduler (``address``) or a local cluster of worker
    processes. Dask re-runs the tasks of a worker that dies."""

    name = "dask"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise BackendError(
                "--backend dask needs Dask distributed, which is not installed; install it with "
                "pip install 'pxsim[dask]'"
            ) from None
        self._cluster: Any = None
        try:
            if address:
                self._client = Client(address, timeout="20s")
            else:
                self._cluster = LocalCluster(
                    n_workers=local_workers(workers),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
                self._client = Client(self._cluster)
        except (OSError, ValueError) as exc:  # unreachable, or not an address at all
            raise BackendError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))

    def run(self, tasks: Iterable[Any], on_result: OnResult, fn: Work = run_chunk) -> None:
        from dask.distributed import as_completed

        todo = list(tasks)[::-1]
        limit = 2 * max(self.workers, 1)
        futures: list[Any] = []
        while todo and len(futures) < limit:
            t = todo.pop()
            futures.append(self._client.submit(fn, t, pure=False, retries=MAX_ATTEMPTS))
        stream = as_completed(futures)
        for fut in stream:
            on_result(fut.result())
            if todo:
                t = todo.pop()
                stream.add(self._client.submit(fn, t, pure=False, retries=MAX_ATTEMPTS))

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_backend(
    name: str, workers: int | None = None, scheduler: str | None = None, n_tasks: int | None = None
) -> Backend:
    """``local`` (default; serial when one worker or one chunk), ``serial`` or ``dask``."""
    if name == "dask":
        return DaskBackend(scheduler, workers)
    if scheduler:
        raise BackendError("--scheduler is only for --backend dask")
    if name == "serial":
        return SerialBackend()
    if name != "local":
        raise BackendError(f"unknown backend {name!r}; expected local, serial or dask")
    n = local_workers(workers)
    if n == 1 or (n_tasks is not None and n_tasks <= 1):
        return SerialBackend()
    return LocalBackend(n, auto=workers is None)


@contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C (in the main thread), so both leave finished chunks."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextmanager
def backend_session(execution: Execution, n_tasks: int | None = None) -> Iterator[Backend]:
    """One backend kept open for several batches of work (the rounds of a calibration and its
    check), so worker processes start once; always stopped at the end."""
    ex = execution
    engine = make_backend(ex.backend, ex.workers, ex.scheduler, n_tasks=n_tasks)
    try:
        yield engine
    finally:
        engine.close()


def run_tasks(
    tasks: Sequence[Any],
    on_result: OnResult,
    *,
    fn: Work = run_chunk,
    execution: Execution = DEFAULT,
    engine: Backend | None = None,
) -> tuple[str, int]:
    """Run ``tasks`` with ``fn`` on a backend (``engine`` if given, left open; else one made
    for them and stopped after), calling ``on_result`` as each finishes; SIGTERM interrupts
    like Ctrl-C. Returns (backend name, workers)."""
    if not tasks:
        return "none", 0
    if engine is not None:
        with interrupt_on_sigterm():
            engine.run(tasks, on_result, fn=fn)
        return engine.name, engine.workers
    with backend_session(execution, n_tasks=len(tasks)) as own:
        with interrupt_on_sigterm():
            own.run(tasks, on_result, fn=fn)
        return own.name, own.workers
