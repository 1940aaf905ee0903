"""The independent ledger of the living (``tests/ledger.py``) against the model's census, at every
event of random worlds (hypothesis) and of every shipped scenario.

What it guards: conservation checks that count one fate array cannot fail (every prisoner has
exactly one fate), and a deliberately broken model whose deals handed over prisoners who had
already died passed them. The ledger rebuilds who holds how many from the scenario, the capture
incidents, the prisoners' life records, the deal records and the event log (deal stages,
handovers to neutral custody and their ends) and compares it, group by group, with what the
model counted after each SimPy event; it also checks every prisoner a deal or a custody
handover moved was captured, alive and still held then. The tests below prove that the broken
models fail it (while the model's own census does not notice), and that remains never enter
the ledger of the living.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st
from ledger import LedgerViolation, check_ledger, check_run, observed_run
from test_invariants import scenarios

import sim.model.deals
from sim.model.prisoners import RETURN
from sim.model.records import RunResult
from sim.scenario.loading import load_scenario, loads_scenario
from sim.scenario.schema import Scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
BIG = {"korea_1953", "ua_ru_2022_2024", "ua_ru_2022_2025"}  # one replication is enough


def _kinds(res: RunResult) -> Counter[str]:
    return Counter(kind for _, kind, _ in res.events)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(0, 2**32 - 1))
def test_ledger_agrees_with_the_census_in_random_worlds(raw: dict[str, Any], seed: int) -> None:
    scn = loads_scenario(yaml.safe_dump(raw, sort_keys=False))
    res, _ = check_run(scn, seed, 0)
    o = res.outcomes
    target(float(o["exchanged"]), label="prisoners exchanged")  # steer towards deals
    target(float(o["handed_to_custody"]), label="handed to custody")
    target(float(_kinds(res)["stage"]), label="stages")


def _busy_world(toy_scenario_text: str, **extra: Any) -> Scenario:
    """The toy world with every kind of exit: deaths, humanitarian releases, asylum, deals in
    stages, refusers handed to neutral custody (some die there), and remains with deals and
    apart from them."""
    wishes = {"return": 0.7, "stay": 0.3}
    text = toy_scenario_text.replace("holdings:", "  - {id: n, initiative: null}\nholdings:")
    overrides: dict[str, Any] = {
        "parties.a.humanitarian_release": True,
        "parties.b.humanitarian_release": True,
        "parties.b.asylum": True,
        "captivity.severe_share": 0.5,
        "captivity.death_hazard": {"healthy": 0.004, "wounded": 0.02},
        "captivity.humanitarian_delay": {"dist": "exponential", "mean": 20},
        "captivity.asylum_delay": {"dist": "exponential", "mean": 60},
        "holdings.0.wounded_share": 0.4,
        "holdings.1.wounded_share": 0.4,
        "holdings.0.preferences": wishes,
        "holdings.1.preferences": wishes,
        "capture_streams.a_takes_b.preferences": wishes,
        "capture_streams.b_takes_a.preferences": wishes,
        "negotiation.stages": {
            "min_size": 2,
            "count": {"dist": "fixed", "value": 3},
            "gap": {"dist": "exponential", "mean": 1},
            "by": "category",
            "order": ["wounded"],
            "slip": 0.2,
            "cancel": 0.1,
        },
        "custody": [
            {
                "id": "nnrc",
                "custodian": "n",
                "delay": {"dist": "exponential", "mean": 3},
                "explanation": {"dist": "exponential", "mean": 30},
                "choices": {"return": 0.3, "stay": 0.4, "resettle:n": 0.3},
                "death_hazard": 0.01,
            }
        ],
        "remains": [
            {"id": "ra", "holder": "a", "nationality": "b", "initial": 30, "with_deals": 0.5},
            {
                "id": "rb",
                "holder": "b",
                "nationality": "a",
                "added": 1,
                "returns": {"at": [50], "rate": 0.02, "share": 0.7},
            },
        ],
        **extra,
    }
    return loads_scenario(text, overrides)


def test_ledger_agrees_in_a_world_with_every_kind_of_exit(toy_scenario_text: str) -> None:
    """Not a vacuous pass: over three replications the ledger sees deaths, releases, asylum,
    deals in stages, custody handovers and their ends, and remains handed over."""
    scn = _busy_world(toy_scenario_text)
    seen: Counter[str] = Counter()
    for rep in range(3):
        res, snaps = check_run(scn, 5, rep)
        assert len(snaps) > 100
        seen.update(_kinds(res))
        seen.update({k: int(v) for k, v in res.outcomes.items() if k != "first_deal_day"})
    for kind in ("stage", "executed", "custody", "custody_end", "remains"):
        assert seen[kind] >= 1, seen
    for name in ("died", "humanitarian_released", "asylum_resettled", "custody_died"):
        assert seen[name] >= 1, seen


def test_remains_never_enter_the_ledger_of_the_living(toy_scenario_text: str) -> None:
    """The same world without its remains moves the same people at the same times; and a
    record that counted bodies among the people a deal moved fails the ledger."""
    scn = _busy_world(toy_scenario_text)
    bare = _busy_world(toy_scenario_text, remains=[])
    res, snaps = check_run(scn, 7, 0)
    other, _ = check_run(bare, 7, 0)
    people = {k: v for k, v in res.outcomes.items() if not k.startswith("remains_")}
    assert people == {k: v for k, v in other.outcomes.items() if not k.startswith("remains_")}
    for col in ("t_cap", "t_death", "t_exo", "t_deal", "t_cust", "t_cust_end"):
        assert np.array_equal(res.prisoners[col], other.prisoners[col]), col
    with_deal = [d for d in res.deals if d.get("remains")]
    assert with_deal, "no remains went with a deal"
    deal = with_deal[0]["deal"]
    i = next(
        i
        for i, (_, kind, d) in enumerate(res.events)
        if kind in ("stage", "executed") and d["deal"] == deal
    )
    t, kind, data = res.events[i]
    holder, nat, n = with_deal[0]["remains"][0]
    tampered = {**data, "transfers": [*data["transfers"], (holder, nat, nat, n)]}
    res.events[i] = (t, kind, tampered)
    with pytest.raises(LedgerViolation, match=f"deal #{deal}"):
        check_ledger(scn, res, snaps)


Breakage = Callable[[np.ndarray, float], np.ndarray]

BREAKAGES: dict[str, tuple[Breakage, str]] = {
    # rows of the group whose death is already past, never moved
    "dead": (lambda c, t: (c["t_death"] <= t) & (c["t_exo"] > t), "already dead"),
    # rows released by their holder (humanitarian release) already, alive
    "released": (lambda c, t: (c["t_exo"] <= t) & (c["t_death"] > t), "already released"),
}


@pytest.mark.parametrize("broken", sorted(BREAKAGES))
def test_a_model_that_hands_over_the_gone_fails_the_ledger(
    monkeypatch: pytest.MonkeyPatch, toy_scenario_text: str, broken: str
) -> None:
    """Deals that hand over prisoners who died (or were released) before the handover: the
    model's census at every event does not notice (the run finishes with its invariants on);
    the ledger does, twice: the handover check names them, and the ledger of who is held no
    longer matches the census (they left once at death and once more in the deal)."""
    extra, reason = BREAKAGES[broken]
    original = sim.model.deals.eligible_prisoners
    smuggled: list[int] = []

    def eligible(world: Any, tr: Any, only: tuple[str, ...] = ()) -> np.ndarray:
        rows = original(world, tr, only)
        t, tab = world.env.now, world.table
        group = tab.groups.get(tr.holder * world.n_parties + tr.nat)
        if group is None:
            return rows
        c = tab.cols
        g = group.rows
        gone = g[
            (c["t_cap"][g] <= t)
            & extra(c, t)[g]
            & ~np.isfinite(c["t_deal"][g])
            & ~np.isfinite(c["t_cust"][g])
        ]
        smuggled.append(len(gone))
        return np.concatenate([gone, rows]).astype(np.int64)

    monkeypatch.setattr(sim.model.deals, "eligible_prisoners", eligible)
    scn = _busy_world(toy_scenario_text, custody=[], remains=[])
    _, res, snaps = observed_run(scn, 11, 0)  # the model's own checks pass
    o = res.outcomes
    assert o["initial_held"] + o["captured"] == (
        o["repatriated"] + o["resettled"] + o["died"] + o["held_at_end"] + o["in_custody_at_end"]
    )
    assert sum(smuggled) > 0, "the broken model never found anyone to smuggle"
    with pytest.raises(LedgerViolation) as caught:
        check_ledger(scn, res, snaps)
    problems = caught.value.problems
    assert any(reason in p for p in problems), problems
    assert any(p.startswith("held at") and ", census " in p for p in problems), problems


def test_the_unbroken_model_passes_the_same_world(toy_scenario_text: str) -> None:
    """The control for the test above: same world, same seed, the model as it is."""
    check_run(_busy_world(toy_scenario_text, custody=[], remains=[]), 11, 0)


HOME_AS_ASYLUM = """\
name: home_as_asylum
start_date: 2025-01-01
horizon: 30
parties:
  - {id: p0, asylum: true, direct_channels: [p1], initiative: null}
  - id: p1
    asylum: true
    values: {own: 1.0, chip: 0.0, defector: 1.0}
    accepts_losses: true
    initiative: {dist: exponential, mean: 2}
