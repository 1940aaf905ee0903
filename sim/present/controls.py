"""Interactive controls for chosen scenario values, built from the schema in one call.

Owns ``explore(scenario, paths)``: for each dotted path a control declared by the schema
(``sim.scenario.field_specs.field_info``): a slider within the field's bounds for a number
(an integer slider for a whole number), a checkbox for a yes/no, a dropdown for a choice
(``Literal`` values, strategies from the registry, distributions by their ``dist`` tag), each
set to the scenario's current value. When one changes, the variant
(``scenario.with_values(...)``) is run serially (a small batch is quickest in-process, without
worker processes) and the outcome table, prisoners held over time and cumulative repatriated
are redrawn; results are remembered, so going back to an earlier setting is instant.

What a control shows and sends is planned without widgets (``plan_control``), so it can be
tested and reused; ``ipywidgets`` is imported only inside ``explore``, so importing
``sim.present`` does not need it.
"""

from __future__ import annotations

import html
import io
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sim.errors import ScenarioError
from sim.experiments.experiment import run_replications
from sim.present import held_over_time, repatriated_over_time
from sim.results.summary import (
    MAIN_METRICS,
    format_table,
    parties_frame,
    runs_frame,
    summary_frame,
    timeseries_frame,
)
from sim.scenario.field_specs import FieldSpec, dist_like, dist_mean, field_info
from sim.scenario.schema import Scenario
from sim.scenario.values import set_arguments

FAR = 100  # a bound further than this many times the value's scale is a guard, not a range
CACHE = 32  # outcomes remembered per explore()


@dataclass(frozen=True)
class Outcome:
    """One batch of a scenario variant, as the output contract's DataFrames."""

    scenario: Scenario
    runs: pd.DataFrame
    parties: pd.DataFrame
    summary: pd.DataFrame
    timeseries: pd.DataFrame


def run_outcome(scenario: Scenario, replications: int, seed: int) -> Outcome:
    """Run ``replications`` of ``scenario`` in this process and tabulate them."""
    batch = run_replications(scenario, seed, replications)
    runs = runs_frame(batch)
    return Outcome(
        scenario, runs, parties_frame(batch), summary_frame(runs), timeseries_frame(batch)
    )


# --------------------------------------------------------------------------- planning controls
@dataclass(frozen=True)
class ControlPlan:
    """A control for one path: the widget (``FloatSlider``, ``IntSlider``, ``Checkbox``,
    ``Dropdown`` or ``Text``), its range or options, its initial value, and how a widget
    value becomes a scenario value (``to_value``)."""

    spec: FieldSpec
    widget: str
    initial: Any
    low: float | None = None
    high: float | None = None
    step: float | None = None
    options: tuple[tuple[str, Any], ...] = ()

    def to_value(self, shown: Any) -> Any:
        """The scenario value for the widget value ``shown``."""
        if self.spec.kind == "dist":
            current = self.spec.value
            if shown is None or (isinstance(current, dict) and current.get("dist") == shown):
                return None if shown is None else current
            return dist_like(shown, _reference_mean(self.spec))
        if self.widget == "IntSlider":
            return int(shown)
        if self.widget == "FloatSlider":
            return float(shown)
        return shown


def plan_control(spec: FieldSpec, value_range: tuple[float, float] | None = None) -> ControlPlan:
    """The control for ``spec``; ``value_range`` (low, high) replaces a slider's range."""
    if spec.kind in ("number", "integer"):
        if spec.value is None:
            raise ValueError(f"{spec.path} is not set (null); a slider needs a number to start")
        integer = spec.kind == "integer"
        low, high, step = slider_range(spec, value_range)
        value = int(spec.value) if integer else float(spec.value)
        return ControlPlan(spec, "IntSlider" if integer else "FloatSlider", value, low, high, step)
    if spec.kind == "bool":
        return ControlPlan(spec, "Checkbox", bool(spec.value))
    if spec.kind == "choice":
        return ControlPlan(spec, "Dropdown", spec.value, options=_options(spec.choices))
    if spec.kind == "dist":
        options = _options(spec.choices) + ((("none", None),) if spec.nullable else ())
        tag = spec.value.get("dist") if isinstance(spec.value, dict) else None
        return ControlPlan(spec, "Dropdown", tag, options=options)
    if spec.kind == "text":
        return ControlPlan(spec, "Text", spec.value)
    raise ValueError(
        f"{spec.path} holds {type(spec.value).__name__} values, which no single control sets; "
        "choose a path to one number, yes/no or choice inside it "
        f"(e.g. {spec.path}.<field>)"
    )


