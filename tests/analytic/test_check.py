"""``pxsim check`` (sim/theory/): every check passes on the model, and every check fails when
the simulated world differs from the theory it is compared with; the strategies and the
discounting the Rubinstein and attrition checks rely on."""

from __future__ import annotations

import json
import math
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from sim.cli.main import main
from sim.errors import ScenarioError
from sim.experiments.experiment import run_one
from sim.scenario.loading import loads_scenario
from sim.scenario.parties import StrategySpec
from sim.scenario.strategies import ConcessionState, aspiration, rubinstein_share
from sim.theory import suite
from sim.theory.checks import (
    area_under_held,
    check_attrition,
    check_concession,
    check_held,
    check_little,
    check_poisson,
    check_rubinstein,
)
from sim.theory.suite import CHECKS, Check, run_checks
from sim.theory.verdicts import CheckResult, format_result, judge
from sim.theory.worlds import quiet_world, split_world

QUICK = {c.name: c.quick for c in CHECKS}


def _by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


# ---------------------------------------------------------------------------- every check passes
# the closed forms at the checks' nominal parameters, written out here independently of them
_FACTOR = 1.0 - (1.0 - math.exp(-0.05 * 1000.0)) / (0.05 * 1000.0)  # Little: finite horizon
THEORY = {
    "poisson_mean": 2.0 * 200.0,  # λT
    "poisson_dispersion": 1.0,
    "held_at_horizon": 1.0 * (1.0 - math.exp(-0.01 * 200.0)) / 0.01,  # λ(1 − e^(−hT))/h
    "died_by_horizon": 1.0 * 200.0 - 1.0 * (1.0 - math.exp(-0.01 * 200.0)) / 0.01,
    "little_identity": 0.0,
    "little_L": 2.0 / 0.05 * _FACTOR,
    "little_W": _FACTOR / 0.05,
    "concession_linear": 100.0 * (1.0 / (2.0 * 0.8)) ** 1.0,  # T (1/(2(1 − r)))^e
    "concession_boulware": 100.0 * (1.0 / 2.0) ** 0.2,
    "concession_conceder": 100.0 * (1.0 / (2.0 * 0.9)) ** 5.0,
    "rubinstein_1": (1.0 - 0.90**2) / (1.0 - 0.95**2 * 0.90**2),  # (1 − δ2^d)/(1 − δ1^d δ2^d)
    "rubinstein_2": (1.0 - 0.99) / (1.0 - 0.90 * 0.99),
    "attrition_time": 1.0 / (4.0 / 20.0 + 2.0 / 20.0),  # 1/(c1/V1 + c2/V2)
    "attrition_first": (4.0 / 20.0) / (4.0 / 20.0 + 2.0 / 20.0),
}
# where the simulated value may sit relative to theory before any standard-error widening: the
# model's discretisation (one round of offers or one prisoner in 2000), or floating point
BAND = {
    "little_identity": (-1e-9, 1e-9),
    "concession_linear": (0.0, 2.0),  # one round (offer and reply) of 1-day relays
    "concession_boulware": (0.0, 2.0),
    "concession_conceder": (0.0, 2.0),
    "rubinstein_1": (-1 / 2000, 1 / 2000),
    "rubinstein_2": (-1 / 2000, 1 / 2000),
    "attrition_time": (0.0, 0.2),  # one round of 0.1-day relays
}


@pytest.mark.parametrize("group", [c.name for c in CHECKS])
def test_each_check_passes(group: str) -> None:
    """Every check passes, compares with the right closed form, and the simulated value is
    close to that closed form: exactly within the discretisation band when deterministic,
    within that band widened by 4 SE when stochastic, with 4 SE under 30% of the value."""
    results = run_checks(quick=True, only=[group])
    assert results, group
    for r in results:
        assert r.passed, format_result(r)
        assert r.formula and r.tolerance and r.why
        theory = THEORY[r.name]
        assert r.expected == pytest.approx(theory, rel=1e-9, abs=1e-12), r.name
        lo, hi = BAND.get(r.name, (0.0, 0.0))
        if r.deterministic:
            assert r.interval is None
            assert theory + lo <= r.simulated <= theory + hi, format_result(r)
        else:
            assert 0 < 4 * r.se < 0.3 * abs(theory), format_result(r)  # a narrow band
            margin = 4 * r.se
            assert theory + lo - margin < r.simulated < theory + hi + margin, format_result(r)