capture_streams:
  - {id: s0, captor: p0, nationality: p1, rate: 1.0, preferences: {return: 0.5, resettle:p1: 0.5}}
negotiation: {collapse: 0.0, breakdown_risk: 0.0, preparation: {dist: exponential, mean: 1}}
"""


def test_a_wish_for_asylum_at_home_is_counted_as_going_home() -> None:
    """p0 holds p1's people, half of whom wish asylum in p1, their own country. Going home is
    going home: such a wish is a wish to return (the model once moved them as resettled, and
    counted them so, while the ledger counted them repatriated: this ledger found it), and the
    ledger and the census agree whatever the deals do."""
    res, _ = check_run(loads_scenario(HOME_AS_ASYLUM), 0, 0)  # raises if the two disagree
    p = res.prisoners
    assert len(p["pref0"]) > 20 and set(p["pref0"].tolist()) == {RETURN}
    assert res.outcomes["resettled"] == 0


def _shipped() -> list[Any]:
    return [
        pytest.param(path, rep, id=f"{path.stem}-{rep}")
        for path in sorted(SCENARIOS.glob("*.yaml"))
        for rep in range(1 if path.stem in BIG else 3)
    ]


@pytest.mark.parametrize(("path", "rep"), _shipped())  # all of them: ~9 s, korea_1953 ~7
def test_ledger_agrees_with_the_census_in_every_shipped_scenario(path: Path, rep: int) -> None:
    scn = load_scenario(path)
    res, snaps = check_run(scn, scn.seed, rep)
    assert len(snaps) > 10
    assert res.outcomes["initial_held"] + res.outcomes["captured"] > 0