def slider_range(
    spec: FieldSpec, value_range: tuple[float, float] | None = None
) -> tuple[float, float, float]:
    """(low, high, step) for a number's slider: the field's bounds; where a bound is missing,
    or is only a guard more than ``FAR`` times the value's scale away (``le=10_000`` for 40
    rounds), a range around the current value: from 0 (or below a negative value) to the value
    plus twice its scale. Exclusive bounds (``gt``, ``lt``) are kept off by one step."""
    integer = spec.kind == "integer"
    value = float(spec.value)
    if value_range is not None:
        low, high = (float(v) for v in value_range)
        if not low < high:
            raise ValueError(f"{spec.path}: expected a range low < high, got {value_range}")
        return low, high, (1.0 if integer else _nice_step(high - low))
    scale = max(abs(value), 1.0) if integer or value == 0 else abs(value)
    lower, upper = spec.lower, spec.upper
    if lower is not None and abs(lower - value) <= FAR * scale:
        low = lower
    else:
        low = 0.0 if value >= 0 else value - 2 * scale
    if upper is not None and abs(upper - value) <= FAR * scale:
        high = upper
    else:
        high = value + 2 * scale if upper is None else min(value + 2 * scale, upper)
    if integer:
        low, high = float(math.ceil(low)), float(math.floor(high))
        step = 1.0 if high - low <= 200 else float(round(_nice_step(high - low)))
    else:
        step = _nice_step(high - low)
    if spec.gt is not None and low <= spec.gt:
        low = spec.gt + step
    if spec.lt is not None and high >= spec.lt:
        high = spec.lt - step
    return min(low, value), max(high, value), step


