"""sim/strategies.py: concession formulas, ordering, clipping, registry."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from sim.errors import ScenarioError
from sim.experiments.experiment import run_one
from sim.scenario import strategies
from sim.scenario.loading import loads_scenario
from sim.scenario.parties import StrategySpec
from sim.scenario.strategies import (
    STRATEGIES,
    ConcessionState,
    agreement_time,
    aspiration,
    register_strategy,
    time_dependent,
)


@pytest.fixture
def restore_registry() -> Iterator[None]:
    saved = dict(STRATEGIES)
    yield
    STRATEGIES.clear()
    STRATEGIES.update(saved)


def state(elapsed: float, deadline: float = 100.0, reservation: float = 0.0, received=None):
    return ConcessionState(elapsed, deadline, reservation, list(received or []))


# u(t) = 1 - (1 - r) (t/T)^(1/e), values worked out by hand
@pytest.mark.parametrize(
    ("t", "T", "r", "e", "expected"),
    [
        (0.0, 100.0, 0.3, 1.0, 1.0),
        (25.0, 100.0, 0.4, 1.0, 0.85),  # 1 - 0.6 * 0.25
        (50.0, 100.0, 0.0, 0.5, 0.75),  # 1 - 0.5^2
        (25.0, 100.0, 0.2, 2.0, 0.6),  # 1 - 0.8 * 0.25^0.5
        (50.0, 100.0, 0.0, 0.2, 0.96875),  # 1 - 0.5^5
        (50.0, 100.0, 0.0, 5.0, 1 - 0.5**0.2),
        (100.0, 100.0, 0.35, 0.2, 0.35),  # at the deadline: the reservation
        (250.0, 100.0, 0.35, 3.0, 0.35),  # past the deadline: t clipped to T
        (-10.0, 100.0, 0.35, 3.0, 1.0),  # before the start: t clipped to 0
        (90.0, 180.0, 0.5, 1.0, 0.75),
    ],
)
def test_time_dependent_formula(t: float, T: float, r: float, e: float, expected: float) -> None:
    assert time_dependent(t, T, r, e) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("boulware", 0.96875), ("linear", 0.5), ("conceder", 1 - 0.5**0.2)],
)
def test_named_time_dependent_defaults(name: str, expected: float) -> None:
    # defaults: boulware e = 0.2, linear e = 1, conceder e = 5
    assert aspiration(StrategySpec(name=name), state(50.0)) == pytest.approx(expected)


def test_exponent_from_spec_overrides_default() -> None:
    spec = StrategySpec(name="boulware", e=1.0)
    assert aspiration(spec, state(50.0)) == pytest.approx(0.5)
    spec = StrategySpec(name="conceder", e=0.5)
    assert aspiration(spec, state(50.0)) == pytest.approx(0.75)


@pytest.mark.parametrize("t", [1.0, 10.0, 33.3, 50.0, 77.0, 99.0])
@pytest.mark.parametrize("r", [0.0, 0.3, 0.7])
def test_boulware_above_linear_above_conceder(t: float, r: float) -> None:
    st = state(t, reservation=r)
    b = aspiration(StrategySpec(name="boulware"), st)
    lin = aspiration(StrategySpec(name="linear"), st)
    c = aspiration(StrategySpec(name="conceder"), st)
    assert b > lin > c
    assert r <= c and b <= 1.0


def test_time_dependent_is_monotone_decreasing_in_time() -> None:
    for e in (0.2, 1.0, 5.0):
        values = [time_dependent(t, 60.0, 0.25, e) for t in range(61)]
        assert all(a > b for a, b in itertools.pairwise(values))
        assert values[0] == 1.0
        assert values[-1] == pytest.approx(0.25)


def test_aspiration_clipped_to_reservation_and_one(restore_registry: None) -> None:
    register_strategy("test_too_high")(lambda spec, s: 1.7)
    register_strategy("test_too_low")(lambda spec, s: -0.4)
    st = state(10.0, reservation=0.35)
    assert aspiration(StrategySpec(name="test_too_high"), st) == 1.0
    assert aspiration(StrategySpec(name="test_too_low"), st) == 0.35


@pytest.mark.parametrize("name", ["boulware", "linear", "conceder", "tit_for_tat", "hardliner"])
def test_builtin_strategies_stay_in_range(name: str) -> None:
    for t in (0.0, 20.0, 100.0, 500.0):
        for rec in ([], [0.1], [0.1, 0.9], [0.0, 1.0], [0.9, 0.1]):
            v = aspiration(StrategySpec(name=name), state(t, reservation=0.4, received=rec))
            assert 0.4 <= v <= 1.0


@pytest.mark.parametrize(
    ("T", "r", "e", "expected"),
    [
        (100.0, 0.0, 1.0, 50.0),  # linear, r=0: aspirations 0.5 + 0.5 at half-time
        (100.0, 0.2, 0.5, 100.0 * (1 / 1.6) ** 0.5),
        (180.0, 0.25, 2.0, 180.0 * (1 / 1.5) ** 2),
        (30.0, 0.4, 0.2, 30.0 * (1 / 1.2) ** 0.2),
    ],
)
def test_agreement_time_formula(T: float, r: float, e: float, expected: float) -> None:
    t_star = agreement_time(T, r, e)
    assert t_star == pytest.approx(expected)
    # at t* two symmetric agents' aspirations sum to exactly 1 ...
    assert 2 * time_dependent(t_star, T, r, e) == pytest.approx(1.0)
    # ... and not before
    assert 2 * time_dependent(0.99 * t_star, T, r, e) > 1.0
    assert 2 * time_dependent(min(1.01 * t_star, T), T, r, e) < 1.0 or t_star >= T


def test_tit_for_tat_concedes_what_it_received() -> None:
    spec = StrategySpec(name="tit_for_tat")
    # fewer than two offers received: nothing to reciprocate yet
    assert aspiration(spec, state(5.0, reservation=0.2)) == 1.0
    assert aspiration(spec, state(5.0, reservation=0.2, received=[0.3])) == 1.0
    # the others moved from 0.2 to 0.5 in its utility: it concedes 0.3
    assert aspiration(spec, state(5.0, reservation=0.2, received=[0.2, 0.35, 0.5])) == (
        pytest.approx(0.7)
    )
    # measured from the first offer to the latest, not the largest step
    assert aspiration(spec, state(5.0, reservation=0.0, received=[0.1, 0.6, 0.25])) == (
        pytest.approx(0.85)
    )
    # offers that got worse: no concession
    assert aspiration(spec, state(5.0, reservation=0.2, received=[0.6, 0.4])) == 1.0
    # never below the reservation
    assert aspiration(spec, state(5.0, reservation=0.6, received=[0.0, 0.9])) == 0.6
    # independent of time
    assert aspiration(spec, state(99.0, reservation=0.2, received=[0.2, 0.5])) == (
        pytest.approx(0.7)
    )


def test_hardliner_is_constant() -> None:
    default = StrategySpec(name="hardliner")
    set_level = StrategySpec(name="hardliner", level=0.7)
    for t in (0.0, 50.0, 100.0, 1000.0):
        for rec in ([], [0.0, 1.0]):
            assert aspiration(default, state(t, reservation=0.3, received=rec)) == 1.0
            assert aspiration(set_level, state(t, reservation=0.3, received=rec)) == 0.7
    # a level below the reservation is lifted to it
    low = StrategySpec(name="hardliner", level=0.2)
    assert aspiration(low, state(10.0, reservation=0.5)) == 0.5


def test_builtin_names_registered() -> None:
    assert {"boulware", "linear", "conceder", "tit_for_tat", "hardliner"} <= set(STRATEGIES)
    assert STRATEGIES["tit_for_tat"] is strategies.tit_for_tat
    assert STRATEGIES["hardliner"] is strategies.hardliner


SCENARIO = """\
name: custom_strategy
start_date: 2025-01-01
horizon: 60
parties:
  - id: blue
    direct_channels: [red]
    strategy: {{name: {name}, level: 0.4}}
    initiative: {{dist: fixed, value: 5}}
  - id: red
    strategy: {name}
    initiative: null
