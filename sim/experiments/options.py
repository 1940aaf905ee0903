"""How work is executed, apart from what is computed: one frozen ``Execution`` object.

Seven options decide where and how replications run but never what they give (results are
identical, bit for bit, whatever they are): the number of worker processes, the chunk size, the
backend (``local`` process pool, ``serial``, ``dask``) and its scheduler address, whether to
resume an interrupted run or replace a different one in the output directory, and whether to
show a progress bar. Runs, sweeps, comparisons, calibrations, checks and forecasts all take one
``Execution`` instead of passing the seven values by hand through every signature.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Execution:
    """Where and how to run (never what): see the module docstring. Checked where used
    (an unknown backend or a bad scheduler address is a ``BackendError``)."""

    workers: int | None = None  # None: all cores (local) or the cluster's (dask)
    chunk_size: int | None = None  # replications per work unit; None: chosen from the work
    backend: str = "local"
    scheduler: str | None = None  # Dask scheduler address; None starts a local cluster
    resume: bool = False  # continue an interrupted run from its finished work units
    force: bool = False  # replace a different run already in the output directory
    progress: bool = False  # a progress bar on stderr

    def but(self, **changes: object) -> Execution:
        """A copy with some options changed (``execution.but(resume=False)``)."""
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULT = Execution()  # all local cores, no resume, no progress bar
