"""sim/plots.py: figure content (titles, labels, artists, values), dates, saving."""

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

from sim.experiments.experiment import run_one, run_replications
from sim.present import plots
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
    fig = plots.held_over_time(ts)
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
    ax = only_axes(plots.held_over_time(ts, holders="red"))
    assert len(median_lines(ax)) == 1
    outer, inner = fills(ax)  # 90% band drawn first, under the 50% band
    ys_outer = outer.get_paths()[0].vertices[:, 1]
    ys_inner = inner.get_paths()[0].vertices[:, 1]
    assert ys_outer.min() == pytest.approx(sub["p05"].min())
    assert ys_outer.max() == pytest.approx(sub["p95"].max())
    assert ys_inner.min() == pytest.approx(sub["p25"].min())
    assert ys_inner.max() == pytest.approx(sub["p75"].max())


def test_held_over_time_filters_and_rejects_unknown(ts: pd.DataFrame) -> None:
    ax = only_axes(plots.held_over_time(ts, nationalities=["blue"]))
    assert [ln.get_label() for ln in median_lines(ax)] == ["blue held by red (median)"]
    with pytest.raises(ValueError, match="available"):
        plots.held_over_time(ts, holders="nobody")


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
    assert only_axes(plots.held_over_time(wide)).get_yscale() == "symlog"
    assert only_axes(plots.held_over_time(close)).get_yscale() == "linear"
    assert only_axes(plots.held_over_time(wide, log=False)).get_yscale() == "linear"


def test_draws_into_a_given_axes() -> None:
    fig = Figure()
    left, right = fig.subplots(1, 2)
    out = plots.held_over_time(synthetic_held({("a", "b"): 10.0}), ax=right)
    assert out is fig
    assert len(right.get_lines()) == 1 and len(left.get_lines()) == 0


# ------------------------------------------------------------------------- repatriated
def test_load_observed_cumulative_reads_the_seed_data() -> None:
    path = ROOT / "seeds" / "data" / "ua_ru_cumulative.csv"
    obs = plots.load_observed_cumulative(path)
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
    fig = plots.repatriated_over_time(ts, observed=observed, observed_label="reported")
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
    one = only_axes(plots.repatriated_over_time(ts, "blue"))
    (line,) = median_lines(one)
    want = rep[rep["nationality"] == "blue"].sort_values("day")["p50"]
    np.testing.assert_allclose(line.get_ydata(), want)
    with pytest.raises(ValueError, match="available"):
        plots.repatriated_over_time(ts, "green")


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
    ax = only_axes(plots.survival_curves(km.sample(frac=1.0, random_state=1)))
    # sim.results.survival frames carry at_risk: days nobody is observed are left out
    nobody = km.assign(at_risk=np.where(km["day"] > 30, 0, 10))
    trimmed = only_axes(plots.survival_curves(nobody)).get_lines()
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
        plots.survival_curves(km.drop(columns="ci_high"))


# ------------------------------------------------------------------------- distributions
def test_outcome_distributions_panels_bars_and_mean(runs: pd.DataFrame) -> None:
    metrics = ("deals", "repatriated", "died", "first_deal_day")
    fig = plots.outcome_distributions(runs, metrics)
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
        assert ax.get_xlabel() == plots.metric_label(metric)
        hist_total = sum(p.get_height() for p in ax.containers[0])
        assert hist_total == runs[metric].notna().sum()