def test_the_suite_covers_the_issue() -> None:
    results = run_checks(quick=True, only=["concession", "rubinstein"])
    names = {r.name for r in results}
    assert {"concession_linear", "concession_boulware", "concession_conceder"} <= names
    assert {"rubinstein_1", "rubinstein_2"} <= names
    assert [c.name for c in CHECKS] == [
        "poisson",
        "held",
        "little",
        "concession",
        "rubinstein",
        "attrition",
    ]
    with pytest.raises(ValueError, match="unknown check"):
        run_checks(only=["nonsense"])


# ---------------------------------------------------------------------------- every check can fail
def test_poisson_fails_for_a_different_rate_or_batches() -> None:
    r = _by_name(check_poisson(QUICK["poisson"], world={"rate": 2.2}))
    assert not r["poisson_mean"].passed
    # batches of two: twice the mean and variance / mean = 2 (compound Poisson)
    r = _by_name(check_poisson(QUICK["poisson"], world={"batch": 2}))
    assert not r["poisson_mean"].passed
    assert not r["poisson_dispersion"].passed
    assert r["poisson_dispersion"].simulated == pytest.approx(2.0, rel=0.3)
    # the theory side can be wrong too: theory at 2.2 against a world at 2
    r = _by_name(check_poisson(QUICK["poisson"], rate=2.2, world={"rate": 2.0}))
    assert not r["poisson_mean"].passed


def test_held_fails_for_a_different_hazard() -> None:
    r = _by_name(check_held(QUICK["held"], world={"hazard": 0.012}))
    assert not r["held_at_horizon"].passed
    assert not r["died_by_horizon"].passed


def test_little_fails_for_a_different_hazard_and_a_discretised_area() -> None:
    r = _by_name(check_little(QUICK["little"], world={"hazard": 0.06}))
    assert not r["little_L"].passed
    assert not r["little_W"].passed
    assert r["little_identity"].passed  # an identity holds whatever the hazard
    # the identity is strict: the daily-grid area (the old test's 2% approximation) fails it
    scn = loads_scenario(quiet_world(2.0, 1000.0, 0.05))
    res = run_one(scn, 3, 0, keep_prisoners=True)
    series = res.held_series[("a", "b")]
    daily = float(np.sum(series[:-1] * np.diff(res.grid)))
    exact = res.outcomes["captured"] * res.outcomes["mean_days_held"]
    gap = abs(daily - exact) / exact
    verdict = judge("x", "x", "x", 0.0, gap, band=(-1e-9, 1e-9))
    assert gap > 1e-6 and not verdict.passed


def test_area_under_held_by_hand() -> None:
    # in at 0, 1, 2; out at 3 and 5; the third still held at T = 6: N = 1,2,3,2,2,1 per day
    area = area_under_held(np.array([0.0, 1.0, 2.0]), np.array([3.0, 5.0, np.inf]), 6.0)
    assert area == pytest.approx(3 + 4 + 4)
    # exits after the horizon do not count
    assert area_under_held(np.array([1.0]), np.array([9.0]), 4.0) == pytest.approx(3.0)


def test_concession_fails_for_a_different_exponent() -> None:
    results = check_concession(world={"e": 1.5})
    assert len(results) == 3
    for r in results:
        assert not r.passed, format_result(r)


def test_rubinstein_fails_for_a_different_discount() -> None:
    for r in check_rubinstein(world={"delta1": 0.8}):
        assert not r.passed, format_result(r)
    for r in check_rubinstein(world={"delta2": 0.8}):
        assert not r.passed, format_result(r)