def _nice_step(span: float) -> float:
    """About a hundredth of ``span``, rounded to 1, 2 or 5 times a power of ten."""
    if span <= 0:
        return 1.0
    raw = span / 100
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _options(choices: Sequence[Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((str(c), c) for c in choices)


def _reference_mean(spec: FieldSpec) -> float:
    """The mean a distribution keeps when its kind changes (the default's if it is unset)."""
    for candidate in (spec.value, spec.default):
        if isinstance(candidate, dict):
            return dist_mean(candidate)
    return 1.0


# --------------------------------------------------------------------------- the widget
@dataclass
class Exploration:
    """The live state behind ``explore``'s widget (its ``.exploration``): the controls by
    path, the changes now applied, the latest outcome (or error) and how many batches ran."""

    base: Scenario
    replications: int
    seed: int
    plans: dict[str, ControlPlan]
    controls: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    outcome: Outcome | None = None
    error: str | None = None
    batches: int = 0
    cache: OrderedDict[tuple[str, ...], Outcome] = field(default_factory=OrderedDict)

    def values(self) -> dict[str, Any]:
        """Each path's scenario value as its control now says."""
        return {p: self.plans[p].to_value(w.value) for p, w in self.controls.items()}

    def update(self) -> Outcome | None:
        """Build the variant the controls describe and run it (or take it from the cache)."""
        self.changes = {p: v for p, v in self.values().items() if v != self.plans[p].spec.value}
        key = tuple(set_arguments(self.changes))
        try:
            variant = self.base.with_values(self.changes)
        except ScenarioError as exc:
            self.error = str(exc)
            return None
        self.error = None
        if key not in self.cache:
            self.cache[key] = run_outcome(variant, self.replications, self.seed)
            self.batches += 1
            while len(self.cache) > CACHE:
                self.cache.popitem(last=False)
        self.cache.move_to_end(key)
        self.outcome = self.cache[key]
        return self.outcome


def explore(
    scenario: Scenario,
    paths: Sequence[str],
    replications: int = 50,
    seed: int | None = None,
    *,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    metrics: Sequence[str] = MAIN_METRICS,
    note: Callable[[Outcome], str] | None = None,
) -> Any:
    """Controls for ``paths`` of ``scenario``, each batch of ``replications`` (seed ``seed``,
    default the scenario's: common random numbers across settings) redrawn on every change:
    the outcome table (``metrics``), prisoners held over time and cumulative repatriated.
    The table is headed by the settings it is of, as ``--set`` arguments. ``ranges`` sets a
    slider's (low, high) by path; ``note(outcome)`` adds a line of text under the table.
    Returns an ``ipywidgets.VBox`` (controls, status, table, figures); its ``.exploration`` is
    the live state."""
    import ipywidgets as widgets

    ranges = dict(ranges or {})
    unknown = set(ranges) - set(paths)
    if unknown:
        raise ValueError(f"ranges for paths that have no control: {', '.join(sorted(unknown))}")
    plans = {p: plan_control(field_info(scenario, p), ranges.get(p)) for p in paths}
    state = Exploration(
        scenario, int(replications), scenario.seed if seed is None else int(seed), plans
    )
    state.controls = {p: _make_widget(widgets, plan) for p, plan in plans.items()}
    status = widgets.HTML()
    table = widgets.HTML()
    images = [widgets.Image(format="png", layout=widgets.Layout(width="49%")) for _ in range(2)]

    def redraw(_: Any = None) -> None:
        status.value = "<i>running…</i>"
        outcome = state.update()
        if outcome is None:
            status.value = f"<b style='color:#b00'>{html.escape(state.error or '')}</b>"
            return
        status.value = ""
        text = _settings(state) + "\n\n" + format_table(outcome.summary, metrics)
        if note is not None:
            text += "\n\n" + note(outcome)
        table.value = f"<pre>{html.escape(text)}</pre>"
        for image, figure in zip(images, _figures(outcome), strict=True):
            image.value = _png(figure)

    for control in state.controls.values():
        control.observe(redraw, names="value")
    redraw()
    box = widgets.VBox(
        [widgets.VBox(list(state.controls.values())), status, table, widgets.HBox(images)]
    )
    box.exploration = state
    return box


def _make_widget(widgets: Any, plan: ControlPlan) -> Any:
    style = {"description_width": "initial"}
    common = {
        "description": plan.spec.path,
        "tooltip": plan.spec.description or plan.spec.path,
        "style": style,
    }
    wide = widgets.Layout(width="560px")
    if plan.widget in ("FloatSlider", "IntSlider"):
        make = widgets.IntSlider if plan.widget == "IntSlider" else widgets.FloatSlider
        extra = {} if plan.widget == "IntSlider" else {"readout_format": _readout(plan.step)}
        return make(
            value=plan.initial,
            min=plan.low,
            max=plan.high,
            step=plan.step,
            continuous_update=False,
            layout=wide,
            **extra,
            **common,
        )
    if plan.widget == "Checkbox":
        return widgets.Checkbox(value=plan.initial, indent=False, **common)
    if plan.widget == "Dropdown":
        return widgets.Dropdown(options=list(plan.options), value=plan.initial, **common)
    return widgets.Text(value=plan.initial, continuous_update=False, layout=wide, **common)


def _readout(step: float | None) -> str:
    digits = max(0, -math.floor(math.log10(step))) if step else 2
    return f".{min(digits, 6)}f"


def _settings(state: Exploration) -> str:
    """What the table is of: the scenario and its changes, as ``--set`` arguments."""
    runs = f"{state.replications} runs, seed {state.seed}"
    if not state.changes:
        return f"{state.base.name} as written ({runs})"
    sets = " ".join(f"--set {a}" for a in set_arguments(state.changes))
    return f"{state.base.name} with {sets} ({runs})"


def _figures(outcome: Outcome) -> list[Figure]:
    return [held_over_time(outcome.timeseries), repatriated_over_time(outcome.timeseries)]


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72, bbox_inches="tight")
    return buffer.getvalue()
