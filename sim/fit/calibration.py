"""``pxsim calibrate``: fit scenario parameters to an observed exchange history by ABC.

The steps, each in its own function:

1. ``plan_calibration``: parse ``--fit PATH=LOW:HIGH`` (uniform priors), read the observations
   (``sim.fit.observed``), draw ``points`` Latin-hypercube points from the prior box and validate
   every point's scenario (``sim.experiments.sweep.plan_sweep``) before anything runs.
2. ``simulate``: run every point for replications ``0 .. K-1`` at the same seed (common random
   numbers: points differ by their parameters, not by their draws) and keep only each run's
   target statistics (``sim.results.targets``). Work goes out in tasks of a few points on the usual
   backends; each finished task is one ``sims/part-*.npz`` written atomically, so an
   interrupted fit resumes where it stopped (``--resume``).
3. ``analyse``: rejection ABC with an Epanechnikov kernel over the selected targets
   (``sim.fit.abc``): posterior weights per point, the fitted value of each parameter (posterior
   median by default) and 90% credible intervals.
4. ``check``: run the fitted scenario (``check_replications`` runs) and compare each observed
   statistic with the simulated 90% band; draw the figure.

Output directory: ``fitted.yaml`` (the scenario with the fitted values, comments kept),
``fit.csv`` (per parameter), ``posterior.csv`` (per point: parameters, weight), ``targets.csv``
(per statistic: observed vs simulated band at the fit), ``fit.png``/``fit.svg`` (bands against
the observed points; posterior marginals), ``calibration.json`` (what was done, with figures)
and ``run.json`` + ``sims/`` (what resuming needs).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.experiments.backends import backend_session
from sim.experiments.options import DEFAULT, Execution
from sim.fit import abc
from sim.fit.checkrun import Check, check, fitted_scenario, target_table
from sim.fit.plan import CalibrationPlan, group_size
from sim.fit.posterior import (
    Round,
    _selection,
    point_means,
    posterior_table,
    prediction_table,
    propose,
    weigh,
)
from sim.fit.rounds import CalibrationStore, Runner, fit_identity, round_scenarios
from sim.scenario.schema import Scenario
from sim.text import text_table, work_line

if TYPE_CHECKING:
    import pandas as pd


# --------------------------------------------------------------------------- results
@dataclass
class CalibrationReport:
    out: Path | None  # None when the fit ran in a temporary directory
    fit: pd.DataFrame
    posterior: pd.DataFrame
    targets: pd.DataFrame
    summary: dict[str, Any]
    fitted: Scenario
    tasks_run: int
    tasks_reused: int
    seconds: float
    backend: str
    workers: int
    # what the fit figure is drawn from (``sim.present.calibration_plots``)
    plan: CalibrationPlan
    check: Check
    final_round: pd.DataFrame  # the posterior rows of the last round


# --------------------------------------------------------------------------- the whole fit
def calibrate(
    plan: CalibrationPlan,
    out: str | Path,
    execution: Execution = DEFAULT,
) -> CalibrationReport:
    """Simulate (resumably), fit, check and write every data file of the output directory
    (the figure, ``fit.png``, is drawn from the report by ``sim.present``)."""
    import pandas as pd

    from sim.atomic import atomic_write_text
    from sim.experiments.runner import Progress
    from sim.experiments.store import csv_text

    t0 = time.perf_counter()
    out = Path(out)
    des = plan.sweep.design
    n = des.points
    store = CalibrationStore(out)
    store.open(fit_identity(plan, group_size(n)), resume=execution.resume, force=execution.force)
    store.clean_temporaries()
    bar = Progress(
        plan.rounds * n * plan.replications,
        execution.progress,
        f"{plan.sweep.base.name} calibrate",
    )
    keep, _, _ = _selection(plan)
    rounds: list[Round] = []
    # one pool of workers for every round and the check: processes start once
    with backend_session(execution, n_tasks=math.ceil(n / group_size(n))) as engine:
        runner = Runner(plan, store, execution, bar, engine)
        try:
            values = list(des.values)
            for r in range(plan.rounds):
                if r:
                    values = propose(plan, rounds[-1], n, r)
                stats = runner.stats(r, round_scenarios(plan, values, r))
                if r == 0:  # distances are scaled by the spread under the prior, every round
                    used = stats[..., keep]
                    scale = abc.robust_scale(point_means(used) if plan.match == "mean" else used)
                prev = rounds[-1] if rounds else None
                rounds.append(weigh(plan, r, values, stats, scale, prev))
        finally:
            bar.close()
        final = rounds[-1]
        fitted, fit_rows = posterior_table(plan, final)
        scn, text = fitted_scenario(plan, fitted)
        chk = check(plan, scn, execution, engine)
    fit = pd.DataFrame(fit_rows)
    posterior = pd.concat(
        [
            pd.DataFrame(
                {
                    "round": rd.index,
                    "point": np.arange(len(rd.values)),
                    **{sp.path: [v[sp.path] for v in rd.values] for sp in des.specs},
                    "weight": rd.weights,
                    "accepted": rd.accepted,
                    "distance_median": np.median(rd.distance, axis=1),
                }
            )
            for rd in rounds
        ],
        ignore_index=True,
    )
    targets = pd.DataFrame(target_table(plan, chk))
    prediction = pd.DataFrame(prediction_table(plan, rounds[0], final))
    if len(prediction):
        atomic_write_text(out / "prediction.csv", csv_text(prediction))
    atomic_write_text(out / "fitted.yaml", text)
    atomic_write_text(out / "fit.csv", csv_text(fit))
    atomic_write_text(out / "posterior.csv", csv_text(posterior))
    atomic_write_text(out / "targets.csv", csv_text(targets))
    cum = targets[targets["kind"].str.startswith("cumulative")]
    seconds = round(time.perf_counter() - t0, 1)
    summary: dict[str, Any] = {
        "scenario": plan.sweep.base.name,
        "source": plan.sweep.source,
        "observed": plan.observations.source,
        "targets": plan.selected,
        "fit": [s.text for s in des.specs],
        "points": des.points,
        "replications_per_point": plan.replications,
        "seed": plan.sweep.seed,
        "accept": plan.accept,
        "rounds": [
            {
                "round": rd.index,
                "epsilon": rd.epsilon,
                "effective_sample_size": round(rd.ess, 1),
                "points_with_weight": int((rd.weights > 0).sum()),
            }
            for rd in rounds
        ],
        "epsilon": final.epsilon,
        "effective_sample_size": final.ess,
        "points_with_weight": int((final.weights > 0).sum()),
        "estimate": plan.estimate,
        "fitted": fitted,
        "check_replications": plan.check_replications,
        "match": plan.match,
        "prediction": prediction.to_dict("records"),
        "inside_90": {
            t: [int(g["inside_90"].sum()), len(g)] for t, g in targets.groupby("target", sort=False)
        },
        "cumulative_inside_90": [int(cum["inside_90"].sum()), len(cum)],
        "seconds": seconds,
        "simulations_run": runner.simulated + plan.check_replications,
        "simulations_per_second": round((runner.simulated + plan.check_replications) / seconds, 1)
        if seconds > 0
        else None,
    }
    atomic_write_text(out / "calibration.json", json.dumps(summary, indent=2, default=_json) + "\n")
    return CalibrationReport(
        out,
        fit,
        posterior,
        targets,
        summary,
        scn,
        runner.run,
        runner.reused,
        seconds,
        runner.name,
        runner.nworkers,
        plan,
        chk,
        posterior[posterior["round"] == final.index],
    )


def _json(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(type(v).__name__)


def format_report(report: CalibrationReport) -> str:
    """What the command prints: the fit per parameter and the check per target."""
    s = report.summary
    lines = [
        f"{s['scenario']}: ABC over {s['points']} prior points x {s['replications_per_point']} "
        f"replications, seed {s['seed']} (common random numbers); targets: "
        f"{', '.join(s['targets'])}",
    ]
    for rd in s["rounds"]:
        lines.append(
            f"round {rd['round']}: tolerance {rd['epsilon']:.3g} (acceptance {s['accept']:g}), "
            f"effective sample size {rd['effective_sample_size']:.0f} of "
            f"{rd['points_with_weight']} weighted points"
        )
    lines.append("")
    header = ["parameter", "prior", "before", "fitted", "90% credible"]
    rows = []
    for _, r in report.fit.iterrows():
        before = r["before"]
        rows.append(
            [
                str(r["parameter"]),
                f"{r['prior_low']:g}–{r['prior_high']:g}",
                ""
                if before is None or (isinstance(before, float) and math.isnan(before))
                else f"{before:g}",
                f"{r['fitted']:g}",
                f"{r['credible_05']:.3g}–{r['credible_95']:.3g}",
            ]
        )
    lines.append(text_table(header, rows))
    lines.append("")
    lines.append(
        f"fitted scenario, {report.fitted.name} x {s['check_replications']} runs: observed "
        "statistics inside the simulated 90% band"
    )
    trows = []
    for target, g in report.targets.groupby("target", sort=False):
        used = "fit" if bool(g["used_in_fit"].iloc[0]) else "compared"
        worst = g.loc[(~g["inside_90"]).to_numpy()]
        miss = ", ".join(
            f"{r['statistic'].split('@')[-1].split(':')[-1]} obs {r['observed']:g} vs "
            f"{r['simulated_05']:g}–{r['simulated_95']:g}"
            for _, r in worst.head(3).iterrows()
        )
        trows.append([str(target), used, f"{int(g['inside_90'].sum())}/{len(g)}", miss])
    lines.append(text_table(["target", "role", "inside", "misses (first 3)"], trows))
    if s["prediction"]:
        lines.append("")
        lines.append(
            "predicted (posterior predictive: the final round's runs weighted by how closely "
            "their history matched the record; prior: round 0 unweighted)"
        )
        prow = [
            [
                str(r["period"]),
                str(r["quantity"]),
                f"{r['median']:,.0f}",
                f"{r['p05']:,.0f}–{r['p95']:,.0f}",
                f"{r['prior_median']:,.0f} ({r['prior_p05']:,.0f}–{r['prior_p95']:,.0f})",
            ]
            for r in s["prediction"]
        ]
        lines.append(
            text_table(
                ["period", "quantity", "median", "90% interval", "prior: median (90%)"], prow
            )
        )
    done = work_line(report.tasks_run, report.tasks_reused, "task", report.backend, report.workers)
    rate = report.summary.get("simulations_per_second")
    speed = f", {rate:,.0f} simulations a second" if rate else ""
    lines.append(f"{done}; {report.seconds:.1f} s in all{speed}")
    return "\n".join(lines)