def test_attrition_fails_for_a_different_cost() -> None:
    reps = 300
    r = _by_name(check_attrition(reps, world={"cost1": 8.0}))
    assert not r["attrition_time"].passed
    # swapping the two hazards keeps the time but not who concedes first
    r = _by_name(check_attrition(reps, world={"cost1": 2.0, "cost2": 4.0}))
    assert r["attrition_time"].passed
    assert not r["attrition_first"].passed


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(TypeError, match="unknown check parameter"):
        check_poisson(10, world={"rte": 2.0})
    with pytest.raises(TypeError, match="unknown check parameter"):
        check_held(10, batch=2)  # batch is a world-only knob of the Poisson check


# ---------------------------------------------------------------------------- the judge
def test_judge_stochastic_and_deterministic_rules() -> None:
    ok = judge("m", "t", "f", 100.0, 100.3, se=0.1, n=50)
    bad = judge("m", "t", "f", 100.0, 100.5, se=0.1, n=50)  # 5 SE away: a wrong theory
    assert ok.passed and not bad.passed
    assert "4 SE" in ok.tolerance and "1 in 16,000" in ok.why
    assert ok.interval == pytest.approx((100.3 - 1.96 * 0.1, 100.3 + 1.96 * 0.1), abs=1e-3)
    # a one-sided band (one round of lag), exact
    assert judge("c", "t", "f", 50.0, 51.5, band=(0.0, 2.0)).passed
    assert not judge("c", "t", "f", 50.0, 49.9, band=(0.0, 2.0)).passed
    assert not judge("c", "t", "f", 50.0, 52.1, band=(0.0, 2.0)).passed
    # a band widened by the standard error
    assert judge("a", "t", "f", 6.0, 6.5, se=0.1, band=(0.0, 0.2)).passed
    assert not judge("a", "t", "f", 6.0, 6.7, se=0.1, band=(0.0, 0.2)).passed
    # no result (e.g. talks that never agreed) is a failure
    assert not judge("c", "t", "f", 50.0, math.nan, band=(0.0, 2.0)).passed


