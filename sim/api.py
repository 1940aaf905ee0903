"""The Python API: ``sim.run``, ``sim.compare``, ``sim.sweep``, ``sim.calibrate``.

Floor 7, the Python face of pxsim beside the command line: each function does what its
``pxsim`` command does (compute on the floors below, then write the files and figures), into
``out`` or a temporary directory, and returns the results as DataFrames. Execution options
(``workers``, ``chunk_size``, ``backend``, ``scheduler``, ``resume``, ``force``, ``progress``)
are keyword arguments here and one ``Execution`` object below. Safe from notebooks (workers
are started with ``spawn``); in a script, call them under ``if __name__ == "__main__":`` so
worker processes can import the script.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.comparison import Arm, Comparison, make_arms
from sim.experiments.comparison import compare as compare_arms
from sim.experiments.options import Execution
from sim.experiments.runner import Precision, RunReport, run_to_dir
from sim.experiments.sweep import SweepResult, plan_sweep, run_sweep
from sim.fit.calibration import CalibrationReport
from sim.fit.calibration import calibrate as calibrate_plan
from sim.fit.plan import CalibrationPlan, plan_calibration
from sim.scenario.loading import load_scenario, loads_scenario
from sim.scenario.schema import Scenario


@dataclass
class RunOutput:
    """Results of ``sim.run``: the output contract as DataFrames, and how the run went."""

    runs: pd.DataFrame
    parties: pd.DataFrame
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    report: RunReport
    out: Path | None
    # per negotiating format state (formats.csv): empty when the scenario has no formats
    formats: pd.DataFrame = field(default_factory=pd.DataFrame)


def execution(
    workers: int | None = None,
    chunk_size: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = False,
) -> Execution:
    """The ``Execution`` of the API's keyword arguments (a TypeError names an unknown one)."""
    return Execution(workers, chunk_size, backend, scheduler, resume, force, progress)