def test_outcome_distributions_counts_missing_and_uses_histograms() -> None:
    runs = pd.DataFrame(
        {
            "repatriated": np.linspace(0, 5000, 40),
            "first_deal_day": [np.nan] * 3 + list(np.linspace(10, 80, 37)),
        }
    )
    fig = plots.outcome_distributions(runs, ("repatriated", "first_deal_day"))
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
    fig = plots.talks_timeline(talks, deals, start_date=scn.start_date)
    ax = fig.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == len(talks)
    for bar, t in zip(bars, talks, strict=True):
        assert to_hex(bar.get_facecolor()) == to_hex(plots.OUTCOME_COLORS[t["outcome"]])
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
        assert marks.get_marker() == plots.DEAL_MARKERS[kind]["marker"]
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
    ax = plots.talks_timeline(talks, deals, end=50.0).axes[0]
    assert ax.get_xlabel() == "day of run (days from start)"
    assert not isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    b1, b2, b3 = (p for p in ax.patches if isinstance(p, Rectangle))
    assert b1.get_y() != b2.get_y()  # overlapping talks on one channel: separate lanes
    assert abs(b1.get_y() - b2.get_y()) < 1.0  # ... within the channel's row
    (mark,) = [ln for ln in ax.get_lines() if ln.get_label() == "deal executed"]
    assert list(mark.get_xdata()) == [22.0]
    assert list(mark.get_ydata()) == [pytest.approx(b2.get_y() + b2.get_height() / 2)]
    assert b3.get_x() + b3.get_width() == pytest.approx(50.0)  # open talks run to the end
    assert to_hex(b3.get_facecolor()) == to_hex(plots.OUTCOME_COLORS["open"])
    with pytest.raises(ValueError):
        plots.talks_timeline(talks.iloc[0:0])


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
    ax = only_axes(plots.metric_vs_parameter(one, "res", "deals"))
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
        ax = only_axes(plots.metric_vs_parameter(grid_points, "res", "deals", **kwargs))
        lines = ax.get_lines()
        assert [ln.get_label() for ln in lines] == ["col = 0", "col = 0.2", "col = 0.4"]
        np.testing.assert_allclose(
            lines[2].get_ydata(), [600 * (1 - r) for r in (0.2, 0.4, 0.6, 0.8)]
        )
        assert len(fills(ax)) == 3
    with pytest.raises(ValueError, match="metrics available"):
        plots.metric_vs_parameter(one, "res", "died")


def test_metric_vs_parameter_points_only_when_several_others_vary(
    grid_points: pd.DataFrame,
) -> None:
    pts = grid_points.assign(third=np.arange(len(grid_points)) % 2)
    ax = only_axes(plots.metric_vs_parameter(pts, "res", "deals"))
    assert all(ln.get_linestyle() == "None" for ln in ax.get_lines())  # no connecting line
    assert not fills(ax)
    (marks,) = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    np.testing.assert_allclose(marks.get_ydata(), pts["deals_mean"])
    bars = [c for c in ax.collections if c.get_segments()]
    spans = [seg[:, 1] for seg in bars[0].get_segments()]
    np.testing.assert_allclose([s.min() for s in spans], pts["deals_ci_low"])
    np.testing.assert_allclose([s.max() for s in spans], pts["deals_ci_high"])


def test_heatmap_array_is_the_pivot(grid_points: pd.DataFrame) -> None:
    fig = plots.heatmap(grid_points, "res", "col", "deals")
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
        plots.heatmap(pd.concat([grid_points, grid_points]), "res", "col", "deals")


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
    ax = only_axes(plots.sensitivity_bars(idx, "deals"))
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
        plots.sensitivity_bars(idx, "captured")


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
    ax = only_axes(plots.sensitivity_bars(idx, "died"))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["q", "p", "r"]
    widths = [p.get_width() for p in ax.patches if isinstance(p, Rectangle)]
    assert widths == pytest.approx([3.0, 1.0, 0.5])
    assert "Morris" in ax.get_title() and "μ*" in ax.get_xlabel()


# ------------------------------------------------------------------------- save
def test_save_writes_png_and_svg_atomically(tmp_path: Path) -> None:
    fig = plots.held_over_time(synthetic_held({("a", "b"): 10.0}))
    paths = plots.save(fig, tmp_path / "figs" / "held")
    assert paths == [tmp_path / "figs" / "held.png", tmp_path / "figs" / "held.svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    img = mpimg.imread(paths[0])
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    assert img.std() > 0  # not a blank canvas
    assert "<svg" in paths[1].read_text()
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["held.png", "held.svg"]


def test_no_pyplot_and_no_show() -> None:
    """Headless and thread-safe: the module never imports pyplot nor calls show()."""
    tree = ast.parse((ROOT / "sim" / "present" / "plots.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported |= {f"{node.module}.{a.name}" for a in node.names} | {str(node.module)}
        elif isinstance(node, ast.Attribute):
            assert node.attr != "show", f"show() called at line {node.lineno}"
    assert "matplotlib.figure.Figure" in imported
    assert not any("pyplot" in name for name in imported), imported


def test_figures_render_concurrently_in_threads(tmp_path: Path) -> None:
    frames = [synthetic_held({("a", "b"): 10.0 * (i + 1)}) for i in range(4)]

    def render(i: int) -> Path:
        fig = plots.held_over_time(frames[i])
        return plots.save(fig, tmp_path / f"f{i}", formats=("png",), dpi=40)[0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        paths = list(pool.map(render, range(4)))
    assert [p.name for p in paths] == ["f0.png", "f1.png", "f2.png", "f3.png"]
    assert all(mpimg.imread(p).shape[0] > 50 for p in paths)
