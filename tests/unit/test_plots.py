"""sim.present figures: content (titles, labels, artists, values), dates, colours, saving; a
comparison's arms overlaid; no pyplot anywhere in sim/present/."""

from __future__ import annotations

import ast
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim import present
from sim.experiments.experiment import run_one, run_replications
from sim.present.output_files import read_comparison
from sim.results.summary import runs_frame, timeseries_frame
from sim.scenario.loading import load_scenario, loads_scenario

ROOT = Path(__file__).resolve().parents[2]
START = dt.date(2025, 1, 1)

SCENARIO = """\
name: plots_test
start_date: 2025-01-01
horizon: 120
parties:
  - id: blue
    direct_channels: [red]
    strategy: conceder
    reservation: 0.2
    initiative: {dist: exponential, mean: 15}
  - id: red
    strategy: conceder
    reservation: 0.2
    initiative: {dist: exponential, mean: 20}
holdings:
  - {holder: red, nationality: blue, count: 40, captured: 2024-10-01}
capture_streams:
  - id: blue_takes_red
    captor: blue
    nationality: red
    rate: 0.3
    batch: {dist: geometric, mean: 2}
  - id: red_takes_blue
    captor: red
    nationality: blue
    rate: 0.2
captivity:
  death_hazard: {healthy: 0.001}
"""


@pytest.fixture(scope="module")
def batch():
    return run_replications(loads_scenario(SCENARIO), seed=3, replications=12)


@pytest.fixture(scope="module")
def ts(batch) -> pd.DataFrame:
    return timeseries_frame(batch)


@pytest.fixture(scope="module")
def runs(batch) -> pd.DataFrame:
    return runs_frame(batch)


@pytest.fixture(scope="module")
def kursk_run():
    scn = load_scenario(ROOT / "scenarios" / "kursk_2025.yaml")
    return scn, run_one(scn, 2025, 0, keep_events=True)


def only_axes(fig: Figure):
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == 1
    return visible[0]


def fills(ax) -> list[PolyCollection]:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def median_lines(ax):
    return [ln for ln in ax.get_lines() if ln.get_label().endswith("(median)")]


def as_datenum(values) -> np.ndarray:
    return np.asarray(mdates.date2num(pd.to_datetime(pd.Series(values)).dt.to_pydatetime()))


def assert_date_axis(ax) -> None:
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    assert ax.get_xlabel().startswith("date")


# ------------------------------------------------------------------------- held over time
def test_held_over_time_one_median_and_two_bands_per_group(ts: pd.DataFrame) -> None:
    held = ts[ts["series"] == "held"]
    groups = held.groupby(["holder", "nationality"])
    assert groups.ngroups == 2  # red holds blue, blue holds red
    fig = present.held_over_time(ts)
    assert isinstance(fig, Figure)
    ax = only_axes(fig)
    assert "held" in ax.get_title().lower()
    assert "people" in ax.get_ylabel()
    assert_date_axis(ax)
    lines = median_lines(ax)
    assert len(lines) == groups.ngroups
    assert len(fills(ax)) == 2 * groups.ngroups
    for (holder, nat), sub in groups:
        (line,) = [ln for ln in lines if ln.get_label() == f"{nat} held by {holder} (median)"]
        sub = sub.sort_values("day")
        np.testing.assert_allclose(line.get_ydata(), sub["p50"])
        np.testing.assert_allclose(mdates.date2num(line.get_xdata()), as_datenum(sub["date"]))
    first = mdates.date2num(lines[0].get_xdata())[0]
    assert first == mdates.date2num(dt.datetime(2025, 1, 1))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "50% of runs (p25–p75)" in legend and "90% of runs (p05–p95)" in legend


def test_held_over_time_band_edges_are_the_quantiles(ts: pd.DataFrame) -> None:
    sub = ts[(ts["series"] == "held") & (ts["holder"] == "red")].sort_values("day")
    ax = only_axes(present.held_over_time(ts, holders="red"))
    assert len(median_lines(ax)) == 1
    outer, inner = fills(ax)  # 90% band drawn first, under the 50% band
    ys_outer = outer.get_paths()[0].vertices[:, 1]
    ys_inner = inner.get_paths()[0].vertices[:, 1]
    assert ys_outer.min() == pytest.approx(sub["p05"].min())
    assert ys_outer.max() == pytest.approx(sub["p95"].max())
    assert ys_inner.min() == pytest.approx(sub["p25"].min())
    assert ys_inner.max() == pytest.approx(sub["p75"].max())