holdings:
  - {{holder: blue, nationality: red, count: 20}}
  - {{holder: red, nationality: blue, count: 20}}
negotiation:
  collapse: 0
"""


def test_registered_strategy_usable_from_scenario(restore_registry: None) -> None:
    calls: list[tuple[str, float]] = []

    @register_strategy("test_half_way")
    def half_way(spec: StrategySpec, s: ConcessionState) -> float:
        calls.append((spec.name, s.elapsed))
        return spec.level if spec.level is not None else 0.5

    assert STRATEGIES["test_half_way"] is half_way
    scn = loads_scenario(SCENARIO.format(name="test_half_way"))
    assert scn.party("blue").strategy.name == "test_half_way"
    assert scn.party("blue").strategy.level == 0.4
    assert scn.party("red").strategy.name == "test_half_way"  # string shorthand
    res = run_one(scn, 1, 0)
    assert calls, "the registered strategy was never consulted during the run"
    assert {name for name, _ in calls} == {"test_half_way"}
    assert res.outcomes["negotiations"] >= 1


def test_unregistered_strategy_rejected_by_scenario() -> None:
    assert "test_not_there" not in STRATEGIES
    with pytest.raises(ScenarioError) as exc:
        loads_scenario(SCENARIO.format(name="test_not_there"))
    assert "test_not_there" in str(exc.value)
