"""A self-contained HTML report of a run, comparison, sweep or calibration output directory.

``pxsim report DIR`` (or ``--report``) writes ``DIR/report.html``: the scenario in brief, the
outcome tables, every figure embedded as a PNG data URI, and the provenance (the manifest, as a
table). It reads only the files in DIR (plus, for a run, one replication re-run for the talks
timeline), so it can be made again at any time. A comparison's report shows the differences
against the baseline and the arms' own results overlaid (``sim.present.compare_figures``).
The page blocks (style, tables that fit the page, provenance) are in ``sim.present.page``.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sim.atomic import atomic_write_text
from sim.present.compare_figures import comparison_figures
from sim.present.output_files import read_comparison, read_runs, read_timeseries
from sim.present.page import figure_html, page, provenance, table
from sim.present.report_tables import (
    DIFFERENCE_HTML,
    differences_table,
    scenario_brief,
    sweep_points_table,
)
from sim.present.run_figures import (
    held_over_time,
    outcome_distributions,
    repatriated_over_time,
    survival_curves,
)
from sim.present.sweep_figures import metric_vs_parameter, sensitivity_bars
from sim.present.talks_figure import talks_timeline
from sim.results.summary import MAIN_METRICS, format_table
from sim.scenario.loading import loads_scenario
from sim.scenario.schema import Scenario
from sim.text import format_number

COMPARISON_CAPTIONS = {
    "comparison": "Differences against the baseline with paired 95% intervals",
    "arms_over_time": "People held (by holder and nationality) and cumulative repatriated (by "
    "nationality) over time: each arm's median across replications with its 5%–95% band, "
    "on shared axes",
    "arms_survival": "Time in captivity by nationality: each arm's Kaplan–Meier curve with its "
    "95% band (prisoners still held at the horizon censored)",
    "arms_outcomes": "Main outcomes across replications: each arm's empirical CDF (the share "
    "of runs at or below a value; the median is where a curve crosses 0.5)",
}


# --------------------------------------------------------------------------- run
def _run_figures(d: Path, scn: Scenario, seed: int) -> list[tuple[Figure, str]]:
    ts = read_timeseries(d / "timeseries.csv")
    figs = [
        (
            held_over_time(ts),
            "Prisoners held over time, by holder and nationality: "
            "median with 50% and 90% bands across replications",
        ),
        (repatriated_over_time(ts), "Cumulative repatriated by nationality, with bands"),
        (outcome_distributions(read_runs(d)), "Distribution of outcomes across replications"),
    ]
    if (d / "survival.csv").exists():
        km = pd.read_csv(d / "survival.csv")
        groups = km[km["category"] == "all"]
        if len(groups):
            figs.append(
                (
                    survival_curves(groups),
                    "Time in captivity (Kaplan–Meier), "
                    "prisoners still held at the horizon censored",
                )
            )
    return figs + _talks_figure(scn, seed)


def _talks_figure(scn: Scenario, seed: int) -> list[tuple[Figure, str]]:
    from sim.experiments.experiment import run_one

    one = run_one(scn, seed, 0, keep_events=True)
    if not one.talks:
        return []
    fig = talks_timeline(pd.DataFrame(one.talks), pd.DataFrame(one.deals), scn.start_date)
    return [(fig, "Replication 0: every negotiation from opening to outcome, by channel")]


def _run_tables(d: Path) -> list[str]:
    sections: list[str] = []
    for name, title in (
        ("captivity.csv", "Median days held (pooled over replications)"),
        ("channels.csv", "Talks and deals by channel (per run)"),
    ):
        if (d / name).exists():
            sections += [f"<h2>{title}</h2>", table(pd.read_csv(d / name))]
    parties = (
        pd.read_csv(d / "parties.csv")
        if (d / "parties.csv").exists()
        else pd.read_parquet(d / "parties")
    )
    acct = parties.drop(columns=["scenario", "replication"]).groupby("party", sort=False).mean()
    return [*sections, "<h2>Per-party accounting (mean per run)</h2>", table(acct.reset_index())]


def run_report(d: Path) -> str:
    manifest = json.loads((d / "manifest.json").read_text())
    scn_text = (d / "scenario.resolved.yaml").read_text()
    scn = loads_scenario(scn_text)
    summary = pd.read_csv(d / "summary.csv")
    sections = [
        f"<h1>pxsim report: {html.escape(scn.name)}</h1>",
        f"<p class='muted'>{manifest['replications']} replications, seed "
        f"{manifest['seed']}, pxsim {html.escape(str(manifest['version']))}</p>",
        scenario_brief(scn_text),
        "<h2>Outcomes</h2>",
        "<p class='muted'>Mean, 95% interval of the mean, and 5–95% range across "
        "replications.</p><pre>" + html.escape(format_table(summary, MAIN_METRICS)) + "</pre>",
        "<h2>Figures</h2>",
        *(figure_html(f, c) for f, c in _run_figures(d, scn, manifest["seed"])),
        *_run_tables(d),
        provenance(manifest),
    ]
    return page(f"pxsim report: {scn.name}", sections)


# --------------------------------------------------------------------------- comparison
def _swatch(color: str) -> str:
    return (
        f'<span style="display:inline-block;width:1.6em;height:.8em;background:{color}" '
        f'title="{html.escape(color)}"></span>'
    )


def _arms_table(manifest: dict[str, Any], colors: dict[str, str]) -> pd.DataFrame:
    arms = pd.DataFrame(manifest["arms"]).drop(columns=["folder"])
    arms.insert(1, "colour", [_swatch(colors[str(a)]) for a in arms["label"]])
    return arms


def compare_report(d: Path) -> str:
    files = read_comparison(d)
    manifest = files.manifest
    figures = comparison_figures(files)
    arm_figures = [figure_html(f, COMPARISON_CAPTIONS.get(k, k)) for k, f in figures.items()]
    sections = [
        "<h1>pxsim comparison</h1>",
        f"<p class='muted'>{manifest['replications']} replications per arm, common "
        f"random numbers (seed {manifest['seed']}); baseline "
        f"<b>{html.escape(manifest['baseline'])}</b>.</p>",
        "<h2>Arms</h2>",
        table(_arms_table(manifest, files.colors), raw=("colour",)),
        "<h2>Differences against the baseline</h2>",
        "<p class='muted'>Paired 95% intervals from per-replication differences; a "
        "difference is clear when its interval excludes zero. Unpaired intervals shown "
        "for contrast.</p>",
        table(
            differences_table(files.table),
            format_number,
            css_class="differences",
            raw=DIFFERENCE_HTML,
        ),
        *arm_figures[:1],
        "<h2>The arms side by side</h2>",
        "<p class='muted'>Each arm's own results, in its colour throughout.</p>",
        *arm_figures[1:],
        provenance(manifest),
    ]
    return page("pxsim comparison", sections)


# --------------------------------------------------------------------------- sweep
def _sweep_params(manifest: dict[str, Any], points: pd.DataFrame) -> list[str]:
    params = [p["path"] if isinstance(p, dict) else str(p) for p in manifest.get("params", [])]
    return [p for p in params if p in points.columns] or [
        c
        for c in points.columns
        if c != "point" and not c.endswith(("_mean", "_ci_low", "_ci_high"))
    ]


def _sweep_figures(d: Path, points: pd.DataFrame, params: list[str]) -> list[str]:
    figs = []
    metric = next((m for m in ("repatriated", "deals") if f"{m}_mean" in points.columns), None)
    if metric:
        for p in params[:4]:
            if pd.api.types.is_numeric_dtype(points[p]):
                figs.append((metric_vs_parameter(points, p, metric), f"{metric} against {p}"))
    if (d / "indices.csv").exists() and metric:
        idx = pd.read_csv(d / "indices.csv")
        if len(idx[idx.metric == metric]):
            figs.append((sensitivity_bars(idx, metric), f"Sensitivity of {metric}"))
    return [figure_html(f, c) for f, c in figs]


def _points_table(points: pd.DataFrame, params: list[str]) -> str:
    shown = sweep_points_table(points, params)
    cis = [c for c in shown.columns if str(c).endswith("95% CI")]
    return table(shown, format_number, raw=cis)


def sweep_report(d: Path) -> str:
    manifest = json.loads((d / "sweep.json").read_text())
    points = pd.read_csv(d / "points.csv")
    params = _sweep_params(manifest, points)
    sections = [
        "<h1>pxsim sweep</h1>",
        f"<p class='muted'>{html.escape(str(manifest.get('design')))} design, "
        f"{len(points)} points × {manifest.get('replications')} replications, common "
        "random numbers.</p>",
        "<h2>Points</h2>",
        "<p class='muted'>Mean across replications with its 95% interval; every metric in "
        "<code>points.csv</code>.</p>",
        _points_table(points, params),
        "<h2>Figures</h2>",
        *_sweep_figures(d, points, params),
        provenance(manifest),
    ]
    return page("pxsim sweep", sections)


# --------------------------------------------------------------------------- calibration
def calibration_report(d: Path) -> str:
    summary = json.loads((d / "calibration.json").read_text())
    png = base64.b64encode((d / "fit.png").read_bytes()).decode("ascii")
    rounds = pd.DataFrame(summary.get("rounds", []))
    sections = [
        f"<h1>pxsim calibration: {html.escape(str(summary.get('scenario')))}</h1>",
        f"<p class='muted'>Against {html.escape(str(summary.get('observed')))} (targets "
        f"{html.escape(', '.join(summary.get('targets', [])))}); ABC, "
        f"{summary.get('points')} points × {summary.get('replications_per_point')} "
        f"replications per round, match {html.escape(str(summary.get('match')))}, seed "
        f"{summary.get('seed')}, common random numbers; fitted value = posterior "
        f"{html.escape(str(summary.get('estimate')))}.</p>",
        "<h2>Fitted parameters</h2>",
        table(pd.read_csv(d / "fit.csv"), "{:,.4g}"),
        "<h2>Rounds</h2>",
        table(rounds, "{:,.3g}") if len(rounds) else "",
        "<h2>The fitted scenario against the record</h2>",
        figure_html(png, "Simulated bands against the record; posterior of every fitted parameter"),
        table(pd.read_csv(d / "targets.csv"), "{:,.4g}"),
    ]
    if (d / "prediction.csv").exists():
        sections += [
            "<h2>Predicted (posterior predictive)</h2>",
            table(pd.read_csv(d / "prediction.csv"), "{:,.4g}"),
        ]
    sections.append(provenance(summary))
    return page(f"pxsim calibration: {summary.get('scenario')}", sections)


def write_report(directory: str | Path) -> Path:
    """Write ``report.html`` for the run, comparison, sweep or calibration in ``directory``."""
    d = Path(directory)
    if (d / "calibration.json").exists() and (d / "fit.png").exists():
        text = calibration_report(d)
    elif (d / "comparison.json").exists():
        text = compare_report(d)
    elif (d / "sweep.json").exists():
        text = sweep_report(d)
    elif (d / "manifest.json").exists():
        text = run_report(d)
    else:
        raise FileNotFoundError(
            f"{d}: no pxsim run, comparison, sweep or calibration here (no manifest.json, "
            "comparison.json, sweep.json or calibration.json)"
        )
    path = d / "report.html"
    atomic_write_text(path, text)
    return path
