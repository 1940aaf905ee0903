"""A self-contained HTML report of a run, comparison or sweep output directory.

``pxsim report DIR`` (or ``--report``) writes ``DIR/report.html``: the scenario in brief, the
outcome table, every figure embedded as a PNG data URI, and the provenance (manifest). It reads
only the files in DIR (plus one replication re-run for the talks timeline), so it can be made
again at any time. The page needs no network and no scripts except a two-line check that
records how many figures the browser rendered (``data-figures-rendered`` on ``<body>``).
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sim.experiments.store import atomic_write_text
from sim.present import plots
from sim.results.summary import MAIN_METRICS, format_table
from sim.scenario.loading import loads_scenario

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85rem;color:#555}.muted{color:#666;font-size:.9rem}
pre{background:#f7f7f7;padding:.6rem;overflow-x:auto;font-size:.8rem}
"""

CHECK = """<script>
window.addEventListener('load',function(){var n=0;document.querySelectorAll('figure img')
.forEach(function(i){if(i.complete&&i.naturalWidth>0){n++}});
document.body.setAttribute('data-figures-rendered',String(n));});
</script>"""


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(fig: Figure, caption: str) -> str:
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{_png(fig)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _table(df: pd.DataFrame, floatfmt: str = "{:,.2f}") -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return "—" if v != v else floatfmt.format(v)
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in row) + "</tr>"
        for row in df.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, sections: list[str]) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        + "".join(sections)
        + CHECK
        + "</body></html>\n"
    )


def _scenario_brief(scn_text: str) -> str:
    scn = loads_scenario(scn_text)
    parties = pd.DataFrame(
        [
            {
                "party": p.id,
                "name": p.name or p.id,
                "strategy": p.strategy.name,
                "reservation": p.reservation,
                "deadline (days)": p.deadline,
                "norms": ", ".join(k for k, v in p.norms.model_dump().items() if v) or "—",
                "acknowledges": ", ".join(
                    f"{k}: {'yes' if v else 'no'}" for k, v in p.acknowledges.items()
                )
                or "all",
                "asylum": "yes" if p.asylum else "no",
            }
            for p in scn.parties
        ]
    )
    streams = pd.DataFrame(
        [
            {
                "stream": s.id,
                "captor": s.captor,
                "nationality": s.nationality,
                "incidents/day (first phase)": s.rate[0].per_day,
                "phases": len(s.rate),
                "self-destruct share": s.self_destruct,
            }
            for s in scn.capture_streams
        ]
    )
    mediators = pd.DataFrame(
        [
            {
                "intermediary": m.id,
                "connects": ", ".join(m.connects),
                "mean relay (days)": m.delay.mean(),
                "reliability": m.reliability,
                "capacity": m.capacity,
                "guarantee": "yes" if m.guarantee else "no",
            }
            for m in scn.intermediaries
        ]
    )
    parts = [
        f"<h2>Scenario</h2><p><b>{html.escape(scn.name)}</b>: "
        f"{html.escape(scn.description or '')}</p>"
        f"<p class='muted'>From {scn.start_date.isoformat()} for {scn.horizon:g} days; "
        f"{len(scn.holdings)} holdings at the start; {len(scn.timeline)} timeline "
        "changes.</p>",
        "<h3>Parties</h3>",
        _table(parties),
    ]
    if len(streams):
        parts += ["<h3>Capture streams</h3>", _table(streams)]
    if len(mediators):
        parts += ["<h3>Intermediaries</h3>", _table(mediators)]
    if scn.timeline:
        tl = pd.DataFrame(
            [
                {
                    "day": t.at,
                    "change": ", ".join(f"{k} = {v}" for k, v in t.set.items()),
                    "note": t.note,
                }
                for t in scn.timeline
            ]
        )
        parts += ["<h3>Timeline</h3>", _table(tl)]
    return "".join(parts)


def _provenance(manifest: dict[str, Any]) -> str:
    return "<h2>Provenance</h2><pre>" + html.escape(json.dumps(manifest, indent=2)) + "</pre>"


