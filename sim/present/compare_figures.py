"""The figures of a comparison: the differences from the baseline (``comparison_figure``) and
the arms' own results overlaid (``sim.present.arm_figures``), made from a comparison directory
and written next to it by ``write_comparison_figures``:

- ``comparison.png/.svg``: each variant's difference from the baseline per main metric, with
  paired and unpaired 95% intervals;
- ``arms_over_time.png/.svg``: people held and cumulative repatriated over time per arm;
- ``arms_survival.png/.svg``: time in captivity per arm and nationality;
- ``arms_outcomes.png/.svg``: the distributions of the main outcomes per arm.

An arm has the same colour in all of them (``style.arm_colors``, the baseline first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.present.arm_figures import arms_outcomes, arms_over_time, arms_survival
from sim.present.output_files import ComparisonFiles, read_comparison
from sim.present.saving import save
from sim.present.style import PALETTE, metric_label, require
from sim.results.summary import MAIN_METRICS

__all__ = ["comparison_figure", "comparison_figures", "write_comparison_figures"]

TABLE_COLUMNS = (
    "metric",
    "variant",
    "diff",
    "ci_low",
    "ci_high",
    "unpaired_ci_low",
    "unpaired_ci_high",
    "clear",
)


def _difference_panel(
    ax: Axes, sub: pd.DataFrame, variants: list[str], colors: Mapping[str, str] | None
) -> None:
    """One metric: per variant its unpaired interval (thin), paired interval (thick) and
    difference (filled when clear)."""
    for y, variant in enumerate(variants):
        if variant not in sub.index:
            continue
        r = sub.loc[variant]
        color = (colors or {}).get(variant, PALETTE[y % len(PALETTE)])
        ax.plot([r["unpaired_ci_low"], r["unpaired_ci_high"]], [y, y], color=color, lw=1, alpha=0.6)
        ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=color, lw=4, solid_capstyle="butt")
        ax.plot(
            [r["diff"]], [y], "o", color=color, ms=7, mfc=color if bool(r["clear"]) else "white"
        )
    ax.axvline(0, color="0.3", lw=0.8, ls="--")
    ax.set_yticks(range(len(variants)), [str(v) for v in variants])
    ax.set_ylim(-0.6, len(variants) - 0.4)
    ax.invert_yaxis()


def comparison_figure(
    table: pd.DataFrame,
    metrics: Sequence[str],
    *,
    ncols: int = 3,
    colors: Mapping[str, str] | None = None,
) -> Figure:
    """One panel per metric: each variant's difference from the baseline with its paired 95%
    interval (thick) and, for contrast, the unpaired interval (thin); a zero line; clear
    differences (paired interval excluding zero) drawn solid, unclear ones hollow.

    ``table`` is ``comparison.csv``: metric, baseline, variant, diff, ci_low, ci_high,
    unpaired_ci_low, unpaired_ci_high, clear. ``colors`` (variant label -> colour, e.g.
    ``style.arm_colors`` of all arms) gives each variant its colour in the other figures of
    the comparison; by default the palette in the order of the variants."""
    require(table, TABLE_COLUMNS, "a comparison table")
    metrics = [m for m in metrics if m in set(table["metric"])]
    if not metrics:
        raise ValueError("no metrics to draw")
    variants = list(dict.fromkeys(table["variant"]))
    nrows = -(-len(metrics) // ncols)
    fig = Figure(
        figsize=(4.2 * min(ncols, len(metrics)), 0.6 + 0.55 * len(variants) * nrows + 1.2 * nrows),
        layout="constrained",
    )
    axes = fig.subplots(nrows, min(ncols, len(metrics)), squeeze=False)
    baseline = str(table["baseline"].iloc[0]) if "baseline" in table else "baseline"
    for k, metric in enumerate(metrics):
        ax = axes[k // ncols][k % ncols]
        _difference_panel(
            ax, table[table["metric"] == metric].set_index("variant"), variants, colors
        )
        ax.set_title(metric_label(metric), fontsize=10)
        ax.set_xlabel(f"difference from {baseline}")
        ax.grid(axis="x", alpha=0.3)
    for k in range(len(metrics), nrows * min(ncols, len(metrics))):
        axes[k // ncols][k % ncols].set_visible(False)
    fig.suptitle(
        "Differences from the baseline: paired 95% interval (thick), unpaired (thin); "
        "filled = clear",
        fontsize=10,
    )
    return fig


def comparison_figures(files: ComparisonFiles) -> dict[str, Figure]:
    """The comparison's figures by file name (without suffix): ``comparison`` (the
    differences, over the main metrics in the table), then ``arms_over_time``,
    ``arms_survival`` and ``arms_outcomes`` (each left out when an arm lacks its file)."""
    table, colors = files.table, files.colors
    main = [m for m in MAIN_METRICS if m in set(table["metric"])]
    figures = {"comparison": comparison_figure(table, main, colors=colors)}
    timeseries = files.timeseries()
    if timeseries is not None:
        figures["arms_over_time"] = arms_over_time(timeseries, colors)
    survival = files.survival()
    if survival is not None:
        figures["arms_survival"] = arms_survival(survival, colors)
    runs = files.runs()
    if runs is not None:
        figures["arms_outcomes"] = arms_outcomes(runs, colors=colors)
    return figures


def write_comparison_figures(out: Path) -> list[Path]:
    """Read the comparison in ``out`` and write its figures there, each as PNG and SVG:
    ``comparison``, ``arms_over_time``, ``arms_survival``, ``arms_outcomes``. Returns the
    paths written."""
    written: list[Path] = []
    for name, fig in comparison_figures(read_comparison(out)).items():
        written += save(fig, Path(out) / name)
    return written
