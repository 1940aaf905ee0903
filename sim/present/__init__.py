"""Floor 6, presentation: figures from DataFrames only (never from a ``Simulation``), the HTML
report of an output directory, and notebook controls.

``from sim import present``, then ``present.held_over_time(result.timeseries)``: the public
figure functions are here, each returning a ``matplotlib.figure.Figure`` built without
``pyplot`` (no window, no display, safe in threads); ``present.save(fig, "out/held")`` writes
it as PNG and SVG. The modules, by concept:

- ``style``: palette, arm colours, metric labels, axis helpers;
- ``run_figures``: held and repatriated over time, survival curves, outcome distributions;
- ``talks_figure``: one run's negotiations as a Gantt chart;
- ``sweep_figures``: a metric against a parameter, heat maps, sensitivity bars;
- ``compare_figures`` and ``arm_figures``: a comparison's differences, its arms overlaid;
- ``output_files``: reading a run's or a comparison's output directory back;
- ``calibration_plots``: the figure of a calibration;
- ``saving``: writing figures; ``page``, ``report_tables`` and ``report``: the HTML report;
- ``controls``: interactive controls for notebooks.
"""

from sim.present.arm_figures import arms_outcomes, arms_over_time, arms_survival
from sim.present.compare_figures import (
    comparison_figure,
    comparison_figures,
    write_comparison_figures,
)
from sim.present.run_figures import (
    held_over_time,
    load_observed_cumulative,
    outcome_distributions,
    repatriated_over_time,
    survival_curves,
)
from sim.present.saving import save
from sim.present.style import METRIC_LABELS, PALETTE, arm_colors, metric_label
from sim.present.sweep_figures import heatmap, metric_vs_parameter, sensitivity_bars
from sim.present.talks_figure import DEAL_MARKERS, OUTCOME_COLORS, talks_timeline

__all__ = [
    "DEAL_MARKERS",
    "METRIC_LABELS",
    "OUTCOME_COLORS",
    "PALETTE",
    "arm_colors",
    "arms_outcomes",
    "arms_over_time",
    "arms_survival",
    "comparison_figure",
    "comparison_figures",
    "heatmap",
    "held_over_time",
    "load_observed_cumulative",
    "metric_label",
    "metric_vs_parameter",
    "outcome_distributions",
    "repatriated_over_time",
    "save",
    "sensitivity_bars",
    "survival_curves",
    "talks_timeline",
    "write_comparison_figures",
]