def run_report(d: Path) -> str:
    manifest = json.loads((d / "manifest.json").read_text())
    scn_text = (d / "scenario.resolved.yaml").read_text()
    scn = loads_scenario(scn_text)
    summary = pd.read_csv(d / "summary.csv")
    ts = pd.read_csv(d / "timeseries.csv", keep_default_na=False, na_values=[""])
    ts["holder"] = ts["holder"].fillna("")
    runs = pd.read_csv(d / "runs.csv") if (d / "runs.csv").exists() else pd.read_parquet(d / "runs")
    sections = [
        f"<h1>pxsim report: {html.escape(scn.name)}</h1>",
        f"<p class='muted'>{manifest['replications']} replications, seed "
        f"{manifest['seed']}, pxsim {html.escape(str(manifest['version']))}</p>",
        _scenario_brief(scn_text),
        "<h2>Outcomes</h2>",
        "<p class='muted'>Mean, 95% interval of the mean, and 5–95% range across "
        "replications.</p><pre>" + html.escape(format_table(summary, MAIN_METRICS)) + "</pre>",
    ]
    figs = [
        (
            plots.held_over_time(ts),
            "Prisoners held over time, by holder and nationality: "
            "median with 50% and 90% bands across replications",
        ),
        (plots.repatriated_over_time(ts), "Cumulative repatriated by nationality, with bands"),
        (plots.outcome_distributions(runs), "Distribution of outcomes across replications"),
    ]
    if (d / "survival.csv").exists():
        km = pd.read_csv(d / "survival.csv")
        groups = km[km["category"] == "all"]
        if len(groups):
            figs.append(
                (
                    plots.survival_curves(groups),
                    "Time in captivity (Kaplan–Meier), "
                    "prisoners still held at the horizon censored",
                )
            )
    from sim.experiments.experiment import run_one

    one = run_one(scn, manifest["seed"], 0, keep_events=True)
    if one.talks:
        figs.append(
            (
                plots.talks_timeline(
                    pd.DataFrame(one.talks), pd.DataFrame(one.deals), scn.start_date
                ),
                "Replication 0: every negotiation from opening to outcome, by channel",
            )
        )
    sections += ["<h2>Figures</h2>"] + [_figure(f, c) for f, c in figs]
    for name, title in (
        ("captivity.csv", "Median days held (pooled over replications)"),
        ("channels.csv", "Talks and deals by channel (per run)"),
    ):
        if (d / name).exists():
            sections += [f"<h2>{title}</h2>", _table(pd.read_csv(d / name))]
    parties = (
        pd.read_csv(d / "parties.csv")
        if (d / "parties.csv").exists()
        else pd.read_parquet(d / "parties")
    )
    acct = parties.drop(columns=["scenario", "replication"]).groupby("party", sort=False).mean()
    sections += ["<h2>Per-party accounting (mean per run)</h2>", _table(acct.reset_index())]
    sections.append(_provenance(manifest))
    return _page(f"pxsim report: {scn.name}", sections)


def compare_report(d: Path) -> str:
    manifest = json.loads((d / "comparison.json").read_text())
    table = pd.read_csv(d / "comparison.csv")
    main = table[table["metric"].isin(MAIN_METRICS)]
    arms = pd.DataFrame(manifest["arms"])
    sections = [
        "<h1>pxsim comparison</h1>",
        f"<p class='muted'>{manifest['replications']} replications per arm, common "
        f"random numbers (seed {manifest['seed']}); baseline "
        f"<b>{html.escape(manifest['baseline'])}</b>.</p>",
        "<h2>Arms</h2>",
        _table(arms.drop(columns=["folder"])),
        "<h2>Differences against the baseline</h2>",
        "<p class='muted'>Paired 95% intervals from per-replication differences; a "
        "difference is clear when its interval excludes zero. Unpaired intervals shown "
        "for contrast.</p>",
        _table(main),
        _figure(
            plots.comparison_figure(table, [m for m in MAIN_METRICS if m in set(table.metric)]),
            "Differences against the baseline with paired 95% intervals",
        ),
    ]
    sections.append(_provenance(manifest))
    return _page("pxsim comparison", sections)


def sweep_report(d: Path) -> str:
    manifest = json.loads((d / "sweep.json").read_text())
    points = pd.read_csv(d / "points.csv")
    params = [p["path"] if isinstance(p, dict) else str(p) for p in manifest.get("params", [])]
    params = [p for p in params if p in points.columns] or [
        c
        for c in points.columns
        if c != "point" and not c.endswith(("_mean", "_ci_low", "_ci_high"))
    ]
    sections = [
        "<h1>pxsim sweep</h1>",
        f"<p class='muted'>{html.escape(str(manifest.get('design')))} design, "
        f"{len(points)} points × {manifest.get('replications')} replications, common "
        "random numbers.</p>",
        "<h2>Points</h2>",
        _table(points),
    ]
    figs = []
    metric = next((m for m in ("repatriated", "deals") if f"{m}_mean" in points.columns), None)
    if metric:
        for p in params[:4]:
            if pd.api.types.is_numeric_dtype(points[p]):
                figs.append((plots.metric_vs_parameter(points, p, metric), f"{metric} against {p}"))
    if (d / "indices.csv").exists() and metric:
        idx = pd.read_csv(d / "indices.csv")
        if len(idx[idx.metric == metric]):
            figs.append((plots.sensitivity_bars(idx, metric), f"Sensitivity of {metric}"))
    sections += ["<h2>Figures</h2>"] + [_figure(f, c) for f, c in figs]
    sections.append(_provenance(manifest))
    return _page("pxsim sweep", sections)


def calibration_report(d: Path) -> str:
    summary = json.loads((d / "calibration.json").read_text())
    png = base64.b64encode((d / "fit.png").read_bytes()).decode("ascii")
    caption = "Simulated bands against the record; posterior of every fitted parameter"
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
        _table(pd.read_csv(d / "fit.csv"), "{:,.4g}"),
        "<h2>Rounds</h2>",
        _table(rounds, "{:,.3g}") if len(rounds) else "",
        "<h2>The fitted scenario against the record</h2>",
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{png}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>",
        _table(pd.read_csv(d / "targets.csv"), "{:,.4g}"),
    ]
    if (d / "prediction.csv").exists():
        sections += [
            "<h2>Predicted (posterior predictive)</h2>",
            _table(pd.read_csv(d / "prediction.csv"), "{:,.4g}"),
        ]
    sections.append(_provenance(summary))
    return _page(f"pxsim calibration: {summary.get('scenario')}", sections)


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
