"""What a dotted path accepts, read from the schema (``field_info``): kinds, bounds (also
inside ``Annotated`` types and exclusive ones), choices from ``Literal`` types and the strategy
registry, distributions by tag, shorthands, the timeline; and distributions of another kind
with the same mean (``dist_like``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.scenario import Scenario, load_scenario
from sim.scenario.dists import DIST_NAMES
from sim.scenario.field_specs import dist_like, dist_mean, field_info
from sim.scenario.strategies import STRATEGIES

SCENARIOS = Path(__file__).parents[2] / "scenarios"


@pytest.fixture(scope="module")
def kursk() -> Scenario:
    return load_scenario(SCENARIOS / "kursk_2025.yaml")


@pytest.fixture(scope="module")
def ua_ru() -> Scenario:
    return load_scenario(SCENARIOS / "ua_ru_2022_2024.yaml")


def test_field_info_reads_bounds_kinds_and_choices(kursk: Scenario) -> None:
    res = field_info(kursk, "parties.russia.reservation")
    assert (res.kind, res.value, res.ge, res.le, res.gt, res.lt) == (
        "number",
        0.4,
        0,
        1,
        None,
        None,
    )
    assert res.default == 0.5 and "lowest normalised value" in res.description
    rounds = field_info(kursk, "negotiation.max_rounds")
    assert (rounds.kind, rounds.value, rounds.ge, rounds.le) == ("integer", 40, 1, 10_000)
    risk = field_info(kursk, "negotiation.breakdown_risk")
    assert (risk.lower, risk.upper, risk.ge, risk.lt) == (0, 1, 0, 1)
    rel = field_info(kursk, "intermediaries.uae.reliability")
    assert (rel.gt, rel.le) == (0, 1)
    assert field_info(kursk, "parties.russia.deadline").upper is None
    share = field_info(kursk, "holdings.0.categories.soldier")  # a dict value: Annotated bounds
    assert (share.kind, share.value, share.ge) == ("number", 0.82, 0)


def test_field_info_for_yes_no_choices_and_distributions(kursk: Scenario) -> None:
    ack = field_info(kursk, "parties.russia.acknowledges.dprk")
    assert (ack.kind, ack.value) == ("bool", False)
    name = field_info(kursk, "parties.russia.strategy.name")
    assert (name.kind, name.value, name.choices) == (
        "choice",
        "boulware",
        tuple(sorted(STRATEGIES)),
    )
    assert field_info(kursk, "parties.russia.strategy").choices == name.choices
    delay = field_info(kursk, "intermediaries.uae.delay")
    assert (delay.kind, delay.choices, delay.nullable) == ("dist", DIST_NAMES, False)
    assert delay.value == {"dist": "lognormal", "mean": 5.0, "sd": 3.0}
    init = field_info(kursk, "parties.dprk.initiative")
    assert (init.kind, init.value, init.nullable) == ("dist", None, True)
    assert init.default == {"dist": "exponential", "mean": 30.0}
    tag = field_info(kursk, "intermediaries.uae.delay.dist")
    assert (tag.kind, tag.choices) == ("choice", ("lognormal",))


def test_field_info_for_shorthands_text_and_the_timeline(kursk: Scenario, ua_ru: Scenario) -> None:
    rate = field_info(kursk, "capture_streams.ukraine_takes_dprk.rate")
    assert (rate.kind, rate.value, rate.ge, rate.le) == ("number", 0.03, 0, 10_000)
    assert field_info(kursk, "name").kind == "text"
    assert field_info(kursk, "intermediaries.uae.connects").kind == "other"
    one = field_info(ua_ru, "timeline.2024-01-01.set.parties.ukraine.norms.one_for_one")
    assert (one.kind, one.value) == ("bool", True)
    mean = field_info(ua_ru, "timeline.2023-01-01.set.parties.ukraine.initiative.mean")
    assert (mean.kind, mean.value, mean.lower) == ("integer", 31, None)
    with pytest.raises(ScenarioError, match="no field 'reservaton'"):
        field_info(kursk, "parties.russia.reservaton")


@pytest.mark.parametrize("tag", DIST_NAMES)
def test_dist_like_keeps_the_mean_and_validates(kursk: Scenario, tag: str) -> None:
    made = dist_like(tag, 6.0)
    assert made["dist"] == tag and dist_mean(made) == pytest.approx(6.0)
    changed = kursk.with_values({"intermediaries.uae.delay": made})
    assert changed.intermediary("uae").delay.mean() == pytest.approx(6.0)
    with pytest.raises(ValueError, match="unknown distribution"):
        dist_like("normal", 1.0)