def as_scenario(scenario: Scenario | str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """A Scenario from a Scenario, a YAML file path or YAML text (with ``--set`` overrides)."""
    if isinstance(scenario, Scenario):
        if overrides:
            from sim.scenario.loading import resolved_yaml

            return loads_scenario(resolved_yaml(scenario), list(overrides), source=scenario.name)
        return scenario
    text = str(scenario)
    if "\n" in text:
        return loads_scenario(text, list(overrides))
    return load_scenario(Path(text), list(overrides))


def run(
    scenario: Scenario | str | Path,
    replications: int | None = None,
    seed: int | None = None,
    *,
    workers: int | None = None,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    until: tuple[str, float] | None = None,
    max_replications: int = 100_000,
    **options: Any,
) -> RunOutput:
    """Run ``replications`` of ``scenario`` (Scenario, path or YAML text) and return the
    results. ``options`` are execution options (chunk_size, backend, scheduler, resume, force,
    progress); ``until=("repatriated", 50)`` adds replications until the 95% interval of the
    metric's mean is that narrow (at most ``max_replications``)."""
    scn = as_scenario(scenario, overrides)
    precision = Precision(*until) if until else None
    with tempfile.TemporaryDirectory(prefix="pxsim-") as scratch:
        target = Path(out) if out is not None else Path(scratch)
        report = run_to_dir(
            scn,
            target,
            seed=seed,
            replications=replications,
            execution=execution(workers=workers, **options),
            until=precision,
            max_replications=max_replications,
            overrides=list(overrides),
        )
        frames = {
            name: pd.read_csv(target / f"{name}.csv", keep_default_na=True)
            for name in ("runs", "parties", "timeseries")
            if (target / f"{name}.csv").exists()
        }
        if (target / "formats.csv").exists():
            frames["formats"] = pd.read_csv(target / "formats.csv")
        if "runs" not in frames:  # very large runs: no CSV, read the Parquet parts
            frames["runs"] = pd.read_parquet(target / "runs")
            frames["parties"] = pd.read_parquet(target / "parties")
    return RunOutput(
        frames["runs"],
        frames["parties"],
        frames.get("timeseries", pd.DataFrame()),
        report.summary,
        report,
        Path(out) if out is not None else None,
        frames.get("formats", pd.DataFrame()),
    )


def compare(
    scenarios: str | Path | Sequence[str | Path],
    variants: Mapping[str, Sequence[str] | Mapping[str, Any]] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    *,
    out: str | Path | None = None,
    overrides: Sequence[str] = (),
    workers: int | None = None,
    **options: Any,
) -> Comparison:
    """The Python API of ``pxsim compare``: ``sim.compare("a.yaml", {"slow mediator":
    ["intermediaries.uae.delay.mean=30"]}, 500)``. Variants change the first scenario; each is
    a list of ``PATH=VALUE`` strings or a ``{path: value}`` mapping. With ``out=None`` the files
    go to a temporary directory that is removed afterwards (the returned frames stay)."""
    paths = [scenarios] if isinstance(scenarios, str | Path) else list(scenarios)
    specs: list[tuple[str, list[str]]] = []
    for name, changes in (variants or {}).items():
        if isinstance(changes, Mapping):
            specs.append((name, [f"{k}={json.dumps(v)}" for k, v in changes.items()]))
        else:
            specs.append((name, list(changes)))
    arms = make_arms(paths, specs, overrides)
    ex = execution(workers=workers, **options)
    if out is not None:
        return compare_and_draw(arms, replications, seed, out, ex)
    with tempfile.TemporaryDirectory(prefix="pxsim-compare-") as scratch:
        result = compare_and_draw(arms, replications, seed, scratch, ex)
    result.out = None
    return result


def compare_and_draw(
    arms: list[Arm],
    replications: int | None,
    seed: int | None,
    out: str | Path,
    execution: Execution,
) -> Comparison:
    """``pxsim compare``: run the arms with common random numbers, write the tables and
    the figures (the differences, and the arms' own outcomes on shared axes)."""
    result = compare_arms(arms, replications, seed, out, execution)
    draw_comparison(Path(out))
    return result


def sweep(
    scenario: str | Path | Scenario,
    params: Sequence[str] | Mapping[str, Any],
    design: str = "lhs",
    points: int = 16,
    replications: int = 100,
    seed: int | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    backend: str = "local",
    overrides: Sequence[str] | Mapping[str, Any] = (),
    *,
    chunk_size: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = False,
) -> SweepResult:
    """Run a sweep of ``scenario`` over ``params`` and return its tables.

    ``params``: ``["negotiation.collapse=0:0.3", "parties.red.norms.one_for_one=true,false"]``
    or ``{"negotiation.collapse": (0, 0.3), "negotiation.max_rounds": [10, 60]}``.
    ``design``: grid, lhs, sobol or morris; ``points``: LHS points, Sobol' base samples or
    Morris trajectories (grid: ignored). Without ``out`` the files go to a temporary
    directory that is removed afterwards. In a script, call it under
    ``if __name__ == "__main__":`` so worker processes can start.
    """
    import pandas as pd

    plan = plan_sweep(
        scenario, params, design=design, points=points, seed=seed, overrides=overrides
    )
    scratch = tempfile.mkdtemp(prefix="pxsim-sweep-") if out is None else None
    target = Path(scratch if scratch is not None else str(out))
    try:
        report = run_sweep(
            plan,
            target,
            replications=replications,
            execution=execution(workers, chunk_size, backend, scheduler, resume, force, progress),
        )
        # the tables as the files hold them (the same types a reader of the files gets)
        table = pd.read_csv(target / "sweep.csv")
        summary = pd.read_csv(target / "points.csv")
        indices = pd.read_csv(target / "indices.csv") if report.indices is not None else None
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return SweepResult(
        table,
        summary,
        indices,
        None if scratch is not None else target,
        plan.design.name,
        report.replications,
        plan.seed,
        report.skipped,
        report.notes,
    )


def calibrate(
    scenario: str | Path,
    observed: str | Path,
    fit: Sequence[str] | Mapping[str, Any],
    *,
    out: str | Path | None = None,
    targets: Sequence[str] | None = None,
    points: int = 400,
    replications: int = 8,
    rounds: int = 1,
    match: str = "runs",
    predict: Sequence[str] = (),
    accept: float = 0.05,
    estimate: str = "median",
    check_replications: int = 200,
    seed: int | None = None,
    overrides: Sequence[str] | Mapping[str, Any] = (),
    workers: int | None = None,
    backend: str = "local",
    resume: bool = False,
    force: bool = False,
    progress: bool = False,
) -> CalibrationReport:
    """``sim.calibrate``: what ``pxsim calibrate`` does, into ``out`` (or a temporary directory,
    removed afterwards: the report keeps the tables). ``fit`` is ``['PATH=LOW:HIGH', ...]`` or
    ``{PATH: (LOW, HIGH)}``. In a script, call it under ``if __name__ == "__main__":``."""
    plan = plan_calibration(
        scenario,
        observed,
        fit,
        targets=targets,
        points=points,
        replications=replications,
        seed=seed,
        overrides=overrides,
        accept=accept,
        estimate=estimate,
        check_replications=check_replications,
        rounds=rounds,
        match=match,
        predict=predict,
    )
    ex = execution(workers, backend=backend, resume=resume, force=force, progress=progress)
    if out is not None:
        return calibrate_and_draw(plan, out, ex)
    with tempfile.TemporaryDirectory(prefix="pxsim-calibrate-") as tmp:
        report = calibrate_and_draw(plan, tmp, ex)
    report.out = None
    return report


def calibrate_and_draw(
    plan: CalibrationPlan, out: str | Path, execution: Execution
) -> CalibrationReport:
    """``pxsim calibrate``: fit, write the tables, then draw the fit figure (``fit.png``)."""
    report = calibrate_plan(plan, out, execution)
    draw_fit(report, Path(out))
    return report


# --------------------------------------------------------------------------- figures
def draw_comparison(out: Path) -> None:
    """The comparison's figures, from its files in ``out``: the differences, and the arms'
    own outcomes on shared axes."""
    from sim.present import write_comparison_figures

    write_comparison_figures(out)


def draw_fit(report: CalibrationReport, out: Path) -> None:
    """The calibration's figure (``fit.png``/``.svg``), from its report."""
    from sim.present import save
    from sim.present.calibration_plots import calibration_figure

    plan = report.plan
    fig = calibration_figure(
        plan.targets, report.check, report.targets, report.final_round, report.fit, plan.sweep.base
    )
    save(fig, out / "fit", formats=("png", "svg"))
