"""Controls built from the schema in one call (``sim.present.controls.explore``): the widget
kind and range for a number, a whole number, a yes/no, a choice and a distribution, each at the
scenario's value; and a change of a control reruns the variant and redraws its table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.results.summary import format_table
from sim.scenario import Scenario, load_scenario
from sim.scenario.dists import DIST_NAMES
from sim.scenario.field_specs import field_info
from sim.scenario.strategies import STRATEGIES

widgets = pytest.importorskip("ipywidgets")

from sim.present.controls import explore, plan_control, run_outcome, slider_range  # noqa: E402

SCENARIOS = Path(__file__).parents[2] / "scenarios"
RESERVATION = "parties.blue.reservation"
ONE_FOR_ONE = "parties.blue.norms.one_for_one"
STRATEGY = "parties.red.strategy.name"
ROUNDS = "negotiation.max_rounds"
RATE = "capture_streams.blue_takes_red.rate"


@pytest.fixture(scope="module")
def minimal() -> Scenario:
    return load_scenario(SCENARIOS / "minimal.yaml")


@pytest.fixture(scope="module")
def kursk() -> Scenario:
    return load_scenario(SCENARIOS / "kursk_2025.yaml")


@pytest.fixture
def box(minimal: Scenario) -> Any:
    paths = [RESERVATION, ONE_FOR_ONE, STRATEGY, ROUNDS, RATE]
    return explore(minimal, paths, replications=4, seed=3)


# --------------------------------------------------------------------------- kinds and ranges
def test_a_number_is_a_slider_within_the_fields_bounds(box: Any) -> None:
    slider = box.exploration.controls[RESERVATION]
    assert isinstance(slider, widgets.FloatSlider)
    assert (slider.min, slider.max, slider.value) == (0.0, 1.0, 0.5)  # Share: ge=0, le=1
    assert slider.step == 0.01 and slider.continuous_update is False
    assert slider.description == RESERVATION


def test_a_whole_number_is_an_int_slider_without_its_far_guard_bound(box: Any) -> None:
    slider = box.exploration.controls[ROUNDS]
    assert isinstance(slider, widgets.IntSlider)
    # ge=1 is the low end; le=10_000 only guards against absurd values: 60 ± twice 60
    assert (slider.min, slider.max, slider.value, slider.step) == (1, 180, 60, 1)


def test_a_yes_no_is_a_checkbox_and_a_choice_a_dropdown(box: Any) -> None:
    check = box.exploration.controls[ONE_FOR_ONE]
    assert isinstance(check, widgets.Checkbox) and check.value is True
    drop = box.exploration.controls[STRATEGY]
    assert isinstance(drop, widgets.Dropdown)
    assert drop.value == "linear"
    assert [label for label, _ in drop.options] == sorted(STRATEGIES)


def test_a_distribution_is_a_dropdown_of_its_kinds(kursk: Scenario) -> None:
    plan = plan_control(field_info(kursk, "parties.dprk.initiative"))
    assert plan.widget == "Dropdown" and plan.initial is None  # null: never takes initiative
    assert [v for _, v in plan.options] == [*DIST_NAMES, None]
    # a kind picked from null keeps the field default's mean (30 days)
    assert plan.to_value("exponential") == {"dist": "exponential", "mean": 30.0}
    delay = plan_control(field_info(kursk, "intermediaries.uae.delay"))
    assert delay.initial == "lognormal" and [v for _, v in delay.options] == list(DIST_NAMES)
    assert delay.to_value("lognormal") == {"dist": "lognormal", "mean": 5.0, "sd": 3.0}
    assert delay.to_value("fixed") == {"dist": "fixed", "value": 5.0}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("parties.russia.reservation", (0.0, 1.0, 0.01)),  # both bounds
        ("negotiation.breakdown_risk", (0.0, 0.99, 0.01)),  # lt=1: one step short of 1
        ("intermediaries.uae.reliability", (0.01, 1.0, 0.01)),  # gt=0: one step above 0
        ("parties.russia.deadline", (10.0, 540.0, 10.0)),  # gt=0, no upper: 180 + 2 * 180
        ("parties.russia.values.own", (0.0, 3.0, 0.05)),  # unbounded: 0 to 1 + 2 * 1
        ("capture_streams.ukraine_takes_dprk.rate", (0.0, 0.09, 0.001)),  # le=10_000: a guard
    ],
)
def test_slider_ranges(kursk: Scenario, path: str, expected: tuple[float, ...]) -> None:
    low, high, step = slider_range(field_info(kursk, path))
    assert (low, high, step) == pytest.approx(expected)


def test_a_range_can_be_given_and_a_list_has_no_control(kursk: Scenario) -> None:
    spec = field_info(kursk, "parties.russia.reservation")
    assert slider_range(spec, (0.2, 0.6)) == (0.2, 0.6, 0.005)
    with pytest.raises(ValueError, match="low < high"):
        slider_range(spec, (0.6, 0.2))
    with pytest.raises(ValueError, match="no single control sets"):
        plan_control(field_info(kursk, "intermediaries.uae.connects"))
    with pytest.raises(ValueError, match="ranges for paths that have no control"):
        explore(kursk, ["parties.russia.reservation"], ranges={"negotiation.collapse": (0, 1)})


# --------------------------------------------------------------------------- reruns
def _table(box: Any) -> str:
    return str(box.children[2].value)


def test_the_first_batch_is_the_scenario_as_written(box: Any, minimal: Scenario) -> None:
    state = box.exploration
    assert state.batches == 1 and state.changes == {} and state.error is None
    expected = run_outcome(minimal, 4, 3)
    assert state.outcome.summary.equals(expected.summary)
    assert _table(box).startswith("<pre>minimal as written (4 runs, seed 3)")
    for line in format_table(expected.summary).splitlines()[2:]:
        assert line.replace("&", "&amp;") in _table(box)
    assert box.children[1].value == ""  # no error
    assert all(len(image.value) > 1000 for image in box.children[3].children)  # two PNGs


def test_moving_a_slider_reruns_and_the_table_shows_the_new_value(
    box: Any, minimal: Scenario
) -> None:
    state = box.exploration
    slider = state.controls[RATE]
    assert (slider.value, slider.min, slider.max) == (0.5, 0.0, 1.5)
    before = _table(box)
    images = [image.value for image in box.children[3].children]
    slider.value = 1.5  # as a user letting go of the slider
    assert state.batches == 2
    assert state.changes == {RATE: 1.5}
    assert state.outcome.scenario.get(RATE) == [{"from": 0.0, "per_day": 1.5}]
    expected = run_outcome(minimal.with_values({RATE: 1.5}), 4, 3)
    assert state.outcome.summary.equals(expected.summary)
    assert _table(box).startswith(
        "<pre>minimal with --set capture_streams.blue_takes_red.rate=1.5 (4 runs, seed 3)"
    )
    for line in format_table(expected.summary).splitlines()[2:]:
        assert line.replace("&", "&amp;") in _table(box)
    captured = expected.summary.set_index("metric").loc["captured", "mean"]
    assert captured > 1.5 * state.cache[()].summary.set_index("metric").loc["captured", "mean"]
    assert [image.value for image in box.children[3].children] != images
    # moving back takes the first batch from memory
    slider.value = 0.5
    assert state.batches == 2 and state.changes == {}
    assert _table(box) == before


def test_every_control_kind_reruns_with_its_value(box: Any, minimal: Scenario) -> None:
    state = box.exploration
    state.controls[ONE_FOR_ONE].value = False
    state.controls[STRATEGY].value = "hardliner"
    state.controls[ROUNDS].value = 7
    assert state.batches == 4
    changes = {ONE_FOR_ONE: False, STRATEGY: "hardliner", ROUNDS: 7}
    assert state.changes == changes
    assert state.outcome.scenario == minimal.with_values(changes)
    assert type(state.outcome.scenario.get(ROUNDS)) is int


def test_an_invalid_value_shows_the_error_and_keeps_the_last_table(minimal: Scenario) -> None:
    box = explore(minimal, [RESERVATION], replications=3, seed=1, ranges={RESERVATION: (0, 2)})
    state = box.exploration
    before = _table(box)
    state.controls[RESERVATION].value = 1.5
    assert state.error is not None and "expected a value <= 1.0, got 1.5" in state.error
    assert "expected a value &lt;= 1.0" in box.children[1].value  # the status line
    assert _table(box) == before and state.batches == 1


def test_a_note_is_added_under_the_table(minimal: Scenario) -> None:
    box = explore(
        minimal,
        [ROUNDS],
        replications=3,
        note=lambda o: f"deals per run: {o.runs['deals'].mean():.3f}",
    )
    expected = run_outcome(minimal, 3, minimal.seed).runs["deals"].mean()
    assert f"deals per run: {expected:.3f}" in _table(box)
    assert box.exploration.seed == minimal.seed == 1