def test_held_over_time_filters_and_rejects_unknown(ts: pd.DataFrame) -> None:
    ax = only_axes(present.held_over_time(ts, nationalities=["blue"]))
    assert [ln.get_label() for ln in median_lines(ax)] == ["blue held by red (median)"]
    with pytest.raises(ValueError, match="available"):
        present.held_over_time(ts, holders="nobody")


def synthetic_held(peaks: dict[tuple[str, str], float]) -> pd.DataFrame:
    days = np.arange(5)
    frames = []
    for (holder, nat), peak in peaks.items():
        v = np.full(5, peak)
        frames.append(
            pd.DataFrame(
                {
                    "day": days,
                    "date": [(START + dt.timedelta(days=int(d))).isoformat() for d in days],
                    "series": "held",
                    "holder": holder,
                    "nationality": nat,
                    "mean": v,
                    **{q: v for q in ("p05", "p25", "p50", "p75", "p95")},
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_held_over_time_symlog_only_when_groups_differ_a_hundredfold() -> None:
    wide = synthetic_held({("a", "b"): 5000.0, ("b", "a"): 3.0})
    close = synthetic_held({("a", "b"): 5000.0, ("b", "a"): 900.0})
    assert only_axes(present.held_over_time(wide)).get_yscale() == "symlog"
    assert only_axes(present.held_over_time(close)).get_yscale() == "linear"
    assert only_axes(present.held_over_time(wide, log=False)).get_yscale() == "linear"


def test_draws_into_a_given_axes() -> None:
    fig = Figure()
    left, right = fig.subplots(1, 2)
    out = present.held_over_time(synthetic_held({("a", "b"): 10.0}), ax=right)
    assert out is fig
    assert len(right.get_lines()) == 1 and len(left.get_lines()) == 0


# ------------------------------------------------------------------------- repatriated
def test_load_observed_cumulative_reads_the_seed_data() -> None:
    path = ROOT / "seeds" / "data" / "ua_ru_cumulative.csv"
    obs = present.load_observed_cumulative(path)
    raw = pd.read_csv(path).dropna(subset=["ukrainians_returned_total"])
    assert list(obs.columns) == ["date", "value"]
    assert pd.api.types.is_datetime64_any_dtype(obs["date"])
    assert len(obs) == len(raw)
    assert obs["date"].is_monotonic_increasing
    first = obs.iloc[0]
    assert first["date"] == pd.Timestamp("2022-04-19") and first["value"] == 200.0


def test_repatriated_over_time_with_observed_points(ts: pd.DataFrame) -> None:
    rep = ts[ts["series"] == "repatriated_cumulative"]
    nats = sorted(rep["nationality"].unique())
    observed = pd.DataFrame({"date": ["2025-02-01", "2025-03-15"], "returned": [12.0, 30.0]})
    fig = present.repatriated_over_time(ts, observed=observed, observed_label="reported")
    ax = only_axes(fig)
    assert "repatriated" in ax.get_title().lower()
    assert "people" in ax.get_ylabel() and "cumulative" in ax.get_ylabel()
    assert_date_axis(ax)
    assert len(median_lines(ax)) == len(nats) == 2
    assert len(fills(ax)) == 2 * len(nats)
    (obs,) = [ln for ln in ax.get_lines() if ln.get_label() == "reported"]
    assert obs.get_linestyle() == "None" and obs.get_marker() == "o"
    np.testing.assert_allclose(obs.get_ydata(), [12.0, 30.0])
    np.testing.assert_allclose(
        mdates.date2num(obs.get_xdata()),
        mdates.date2num([dt.datetime(2025, 2, 1), dt.datetime(2025, 3, 15)]),
    )
    one = only_axes(present.repatriated_over_time(ts, "blue"))
    (line,) = median_lines(one)
    want = rep[rep["nationality"] == "blue"].sort_values("day")["p50"]
    np.testing.assert_allclose(line.get_ydata(), want)
    with pytest.raises(ValueError, match="available"):
        present.repatriated_over_time(ts, "green")


# ------------------------------------------------------------------------- survival
def test_survival_curves_steps_bands_and_axes() -> None:
    day = np.arange(0, 50, 5, dtype=float)
    km = pd.concat(
        [
            pd.DataFrame(
                {
                    "group": g,
                    "day": day,
                    "survival": np.exp(-day / scale),
                    "ci_low": np.exp(-day / scale) * 0.9,
                    "ci_high": np.minimum(np.exp(-day / scale) * 1.1, 1.0),
                }
            )
            for g, scale in (("blue", 20.0), ("red", 60.0))
        ]
    )
    ax = only_axes(present.survival_curves(km.sample(frac=1.0, random_state=1)))
    # sim.results.survival frames carry at_risk: days nobody is observed are left out
    nobody = km.assign(at_risk=np.where(km["day"] > 30, 0, 10))
    trimmed = only_axes(present.survival_curves(nobody)).get_lines()
    assert max(trimmed[0].get_xdata()) == 30
    assert ax.get_xlabel() == "days in captivity"
    assert ax.get_ylabel() == "share still held"
    assert "Kaplan" in ax.get_title()
    assert ax.get_ylim() == pytest.approx((0.0, 1.02))
    curves = ax.get_lines()
    assert [c.get_label() for c in curves] == ["blue", "red"]
    assert all(c.get_drawstyle() == "steps-post" for c in curves)
    np.testing.assert_allclose(curves[1].get_ydata(), np.exp(-day / 60.0))  # sorted by day
    assert len(fills(ax)) == 2
    band = fills(ax)[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx((np.exp(-day / 20.0) * 0.9).min())
    with pytest.raises(ValueError, match="ci_high"):
        present.survival_curves(km.drop(columns="ci_high"))


# ------------------------------------------------------------------------- distributions
def test_outcome_distributions_panels_bars_and_mean(runs: pd.DataFrame) -> None:
    metrics = ("deals", "repatriated", "died", "first_deal_day")
    fig = present.outcome_distributions(runs, metrics)
    axes = [a for a in fig.axes if a.get_visible()]
    assert len(axes) == 4
    assert f"{len(runs):,} runs" in fig.get_suptitle()
    deals_ax = axes[0]
    assert deals_ax.get_title() == "Deals executed"
    assert deals_ax.get_xlabel() == "deals executed (deals)"
    assert deals_ax.get_ylabel() == "runs"
    values, counts = np.unique(runs["deals"], return_counts=True)
    (bars,) = deals_ax.containers  # the bars (the CI span is a separate patch)
    assert len(bars) == len(values)  # small integer range: one bar per value
    np.testing.assert_allclose(sorted(b.get_height() for b in bars), sorted(counts))
    np.testing.assert_allclose(sorted(b.get_x() + b.get_width() / 2 for b in bars), values)
    mean = [ln for ln in deals_ax.get_lines() if str(ln.get_label()).startswith("mean")]
    assert len(mean) == 1 and mean[0].get_xdata()[0] == pytest.approx(runs["deals"].mean())
    assert any("95% CI of mean" in t.get_text() for t in deals_ax.get_legend().get_texts())
    for ax, metric in zip(axes, metrics, strict=True):
        assert ax.get_xlabel() == present.metric_label(metric)
        hist_total = sum(p.get_height() for p in ax.containers[0])
        assert hist_total == runs[metric].notna().sum()


def test_outcome_distributions_counts_missing_and_uses_histograms() -> None:
    runs = pd.DataFrame(
        {
            "repatriated": np.linspace(0, 5000, 40),
            "first_deal_day": [np.nan] * 3 + list(np.linspace(10, 80, 37)),
        }
    )
    fig = present.outcome_distributions(runs, ("repatriated", "first_deal_day"))
    rep_ax, first_ax = fig.axes
    assert len(rep_ax.containers[0]) < 40  # wide range: binned, not a bar per value
    assert "3 runs without one" in first_ax.get_title()


# ------------------------------------------------------------------------- Gantt
def test_talks_timeline_one_bar_per_talk_coloured_by_outcome(kursk_run) -> None:
    scn, res = kursk_run
    talks, deals = res.talks, res.deals
    outcomes = {t["outcome"] for t in talks}
    assert {"agreed", "refused"} <= outcomes
    assert {d["outcome"] for d in deals} == {"executed", "collapsed"}
    fig = present.talks_timeline(talks, deals, start_date=scn.start_date)
    ax = fig.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == len(talks)
    for bar, t in zip(bars, talks, strict=True):
        assert to_hex(bar.get_facecolor()) == to_hex(present.OUTCOME_COLORS[t["outcome"]])
    start = mdates.date2num(dt.datetime(2025, 1, 13))
    np.testing.assert_allclose([b.get_x() for b in bars], [start + t["opened"] for t in talks])
    np.testing.assert_allclose(
        [b.get_x() + b.get_width() for b in bars],
        [start + max(t["closed"], t["opened"] + 0.5) for t in talks],
        atol=1.5,  # minimum visible width for same-day talks
    )
    assert_date_axis(ax)
    channels = [lbl.get_text() for lbl in ax.get_yticklabels()]
    assert set(channels) == {t["channel"] for t in talks}
    # each bar sits in its channel's row
    for bar, t in zip(bars, talks, strict=True):
        row = channels.index(t["channel"])
        assert abs(bar.get_y() + bar.get_height() / 2 - row) < 0.5
    for kind in ("executed", "collapsed"):
        (marks,) = [ln for ln in ax.get_lines() if ln.get_label() == f"deal {kind}"]
        want = [start + d["day"] for d in deals if d["outcome"] == kind]
        np.testing.assert_allclose(np.asarray(marks.get_xdata(), dtype=float), want)
        # on the bar of the talks that agreed the deal
        centre = {
            t["talks"]: b.get_y() + b.get_height() / 2 for b, t in zip(bars, talks, strict=True)
        }
        ys = [centre[d["talks"]] for d in deals if d["outcome"] == kind]
        np.testing.assert_allclose(np.asarray(marks.get_ydata(), dtype=float), ys)
        assert marks.get_marker() == present.DEAL_MARKERS[kind]["marker"]
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"agreed (deal)", "refused", "deal executed", "deal collapsed"} <= legend
    assert ax.get_title()


def test_talks_timeline_in_days_with_overlaps_and_open_talks() -> None:
    talks = pd.DataFrame(
        {
            "talks": [1, 2, 3],
            "channel": ["uae", "uae", "direct"],
            "opened": [0.0, 5.0, 20.0],
            "closed": [10.0, 15.0, None],
            "outcome": ["breakdown", "deadline", "open"],
        }
    )
    deals = [{"talks": 2, "channel": "uae", "agreed": 15.0, "outcome": "executed", "day": 22.0}]
    ax = present.talks_timeline(talks, deals, end=50.0).axes[0]
    assert ax.get_xlabel() == "day of run (days from start)"
    assert not isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    b1, b2, b3 = (p for p in ax.patches if isinstance(p, Rectangle))
    assert b1.get_y() != b2.get_y()  # overlapping talks on one channel: separate lanes
    assert abs(b1.get_y() - b2.get_y()) < 1.0  # ... within the channel's row
    (mark,) = [ln for ln in ax.get_lines() if ln.get_label() == "deal executed"]
    assert list(mark.get_xdata()) == [22.0]
    assert list(mark.get_ydata()) == [pytest.approx(b2.get_y() + b2.get_height() / 2)]
    assert b3.get_x() + b3.get_width() == pytest.approx(50.0)  # open talks run to the end
    assert to_hex(b3.get_facecolor()) == to_hex(present.OUTCOME_COLORS["open"])
    with pytest.raises(ValueError):
        present.talks_timeline(talks.iloc[0:0])


# ------------------------------------------------------------------------- sweeps
@pytest.fixture()
def grid_points() -> pd.DataFrame:
    rows = []
    for r in (0.8, 0.2, 0.6, 0.4):
        for c in (0.4, 0.0, 0.2):
            m = 1000 * (1 - r) * (1 - c)
            rows.append(
                {
                    "res": r,
                    "col": c,
                    "deals_mean": m,
                    "deals_ci_low": m - 10 - 100 * c,
                    "deals_ci_high": m + 10 + 100 * c,
                }
            )
    return pd.DataFrame(rows)


def test_metric_vs_parameter_sorted_line_and_band(grid_points: pd.DataFrame) -> None:
    one = grid_points[grid_points["col"] == 0.2]
    ax = only_axes(present.metric_vs_parameter(one, "res", "deals"))
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_xdata(), [0.2, 0.4, 0.6, 0.8])
    np.testing.assert_allclose(
        line.get_ydata(), [1000 * (1 - r) * 0.8 for r in (0.2, 0.4, 0.6, 0.8)]
    )
    (band,) = fills(ax)
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(one["deals_ci_low"].min())
    assert ys.max() == pytest.approx(one["deals_ci_high"].max())
    assert ax.get_xlabel() == "res"
    assert ax.get_ylabel() == "mean deals executed (deals)"
    assert "res" in ax.get_title()
    for kwargs in ({"by": "col"}, {}):  # with one other parameter, it is the default `by`
        ax = only_axes(present.metric_vs_parameter(grid_points, "res", "deals", **kwargs))
        lines = ax.get_lines()
        assert [ln.get_label() for ln in lines] == ["col = 0", "col = 0.2", "col = 0.4"]
        np.testing.assert_allclose(
            lines[2].get_ydata(), [600 * (1 - r) for r in (0.2, 0.4, 0.6, 0.8)]
        )
        assert len(fills(ax)) == 3
    with pytest.raises(ValueError, match="metrics available"):
        present.metric_vs_parameter(one, "res", "died")


def test_metric_vs_parameter_points_only_when_several_others_vary(
    grid_points: pd.DataFrame,
) -> None:
    pts = grid_points.assign(third=np.arange(len(grid_points)) % 2)
    ax = only_axes(present.metric_vs_parameter(pts, "res", "deals"))
    assert all(ln.get_linestyle() == "None" for ln in ax.get_lines())  # no connecting line
    assert not fills(ax)
    (marks,) = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    np.testing.assert_allclose(marks.get_ydata(), pts["deals_mean"])
    bars = [c for c in ax.collections if c.get_segments()]
    spans = [seg[:, 1] for seg in bars[0].get_segments()]
    np.testing.assert_allclose([s.min() for s in spans], pts["deals_ci_low"])
    np.testing.assert_allclose([s.max() for s in spans], pts["deals_ci_high"])


def test_heatmap_array_is_the_pivot(grid_points: pd.DataFrame) -> None:
    fig = present.heatmap(grid_points, "res", "col", "deals")
    ax = fig.axes[0]
    pivot = grid_points.pivot(index="col", columns="res", values="deals_mean")
    pivot = pivot.sort_index().sort_index(axis=1)
    (im,) = ax.get_images()
    np.testing.assert_allclose(np.asarray(im.get_array()), pivot.to_numpy())
    assert im.origin == "lower"  # first row (smallest col) at the bottom, as the y ticks say
    assert np.asarray(im.get_array())[0, 0] == pytest.approx(800.0)  # col 0, res 0.2
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.2", "0.4", "0.6", "0.8"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "0.2", "0.4"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("res", "col")
    assert len(fig.axes) == 2  # the colour bar
    assert "deals" in fig.axes[1].get_ylabel()
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == pivot.size
    assert "800" in texts  # res 0.2, col 0 -> 1000 * 0.8
    with pytest.raises(ValueError, match="another parameter"):
        present.heatmap(pd.concat([grid_points, grid_points]), "res", "col", "deals")


def test_sensitivity_bars_sobol_sorted_by_total_effect() -> None:
    idx = pd.DataFrame(
        {
            "metric": ["deals"] * 3 + ["died"],
            "parameter": ["a.x", "b.y", "c.z", "a.x"],
            "S1": [0.10, 0.50, 0.02, 0.9],
            "S1_conf": [0.01, 0.02, 0.03, 0.1],
            "ST": [0.30, 0.60, 0.05, 0.95],
            "ST_conf": [0.02, 0.04, 0.01, 0.1],
        }
    )
    ax = only_axes(present.sensitivity_bars(idx, "deals"))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["b.y", "a.x", "c.z"]  # descending ST
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # first label at the top
    containers = {c.get_label(): c for c in ax.containers}
    st = [bar.get_width() for bar in containers["total effect ST"]]
    s1 = [bar.get_width() for bar in containers["first-order S1"]]
    assert st == pytest.approx([0.60, 0.30, 0.05])
    assert s1 == pytest.approx([0.50, 0.10, 0.02])
    assert "Sobol" in ax.get_title() and "deals" in ax.get_title()
    assert ax.get_xlabel()
    assert len([c for c in ax.collections if c.get_segments()]) == 2  # ST and S1 error bars
    with pytest.raises(ValueError, match="available"):
        present.sensitivity_bars(idx, "captured")


def test_sensitivity_bars_morris() -> None:
    idx = pd.DataFrame(
        {
            "metric": "died",
            "parameter": ["p", "q", "r"],
            "mu": [1.0, -3.0, 0.5],
            "mu_star": [1.0, 3.0, 0.5],
            "mu_star_conf": [0.1, 0.2, 0.1],
            "sigma": [1.0, 1.0, 1.0],
        }
    )
    ax = only_axes(present.sensitivity_bars(idx, "died"))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["q", "p", "r"]
    widths = [p.get_width() for p in ax.patches if isinstance(p, Rectangle)]
    assert widths == pytest.approx([3.0, 1.0, 0.5])
    assert "Morris" in ax.get_title() and "μ*" in ax.get_xlabel()


# ------------------------------------------------------------------------- save
def test_save_writes_png_and_svg_atomically(tmp_path: Path) -> None:
    fig = present.held_over_time(synthetic_held({("a", "b"): 10.0}))
    paths = present.save(fig, tmp_path / "figs" / "held")
    assert paths == [tmp_path / "figs" / "held.png", tmp_path / "figs" / "held.svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    img = mpimg.imread(paths[0])
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    assert img.std() > 0  # not a blank canvas
    assert "<svg" in paths[1].read_text()
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["held.png", "held.svg"]


def test_no_pyplot_and_no_show() -> None:
    """Headless and thread-safe: no module of sim/present/ imports pyplot or calls show(); the
    figure modules build ``matplotlib.figure.Figure`` objects."""
    modules = sorted((ROOT / "sim" / "present").glob("*.py"))
    assert len(modules) >= 10
    figures = set()
    for path in modules:
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported |= {f"{node.module}.{a.name}" for a in node.names} | {str(node.module)}
            elif isinstance(node, ast.Attribute):
                assert node.attr != "show", f"{path.name}: show() called at line {node.lineno}"
        assert not any("pyplot" in name for name in imported), (path.name, imported)
        if "matplotlib.figure.Figure" in imported:
            figures.add(path.stem)
    assert {
        "run_figures",
        "talks_figure",
        "sweep_figures",
        "compare_figures",
        "arm_figures",
        "calibration_plots",
    } <= figures
    assert not (ROOT / "sim" / "present" / "plots.py").exists()  # no grab-bag module


def test_figures_render_concurrently_in_threads(tmp_path: Path) -> None:
    frames = [synthetic_held({("a", "b"): 10.0 * (i + 1)}) for i in range(4)]

    def render(i: int) -> Path:
        fig = present.held_over_time(frames[i])
        return present.save(fig, tmp_path / f"f{i}", formats=("png",), dpi=40)[0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        paths = list(pool.map(render, range(4)))
    assert [p.name for p in paths] == ["f0.png", "f1.png", "f2.png", "f3.png"]
    assert all(mpimg.imread(p).shape[0] > 50 for p in paths)


# ------------------------------------------------------------------------- comparison arms
ARMS = ("baseline", "slower")


@pytest.fixture(scope="module")
def arm_batches():
    slower = SCENARIO.replace("mean: 15}", "mean: 60}").replace("mean: 20}", "mean: 80}")
    assert slower.count("mean: 60}") == 1 and slower.count("mean: 80}") == 1
    return {
        "baseline": run_replications(loads_scenario(SCENARIO), seed=3, replications=12),
        "slower": run_replications(loads_scenario(slower), seed=3, replications=12),
    }


@pytest.fixture(scope="module")
def arm_ts(arm_batches) -> dict[str, pd.DataFrame]:
    return {k: timeseries_frame(b) for k, b in arm_batches.items()}


@pytest.fixture(scope="module")
def arm_runs(arm_batches) -> dict[str, pd.DataFrame]:
    return {k: runs_frame(b) for k, b in arm_batches.items()}


def synthetic_km(scale: float) -> pd.DataFrame:
    """survival.csv rows: per nationality, category 'all' and 'soldier'; nobody at risk late."""
    day = np.arange(0, 60, 5, dtype=float)
    frames = []
    for nat, k in (("blue", 1.0), ("red", 2.0)):
        for cat, f in (("all", 1.0), ("soldier", 0.5)):
            s = np.exp(-day / (scale * k * f))
            frames.append(
                pd.DataFrame(
                    {
                        "group": f"{nat} {cat}",
                        "nationality": nat,
                        "category": cat,
                        "day": day,
                        "at_risk": np.where(day > 45, 0, 50),
                        "survival": s,
                        "ci_low": s * 0.9,
                        "ci_high": np.minimum(s * 1.1, 1.0),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def visible(fig: Figure) -> list:
    return [a for a in fig.axes if a.get_visible()]


def line_colours(ax) -> list[str]:
    return [to_hex(ln.get_color()) for ln in ax.get_lines()]


def test_arm_colours_follow_the_palette_in_arm_order() -> None:
    colours = present.arm_colors(["a", "b", "c"])
    assert list(colours) == ["a", "b", "c"]
    assert list(colours.values()) == list(present.PALETTE[:3])


def test_arms_over_time_panels_lines_colours_and_medians(arm_ts) -> None:
    fig = present.arms_over_time(arm_ts)
    held = arm_ts["baseline"].query("series == 'held'")
    rep = arm_ts["baseline"].query("series == 'repatriated_cumulative'")
    n_held = held.groupby(["holder", "nationality"]).ngroups
    n_rep = rep["nationality"].nunique()
    axes = visible(fig)
    assert len(axes) == n_held + n_rep == 4
    colours = [to_hex(c) for c in present.PALETTE[:2]]
    for ax in axes:
        assert len(ax.get_lines()) == len(ARMS)  # one median per arm, shared axes
        assert [ln.get_label() for ln in ax.get_lines()] == list(ARMS)
        assert line_colours(ax) == colours
        assert len(fills(ax)) == len(ARMS)  # one 5%-95% band per arm
        assert_date_axis(ax)
    for ax, key in ((axes[0], ("blue", "red")), (axes[1], ("red", "blue"))):
        assert ax.get_title() == f"{key[1]} held by {key[0]}"
        for line, arm in zip(ax.get_lines(), ARMS, strict=True):
            ts = arm_ts[arm]
            want = ts[
                (ts["series"] == "held") & (ts["holder"] == key[0]) & (ts["nationality"] == key[1])
            ].sort_values("day")
            np.testing.assert_allclose(line.get_ydata(), want["p50"])
            np.testing.assert_allclose(mdates.date2num(line.get_xdata()), as_datenum(want["date"]))
        band = fills(ax)[1].get_paths()[0].vertices[:, 1]  # the second arm's band
        assert band.min() == pytest.approx(want["p05"].min())
        assert band.max() == pytest.approx(want["p95"].max())
    rep_ax = axes[n_held]
    assert rep_ax.get_title() == "blue repatriated"
    slower = arm_ts["slower"]
    want = slower[
        (slower["series"] == "repatriated_cumulative") & (slower["nationality"] == "blue")
    ].sort_values("day")
    np.testing.assert_allclose(rep_ax.get_lines()[1].get_ydata(), want["p50"])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [*ARMS, "5%–95% of runs"]


def test_arms_over_time_arm_without_a_group_keeps_its_colour(arm_ts) -> None:
    ts = dict(arm_ts)
    ts["slower"] = ts["slower"][~(ts["slower"]["holder"] == "blue")]  # no 'red held by blue'
    colours = {"baseline": "#111111", "slower": "#abcdef"}
    axes = visible(present.arms_over_time(ts, colours))
    assert line_colours(axes[0]) == ["#111111"]  # only the baseline has the group
    assert line_colours(axes[1]) == ["#111111", "#abcdef"]


def test_arms_survival_one_panel_per_nationality_overall_category() -> None:
    km = {"baseline": synthetic_km(20.0), "slower": synthetic_km(40.0)}
    fig = present.arms_survival(km)
    axes = visible(fig)
    assert [a.get_title() for a in axes] == [
        "blue: time in captivity",
        "red: time in captivity",
    ]
    for ax, nat in zip(axes, ("blue", "red"), strict=True):
        assert line_colours(ax) == [to_hex(c) for c in present.PALETTE[:2]]
        assert [ln.get_label() for ln in ax.get_lines()] == list(ARMS)
        assert all(ln.get_drawstyle() == "steps-post" for ln in ax.get_lines())
        assert len(fills(ax)) == 2
        for line, arm in zip(ax.get_lines(), ARMS, strict=True):
            frame = km[arm]
            want = frame[
                (frame["nationality"] == nat)
                & (frame["category"] == "all")
                & (frame["at_risk"] > 0)
            ]
            np.testing.assert_allclose(line.get_xdata(), want["day"])  # days at risk only
            np.testing.assert_allclose(line.get_ydata(), want["survival"])
        assert ax.get_ylim() == pytest.approx((0.0, 1.02))
        assert ax.get_xlabel() == "days in captivity"


def test_arms_outcomes_ecdf_per_arm(arm_runs) -> None:
    runs = {k: v.copy() for k, v in arm_runs.items()}
    runs["slower"].loc[:2, "first_deal_day"] = np.nan  # three runs without a deal
    metrics = ("repatriated", "deals", "first_deal_day")
    fig = present.arms_outcomes(runs, metrics)
    axes = visible(fig)
    assert len(axes) == 3
    for ax, metric in zip(axes, metrics, strict=True):
        assert ax.get_xlabel() == present.metric_label(metric)
        assert line_colours(ax) == [to_hex(c) for c in present.PALETTE[:2]]
        for line, arm in zip(ax.get_lines(), ARMS, strict=True):
            values = runs[arm][metric].to_numpy(dtype=float)
            x = np.asarray(line.get_xdata(), dtype=float)
            y = np.asarray(line.get_ydata(), dtype=float)
            assert line.get_drawstyle() == "steps-post"
            assert y[0] == 0 and x[0] == np.nanmin(values)
            # each step: the share of all runs (with a value or not) at or below its value
            for v in np.unique(x[1:]):
                share = (values <= v).sum() / len(values)
                assert y[1:][x[1:] == v].max() == pytest.approx(share)
            assert y[-1] == pytest.approx(np.isfinite(values).mean())
    missing = {arm: int(runs[arm]["first_deal_day"].isna().sum()) for arm in ARMS}
    assert missing["slower"] >= 3
    assert f"slower {missing['slower']} of 12" in axes[2].get_title()
    assert "(runs without one" not in axes[0].get_title()


def test_comparison_figure_takes_the_arm_colours() -> None:
    table = pd.DataFrame(
        {
            "metric": ["deals", "deals"],
            "baseline": "base",
            "variant": ["v1", "v2"],
            "diff": [1.0, -2.0],
            "ci_low": [0.5, -3.0],
            "ci_high": [1.5, -1.0],
            "unpaired_ci_low": [-1.0, -4.0],
            "unpaired_ci_high": [3.0, 0.5],
            "clear": [True, True],
        }
    )
    default = only_axes(present.comparison_figure(table, ["deals"]))
    # per variant: unpaired, paired, difference; then the zero line
    assert line_colours(default)[:6:3] == [to_hex(c) for c in present.PALETTE[:2]]
    colours = present.arm_colors(["base", "v1", "v2"])
    ax = only_axes(present.comparison_figure(table, ["deals"], colors=colours))
    assert line_colours(ax)[:6:3] == [to_hex(colours["v1"]), to_hex(colours["v2"])]
    np.testing.assert_allclose(ax.get_lines()[1].get_xdata(), [0.5, 1.5])


def write_comparison_dir(out: Path, ts, runs, km) -> None:
    """A comparison directory as ``sim.experiments.comparison.compare`` writes it."""
    import json

    from sim.experiments.comparison import paired_differences

    rows = [
        {"metric": m, "baseline": "baseline", "variant": "slower"}
        | paired_differences(runs["baseline"], runs["slower"], m)
        for m in ("captured", "repatriated", "died", "deals")
    ]
    out.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(out / "comparison.csv", index=False)
    arms = [{"label": a, "folder": f"arms/{a}"} for a in ARMS]
    manifest = {"seed": 3, "replications": 12, "baseline": "baseline", "arms": arms}
    (out / "comparison.json").write_text(json.dumps(manifest))
    for arm in ARMS:
        d = out / "arms" / arm
        d.mkdir(parents=True)
        ts[arm].to_csv(d / "timeseries.csv", index=False)
        runs[arm].to_csv(d / "runs.csv", index=False)
        km[arm].to_csv(d / "survival.csv", index=False)


def test_write_comparison_figures_from_a_directory(tmp_path: Path, arm_ts, arm_runs) -> None:
    km = {"baseline": synthetic_km(20.0), "slower": synthetic_km(40.0)}
    out = tmp_path / "cmp"
    write_comparison_dir(out, arm_ts, arm_runs, km)
    written = present.write_comparison_figures(out)
    names = ["comparison", "arms_over_time", "arms_survival", "arms_outcomes"]
    assert written == [out / f"{n}.{fmt}" for n in names for fmt in ("png", "svg")]
    assert all(p.stat().st_size > 5000 for p in written)
    figures = present.comparison_figures(read_comparison(out))
    assert list(figures) == names
    diff_ax = visible(figures["comparison"])[0]
    assert diff_ax.get_title() == present.metric_label("captured")
    assert line_colours(diff_ax)[0] == to_hex(present.PALETTE[1])  # 'slower', as elsewhere
    over_time = visible(figures["arms_over_time"])[0]
    np.testing.assert_allclose(
        over_time.get_lines()[0].get_ydata(),
        arm_ts["baseline"]
        .query("series == 'held' and holder == 'blue' and nationality == 'red'")
        .sort_values("day")["p50"],
    )
    (out / "arms" / "slower" / "survival.csv").unlink()  # an arm without the file: left out
    assert present.write_comparison_figures(out)[-2].name == "arms_outcomes.png"
    assert not any("survival" in p.name for p in present.write_comparison_figures(out))


def test_the_same_figure_is_the_same_bytes(tmp_path: Path) -> None:
    """No creation date and no random SVG ids: a figure saved twice is byte-identical."""
    from matplotlib.figure import Figure

    from sim.present.saving import save

    fig = Figure()
    fig.subplots().plot([0, 1, 2], [1, 0, 2], label="x")
    a = save(fig, tmp_path / "a", ("svg", "png"))
    b = save(fig, tmp_path / "b", ("svg", "png"))
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name
