"""The fitted scenario and its check: the original file with the fitted values written in
(comments kept), re-simulated many times to say, per target statistic, whether the record
lies inside the fitted scenario's 90% band.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.errors import ScenarioError
from sim.experiments.options import DEFAULT, Execution
from sim.fit.plan import BAND, CalibrationPlan
from sim.fit.target_runs import StatsTask, run_stats_tasks
from sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sim.experiments.backends import Backend

    pass


# --------------------------------------------------------------------------- the fitted scenario
def fitted_scenario(plan: CalibrationPlan, fitted: Mapping[str, Any]) -> tuple[Scenario, str]:
    """The scenario at the fitted values (and the fixed ``--set`` values), and its YAML: the
    original file with those values replaced and its comments kept, under a header saying how
    it was fitted. Falls back to the resolved scenario if the edit cannot be verified."""
    from sim.scenario.loading import loads_scenario, resolved_yaml, scenario_hash
    from sim.scenario.yaml_edit import edit_yaml
    from sim.version import __version__

    values = {**plan.fixed, **fitted}
    label = plan.sweep.source or "<scenario>"
    text = plan.scenario_text or resolved_yaml(plan.sweep.base)
    scn = loads_scenario(text, values, source=label)
    lines = [
        f"# Calibrated by pxsim {__version__} `calibrate` on {dt.date.today().isoformat()} from "
        f"{label}",
        f"# against {plan.observations.source} (targets: {', '.join(plan.selected)}):",
        f"# ABC, {plan.sweep.design.points} prior points x {plan.replications} replications, "
        f"seed {plan.sweep.seed}, acceptance {plan.accept:g}, fitted = posterior {plan.estimate}.",
    ]
    for path, value in fitted.items():
        lines.append(f"#   {path}: {value}")
    header = "\n".join(lines) + "\n"
    try:
        edited = edit_yaml(text, values)
        same = scenario_hash(loads_scenario(edited, source=label)) == scenario_hash(scn)
    except (ScenarioError, ValueError):
        same = False
    if not same:
        edited = resolved_yaml(scn)
        header += "# (written as the resolved scenario: the original file could not be edited)\n"
    return scn, header + edited


# --------------------------------------------------------------------------- the check run
@dataclass
class Check:
    """The fitted scenario's simulated statistics, curves and samples."""

    stats: np.ndarray  # (N, m)
    grid: np.ndarray  # days
    curves: dict[str, np.ndarray]  # target id -> (N, grid)
    samples: dict[str, list[np.ndarray]]  # target id -> per run


def check(
    plan: CalibrationPlan,
    scn: Scenario,
    execution: Execution = DEFAULT,
    engine: Backend | None = None,
) -> Check:
    """Run the fitted scenario ``check_replications`` times (same seed), on ``engine`` if
    given (a backend kept open from the rounds)."""
    from sim.experiments.chunks import plan_chunks

    n = plan.check_replications
    grid = np.arange(0.0, math.floor(scn.horizon) + 1.0)
    targets = tuple(plan.targets)
    tasks = [
        StatsTask(((0, scn),), plan.sweep.seed, a, b, targets, grid=grid, samples=True)
        for a, b in plan_chunks(0, n, max(1, math.ceil(n / 16)))
    ]
    ordered = run_stats_tasks(
        tasks,
        execution=execution,
        desc=f"{scn.name} check",
        engine=engine,
    )
    stats = np.concatenate([p.stats[0] for p in ordered])
    curves = {
        t.id: np.concatenate([p.curves[t.id] for p in ordered]) for t in targets if t.cumulative
    }
    samples = {
        t.id: [s for p in ordered for s in p.samples[t.id]] for t in targets if not t.cumulative
    }
    return Check(stats, grid, curves, samples)


def target_table(plan: CalibrationPlan, chk: Check) -> list[dict[str, Any]]:
    """Per statistic: observed, the fitted scenario's median and 90% band, inside or not."""
    rows = []
    col = 0
    for t in plan.targets:
        obs = t.observed_stats()
        for j, name in enumerate(t.stat_names):
            sim = chk.stats[:, col]
            sim = sim[np.isfinite(sim)]
            lo, med, hi = np.quantile(sim, (BAND[0], 0.5, BAND[1])) if len(sim) else (np.nan,) * 3
            rows.append(
                {
                    "target": t.id,
                    "statistic": name,
                    "kind": t.kind,
                    "used_in_fit": t.id in plan.selected,
                    "observed": float(obs[j]),
                    "simulated_median": float(med),
                    "simulated_05": float(lo),
                    "simulated_95": float(hi),
                    "inside_90": bool(lo <= obs[j] <= hi),
                    "runs_defined": len(sim),
                }
            )
            col += 1
    return rows
