"""Each mechanism of the model, shown acting in a small world (sim/agents.py and friends)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.experiments.experiment import run_one, run_replications
from sim.model.prisoners import DIED, REPATRIATED, RESETTLED
from sim.model.records import RunResult
from sim.scenario.loading import load_scenario, loads_scenario
from sim.scenario.schema import Scenario


def world(**changes: Any) -> Scenario:
    """Two parties a and b holding each other's people, talking directly; `changes` are
    dotted-path overrides."""
    base: dict[str, Any] = {
        "name": "w",
        "start_date": "2025-01-01",
        "horizon": 200,
        "parties": [
            {
                "id": "a",
                "direct_channels": ["b"],
                "initiative": {"dist": "fixed", "value": 5},
                "norms": {"one_for_one": True},
            },
            {"id": "b", "initiative": None, "norms": {"one_for_one": True}},
        ],
        "holdings": [
            {"holder": "a", "nationality": "b", "count": 20},
            {"holder": "b", "nationality": "a", "count": 20},
        ],
        "negotiation": {
            "collapse": 0.0,
            "breakdown_risk": 0.0,
            "cooldown": {"dist": "fixed", "value": 10},
        },
    }
    return loads_scenario(yaml.safe_dump(base), changes)


def kinds(res: RunResult) -> list[str]:
    return [k for _, k, _ in res.events]


def run(scn: Scenario, rep: int = 0) -> RunResult:
    return run_one(scn, 7, rep, keep_events=True, keep_prisoners=True)


# ------------------------------------------------------------------ captures
def test_capture_waves_follow_the_rate_schedule() -> None:
    scn = world(
        **{
            "parties.a.initiative": None,
            "capture_streams": [
                {
                    "id": "s",
                    "captor": "a",
                    "nationality": "b",
                    "rate": [
                        {"from": 0, "per_day": 0.0},
                        {"from": "2025-02-20", "per_day": 5.0},
                        {"from": 100, "per_day": 0.0},
                    ],
                }
            ],
        }
    )
    res = run(scn)
    t = res.incidents["s"].t
    assert len(t) > 100
    assert t.min() >= 50 and t.max() <= 100  # 2025-02-20 is day 50


def test_wounded_share_and_categories_of_captures() -> None:
    scn = world(
        **{
            "parties.a.initiative": None,
            "capture_streams": [
                {
                    "id": "s",
                    "captor": "a",
                    "nationality": "b",
                    "rate": 20,
                    "wounded_share": 0.3,
                    "categories": {"soldier": 0.75, "officer": 0.25},
                }
            ],
        }
    )
    res = run(scn)
    p = res.prisoners
    new = p["source"] >= 0
    assert abs(p["wounded"][new].mean() - 0.3) < 0.03
    officers = np.array([c == "officer" for c in np.array(["soldier", "officer"])[p["cat"][new]]])
    assert abs(officers.mean() - 0.25) < 0.03
    assert res.incidents["s"].wounded.sum() == p["wounded"][new].sum()


# ------------------------------------------------------------------ captivity
def test_humanitarian_release_of_severely_wounded() -> None:
    common = {
        "parties.a.initiative": None,
        "holdings.0.wounded_share": 1.0,
        "captivity.severe_share": 1.0,
        "captivity.humanitarian_delay": {"dist": "fixed", "value": 30},
    }
    off = run(world(**common))
    on = run(world(**common, **{"parties.a.humanitarian_release": True}))
    assert off.outcomes["humanitarian_released"] == 0
    assert on.outcomes["humanitarian_released"] == 20
    rel = on.prisoners["t_exo"][on.prisoners["holder"] == 0]
    assert np.all(rel == 30.0)


def test_deaths_in_captivity_are_more_likely_when_wounded() -> None:
    scn = world(
        **{
            "parties.a.initiative": None,
            "holdings.0.count": 2000,
            "holdings.0.wounded_share": 0.5,
            "captivity.death_hazard": {"healthy": 0.0, "wounded": 0.01},
        }
    )
    res = run(scn)
    p = res.prisoners
    died = p["fate"] == DIED
    assert died[~p["wounded"]].sum() == 0
    assert abs(died[p["wounded"] & (p["holder"] == 0)].mean() - (1 - np.exp(-2.0))) < 0.05


def test_holder_that_honours_wishes_keeps_those_who_refuse_to_return() -> None:
    prefs = {"holdings.0.preferences": {"return": 0.5, "stay": 0.5}, "holdings.0.count": 40}
    honours = run(world(**prefs))
    ignores = run(world(**prefs, **{"parties.a.honours_preferences": False}))
    p = honours.prisoners
    from_a = p["holder"] == 0
    stay = p["pref0"] == 1
    assert np.all(p["fate"][from_a & stay] != REPATRIATED)  # never handed over
    assert (honours.prisoners["fate"][from_a & ~stay] == REPATRIATED).any()
    q = ignores.prisoners
    assert (q["fate"][(q["holder"] == 0) & (q["pref0"] == 1)] == REPATRIATED).any()


def test_stay_wish_granted_by_holder_offering_asylum() -> None:
    scn = world(
        **{
            "parties.a.initiative": None,
            "parties.a.asylum": True,
            "holdings.0.preferences": {"stay": 1.0},
            "captivity.asylum_delay": {"dist": "fixed", "value": 40},
        }
    )
    res = run(scn)
    assert res.outcomes["asylum_resettled"] == 20
    assert res.outcomes["resettled"] == 20


def test_asylum_party_takes_in_prisoners_through_its_own_talks() -> None:
    base = world().model_dump(mode="json", by_alias=True)
    base["parties"].append(
        {
            "id": "c",
            "asylum": True,
            "values": {"defector": 1.0},
            "direct_channels": ["a"],
            "initiative": {"dist": "fixed", "value": 3},
        }
    )
    base["parties"][0]["initiative"] = None
    base["holdings"][0]["preferences"] = {"resettle:c": 1.0}
    res = run(loads_scenario(yaml.safe_dump(base)))
    assert res.outcomes["resettled"] == 20
    p = res.prisoners
    moved = p["fate"] == RESETTLED
    assert np.all(p["dest"][moved] == 2)
    assert any(k == "executed" for k in kinds(res))


def test_wishes_drift_over_time() -> None:
    scn = world(
        **{
            "parties.a.initiative": None,
            "parties.a.asylum": True,
            "holdings.0.count": 400,
            "captivity.preference_drift": {"rate": 0.02, "to": {"stay": 1.0}},
            "captivity.asylum_delay": {"dist": "fixed", "value": 0},
        }
    )
    res = run(scn)
    p = res.prisoners
    from_a = p["holder"] == 0
    # P(drift before 200 days) = 1 - exp(-4)
    assert abs((p["fate"][from_a] == RESETTLED).mean() - (1 - np.exp(-4))) < 0.04


# ------------------------------------------------------------------ talks
def test_no_channel_means_talks_cannot_start() -> None:
    res = run(world(**{"parties.a.direct_channels": []}))
    assert res.outcomes["negotiations"] == 0
    assert res.outcomes["talks_no_channel"] > 0
    assert "no_channel" in kinds(res)


def test_intermediary_carries_talks_when_no_direct_channel() -> None:
    scn = world(
        **{
            "parties.a.direct_channels": [],
            "intermediaries": [
                {"id": "m", "connects": ["a", "b"], "delay": {"dist": "fixed", "value": 3}}
            ],
        }
    )
    res = run(scn)
    opened = [d for _, k, d in res.events if k == "open"]
    assert opened and all(d["channel"] == "m" for d in opened)
    assert res.outcomes["deals"] >= 1


def test_busy_intermediary_is_recorded() -> None:
    base = world(**{"parties.a.direct_channels": []}).model_dump(mode="json", by_alias=True)
    base["parties"].append({"id": "c", "initiative": {"dist": "fixed", "value": 1}})
    base["holdings"] += [
        {"holder": "c", "nationality": "a", "count": 5},
        {"holder": "a", "nationality": "c", "count": 5},
    ]
    base["intermediaries"] = [
        {
            "id": "m",
            "connects": ["a", "b", "c"],
            "capacity": 1,
            "delay": {"dist": "fixed", "value": 50},
        }
    ]
    res = run(loads_scenario(yaml.safe_dump(base)))
    assert res.outcomes["talks_channel_busy"] > 0


def test_unreliable_intermediary_loses_rounds() -> None:
    scn = world(
        **{
            "parties.a.direct_channels": [],
            "intermediaries": [{"id": "m", "connects": ["a", "b"], "reliability": 0.3}],
        }
    )
    res = run_replications(scn, 3, 20)
    assert sum(r.outcomes["rounds_lost"] for r in res.runs) > 10


def test_unacknowledged_nationality_refuses_three_party_deal(kursk_scenario: Scenario) -> None:
    scn = kursk_scenario
    batch = run_replications(scn, 1, 10, keep_events=True)
    assert sum(r.outcomes["talks_refused"] for r in batch.runs) > 0
    dprk_home = [
        row
        for r in batch.runs
        for _t, kind, d in r.events
        if kind == "executed"
        for row in d["transfers"]
        if row[1] == "dprk" and row[2] == "dprk"
    ]
    assert dprk_home == []


def test_three_party_deal_happens_once_acknowledged(kursk_path: Path) -> None:
    # Russia and North Korea both deny the troops on the seed date (issue 10 §4): both must
    # acknowledge them before a three-way deal can happen
    ack = ["parties.russia.acknowledges.dprk=true", "parties.dprk.acknowledges.dprk=true"]
    scn = load_scenario(kursk_path, ack)
    batch = run_replications(scn, 1, 20, keep_events=True)
    three = 0
    for r in batch.runs:
        for _, kind, d in r.events:
            if kind == "executed" and len(d["transfers"]) == 3:
                dests = {dest for _, _, dest, _ in d["transfers"]}
                assert {"dprk", "ukraine", "russia"} == dests
                three += 1
    assert three > 0


def test_one_for_one_deals_are_balanced() -> None:
    # uneven holdings (13 against 31), and prisoners who die during a month's preparation, so
    # that both the offers and the handover must be balanced; deals never collapse nor break
    # down, so every run has one
    scn = world(
        **{
            "holdings.0.count": 13,
            "holdings.1.count": 31,
            "negotiation.preparation": {"dist": "fixed", "value": 30},
            "captivity.death_hazard": {"healthy": 0.02},
        }
    )
    batch = run_replications(scn, 2, 5, keep_events=True, keep_prisoners=True)
    for r in batch.runs:
        executed = [d for _, kind, d in r.events if kind == "executed"]
        assert len(executed) >= 1, "no deal: the balance was not put to the test"
        for d in executed:
            moved = {h: n for h, _, _, n in d["transfers"]}
            assert moved["a"] == moved["b"] > 0
            # and the prisoner table agrees: as many left each holder in this deal
            p = r.prisoners
            out = p["deal_id"] == d["deal"]
            assert np.bincount(p["holder"][out], minlength=2).tolist() == [moved["a"]] * 2


def test_all_for_all_moves_everyone_at_once() -> None:
    scn = world(
        **{
            "parties.a.norms": {"all_for_all": True},
            "parties.a.values.chip": 0.1,
            "parties.b.values.chip": 0.1,
            "parties.b.norms": {"all_for_all": True},
            "holdings.0.count": 7,
            "holdings.1.count": 30,
        }
    )
    res = run(scn)
    executed = [d for _, k, d in res.events if k == "executed"]
    assert executed
    assert sorted(n for _, _, _, n in executed[0]["transfers"]) == [7, 30]


def test_wounded_go_first_when_a_party_insists() -> None:
    common = {
        "holdings.0.count": 10,
        "holdings.0.wounded_share": 0.3,
        "negotiation.max_deal_size": {"dist": "fixed", "value": 2},
        "parties.a.initiative": {"dist": "fixed", "value": 150},
    }
    scn = world(**common, **{"parties.b.norms": {"one_for_one": True, "wounded_first": True}})
    res = run(scn)
    p = res.prisoners
    out = (p["holder"] == 0) & (p["fate"] == REPATRIATED)
    assert out.sum() >= 1
    assert np.all(p["wounded"][out])


def test_deadline_ends_talks_and_cooldown_follows() -> None:
    scn = world(
        **{
            "parties.a.norms": {},
            "parties.b.norms": {},
            "parties.a.strategy": "hardliner",
            "parties.b.strategy": "hardliner",
            "parties.a.deadline": 20,
        }
    )
    res = run(scn)
    assert res.outcomes["deals"] == 0 and res.outcomes["deadlines"] >= 1
    opens = [t for t, k, _ in res.events if k == "open"]
    closes = [t for t, k, _ in res.events if k == "deadline"]
    assert opens[1] >= closes[0] + 10  # cooldown of 10 days


def test_breakdown_risk_ends_talks() -> None:
    scn = world(
        **{
            "parties.a.norms": {},
            "parties.b.norms": {},
            "parties.a.strategy": "hardliner",
            "parties.b.strategy": "hardliner",
            "negotiation.breakdown_risk": 0.9,
        }
    )
    res = run(scn)
    assert res.outcomes["breakdowns"] >= 1


# ------------------------------------------------------------------ deals
def test_collapse_is_rarer_under_a_guarantor() -> None:
    mediated = {
        "parties.a.direct_channels": [],
        "negotiation.collapse": 1.0,
        "negotiation.guarantee_factor": 0.0,
    }
    plain = run(world(**mediated, intermediaries=[{"id": "m", "connects": ["a", "b"]}]))
    guaranteed = run(
        world(**mediated, intermediaries=[{"id": "m", "connects": ["a", "b"], "guarantee": True}])
    )
    assert plain.outcomes["deals"] == 0 and plain.outcomes["deals_collapsed"] >= 1
    assert guaranteed.outcomes["deals_collapsed"] == 0 and guaranteed.outcomes["deals"] >= 1


def test_deal_executes_after_preparation_delay() -> None:
    res = run(world(**{"negotiation.preparation": {"dist": "fixed", "value": 9}}))
    agreed = next(t for t, k, _ in res.events if k == "agreed")
    executed = next(t for t, k, _ in res.events if k == "executed")
    assert executed - agreed == 9


# ------------------------------------------------------------------ timeline
def test_timeline_changes_values_mid_run() -> None:
    scn = world(
        **{
            "parties.a.initiative": {"dist": "fixed", "value": 5},
            "capture_streams": [
                {"id": "s", "captor": "a", "nationality": "b", "rate": 3},
                {"id": "t", "captor": "b", "nationality": "a", "rate": 3},
            ],
            "negotiation.max_deal_size": {"dist": "fixed", "value": 5},
            "holdings.0.count": 1000,
            "holdings.1.count": 1000,
            "timeline": [
                {"at": 50, "set": {"capture_streams.s.rate": 0.0}},
                {"at": 60, "set": {"negotiation.frozen": True}, "note": "freeze"},
                {"at": 150, "set": {"negotiation.frozen": False}},
            ],
        }
    )
    res = run(scn)
    t = res.incidents["s"].t
    assert t.max() <= 50 and len(t) > 50
    opened = [tt for tt, k, _ in res.events if k == "open"]
    assert not any(60 < tt < 150 for tt in opened)
    assert any(tt >= 150 for tt in opened)
    assert ("timeline", "freeze") in {(k, d.get("note")) for _, k, d in res.events}


def test_timeline_hazard_change_continues_from_remaining_exposure() -> None:
    """Hazard 0 until day 100, then 0.02: deaths only after day 100, at the new rate."""
    scn = world(
        **{
            "parties.a.initiative": None,
            "holdings.0.count": 3000,
            "timeline": [{"at": 100, "set": {"captivity.death_hazard.healthy": 0.02}}],
        }
    )
    res = run(scn)
    p = res.prisoners
    died = (p["fate"] == DIED) & (p["holder"] == 0)
    assert p["t_exit"][died].min() >= 100
    assert abs(died[p["holder"] == 0].mean() - (1 - np.exp(-2.0))) < 0.03