# ---------------------------------------------------------------------------- command line
def test_cli_check_passes_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "check.json"
    code = main(
        ["check", "--quick", "--only", "concession", "--only", "rubinstein", "--json", str(out)]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "PASS  concession_linear" in text and "FAIL" not in text
    assert "t* = T (1/(2(1 − r)))^e" in text and "5 of 5 checks passed" in text
    doc = json.loads(out.read_text())
    assert doc["passed"] is True and doc["mode"] == "quick"
    assert [c["name"] for c in doc["checks"]][:1] == ["concession_linear"]
    assert all(c["deterministic"] and c["ci_low"] is None for c in doc["checks"])


def test_cli_check_exits_1_when_a_check_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    broken = Check("rubinstein", partial(check_rubinstein, world={"delta1": 0.8}), 1, 1)
    monkeypatch.setattr(suite, "CHECKS", (broken,))
    out = tmp_path / "c.json"
    assert main(["check", "--quick", "--json", str(out)]) == 1
    text = capsys.readouterr().out
    assert "FAIL  rubinstein_1" in text and "FAILED: rubinstein_1, rubinstein_2" in text
    assert json.loads(out.read_text())["passed"] is False


def test_cli_check_rejects_unknown_group(capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--only", "nonsense"]) == 2
    assert "unknown check nonsense" in capsys.readouterr().err


# ---------------------------------------------------------------------------- the strategies
def _state(**kw: object) -> ConcessionState:
    base = {"elapsed": 0.0, "deadline": 100.0, "reservation": 0.0}
    return ConcessionState(**{**base, **kw})  # type: ignore[arg-type]


def test_rubinstein_share_formula() -> None:
    assert rubinstein_share(0.9, 0.8) == pytest.approx(0.2 / 0.28)
    assert rubinstein_share(0.5, 0.5) == pytest.approx(2 / 3)  # first-mover advantage
    assert rubinstein_share(0.0, 0.7) == pytest.approx(0.3)  # an impatient proposer
    assert rubinstein_share(1.0, 1.0) == 0.5
    # the responder's share is what it gets by waiting and proposing: 1 - x1 = d2 * x2
    x1, x2 = rubinstein_share(0.9, 0.8), rubinstein_share(0.8, 0.9)
    assert 1 - x1 == pytest.approx(0.8 * x2)


def test_rubinstein_aspiration_on_the_discounted_scale() -> None:
    spec = StrategySpec(name="rubinstein")
    share = rubinstein_share(0.9**2, 0.8**2)
    # proposing at day 4 over 2-day relays: its share, valued when agreed (day 6)
    st = _state(elapsed=4.0, discount=0.9, other_discount=0.8, round_days=2.0, proposer=True)
    assert aspiration(spec, st) == pytest.approx(0.9**6 * share)
    # answering at day 4: waiting a round and proposing is worth 0.9^2 share, less one unit
    st = _state(elapsed=4.0, discount=0.9, other_discount=0.8, round_days=2.0, step=0.01)
    assert aspiration(spec, st) == pytest.approx(0.9**4 * (0.81 * share - 0.01))


def test_attrition_draws_once_per_talks_and_then_concedes() -> None:
    spec = StrategySpec(name="attrition", cost=1.0, prize=4.0)
    draws: list[str] = []

    def draw(dist: object) -> float:
        draws.append(type(dist).__name__)
        return 2.0  # a unit exponential's value: concede at 2 × prize / cost = 8 days

    memo: dict = {}
    values = [
        aspiration(spec, _state(elapsed=t, reservation=0.1, memo=memo, draw=draw))
        for t in (0.0, 7.9, 8.0, 20.0)
    ]
    assert values == [1.0, 1.0, 0.1, 0.1]
    assert draws == ["Exponential"]  # drawn once, then remembered
    assert memo["concede_at"] == pytest.approx(8.0)
    # no random stream: it never concedes
    assert aspiration(spec, _state(elapsed=1e6)) == 1.0
    # defaults: cost 1, prize 30
    memo = {}
    aspiration(StrategySpec(name="attrition"), _state(memo=memo, draw=lambda d: 1.0))
    assert memo["concede_at"] == pytest.approx(30.0)


def test_attrition_parameters_and_discount_are_validated() -> None:
    scn = loads_scenario(split_world("attrition", "linear", delay=1.0))
    assert scn.party("a").strategy.cost is None  # defaults in the strategy: 1 and 30
    for bad in ("{name: attrition, cost: 1, prize: 0}", "{name: attrition, cost: -1}"):
        with pytest.raises(ScenarioError, match=r"prize|cost"):
            loads_scenario(split_world(bad, "linear", delay=1.0))
    for bad in ("0", "1.5", "-0.2"):
        with pytest.raises(ScenarioError, match="discount"):
            loads_scenario(split_world("linear", "linear", delay=1.0, extra_a=f"discount: {bad}"))
    scn = loads_scenario(split_world("linear", "linear", delay=1.0))
    assert scn.party("a").discount == 1.0  # default: no discounting


def test_attrition_uses_its_own_named_stream() -> None:
    """The concession time comes from stream party:ID:attrition: the other side's strategy
    drawing its own time does not move this party's (common random numbers)."""
    a = "{name: attrition, cost: 1, prize: 10}"
    worlds = [
        split_world(a, "hardliner", delay=0.1, deadline=1e4, count=10),
        split_world(a, "{name: attrition, cost: 1, prize: 1e9}", delay=0.1, deadline=1e4, count=10),
    ]
    closed = [run_one(loads_scenario(w), 5, 0).talks[0]["closed"] for w in worlds]
    assert closed[0] == closed[1]
    # and another replication draws another time
    assert run_one(loads_scenario(worlds[0]), 5, 1).talks[0]["closed"] != closed[0]


def test_discounting_makes_a_linear_agent_tougher_only_when_set() -> None:
    """discount < 1 puts aspirations on the discounted scale (a responder compares
    discount**tau × value), so two linear agents agree later; discount 1 changes nothing."""
    base = split_world("linear", "linear", delay=1.0, reservation=0.2)
    same = split_world("linear", "linear", delay=1.0, reservation=0.2, extra_a="discount: 1.0")
    slow = split_world("linear", "linear", delay=1.0, reservation=0.2, extra_b="discount: 0.999")
    t = [run_one(loads_scenario(x), 1, 0).talks[0]["closed"] for x in (base, same, slow)]
    assert t[0] == t[1]
    assert t[2] > t[0]
