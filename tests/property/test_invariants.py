"""Invariants over random valid scenarios (hypothesis): conservation at every event (prisoners,
neutral custody included, and remains apart), no prisoner leaves twice or while not held, time
never goes back, same seed → same results."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from sim.model.prisoners import DIED, HELD, IN_CUSTODY, REPATRIATED, RESETTLED
from sim.model.records import RunResult
from sim.model.simulation import Simulation
from sim.scenario.loading import loads_scenario
from sim.scenario.schema import Scenario
from sim.scenario.strategies import STRATEGIES

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(2, 4))
    ids = [f"p{i}" for i in range(n)]
    asylum = [draw(st.booleans()) for _ in ids]
    parties = []
    for i, pid in enumerate(ids):
        others = [x for x in ids if x != pid]
        norm = draw(st.sampled_from(["none", "one_for_one", "all_for_all"]))
        parties.append(
            {
                "id": pid,
                "values": {
                    "own": draw(st.floats(0.0, 2.0)),
                    "ally": draw(st.floats(0.0, 1.0)),
                    "chip": draw(st.floats(0.0, 1.5)),
                    "defector": draw(st.floats(0.0, 1.0)),
                },
                "allies": draw(st.lists(st.sampled_from(others), max_size=2, unique=True)),
                "acknowledges": {
                    o: draw(st.booleans())
                    for o in draw(st.lists(st.sampled_from(others), max_size=1, unique=True))
                },
                "strategy": draw(st.sampled_from(sorted(STRATEGIES))),
                "reservation": draw(st.floats(0.0, 1.0)),
                "deadline": draw(st.floats(5.0, 200.0)),
                "initiative": draw(
                    st.one_of(
                        st.none(),
                        st.builds(
                            lambda m: {"dist": "exponential", "mean": m}, st.floats(2.0, 60.0)
                        ),
                    )
                ),
                "norms": {
                    "one_for_one": norm == "one_for_one",
                    "all_for_all": norm == "all_for_all",
                    "wounded_first": draw(st.booleans()),
                },
                "direct_channels": draw(st.lists(st.sampled_from(others), max_size=2, unique=True)),
                "asylum": asylum[i],
                "honours_preferences": draw(st.booleans()),
                "humanitarian_release": draw(st.booleans()),
            }
        )
    havens = [pid for pid, a in zip(ids, asylum, strict=True) if a]

    def prefs() -> dict[str, float]:
        keys = ["return", "stay"] + [f"resettle:{h}" for h in havens]
        chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True))
        w = [draw(st.integers(1, 5)) for _ in chosen]
        return {k: x / sum(w) for k, x in zip(chosen, w, strict=True)}

    def pair() -> tuple[str, str]:
        a = draw(st.sampled_from(ids))
        b = draw(st.sampled_from([x for x in ids if x != a]))
        return a, b

    holdings = []
    for _ in range(draw(st.integers(0, 3))):
        h, nat = pair()
        holdings.append(
            {
                "holder": h,
                "nationality": nat,
                "count": draw(st.integers(0, 40)),
                "captured": draw(st.floats(-100.0, 0.0)),
                "wounded_share": draw(st.floats(0.0, 1.0)),
                "young_share": draw(st.floats(0.0, 1.0)),
                "categories": {"soldier": 0.5, "officer": 0.5},
                "preferences": prefs(),
            }
        )
    streams = []
    for k in range(draw(st.integers(0, 3))):
        c, nat = pair()
        phases = [{"from": 0, "per_day": draw(st.floats(0.0, 2.0))}]
        if draw(st.booleans()):
            phases.append({"from": draw(st.floats(1.0, 50.0)), "per_day": draw(st.floats(0, 2))})
        streams.append(
            {
                "id": f"s{k}",
                "captor": c,
                "nationality": nat,
                "rate": phases,
                "batch": {"dist": "geometric", "mean": draw(st.floats(1.0, 3.0))},
                "wounded_share": draw(st.floats(0.0, 1.0)),
                "young_share": draw(st.floats(0.0, 1.0)),
                "self_destruct": draw(st.floats(0.0, 0.5)),
                "preferences": prefs(),
            }
        )
    mediators = []
    for k in range(draw(st.integers(0, 2))):
        mediators.append(
            {
                "id": f"m{k}",
                "connects": draw(
                    st.lists(st.sampled_from(ids), min_size=2, max_size=n, unique=True)
                ),
                "delay": {"dist": "exponential", "mean": draw(st.floats(0.5, 10.0))},
                "reliability": draw(st.floats(0.3, 1.0)),
                "capacity": draw(st.integers(1, 3)),
                "guarantee": draw(st.booleans()),
            }
        )
    horizon = draw(st.floats(30.0, 250.0))
    # neutral custody of refusers: after deals or on activation, to a party or an intermediary
    custody = []
    for k in range(draw(st.integers(0, 2))):
        custodian = draw(st.sampled_from(ids + [m["id"] for m in mediators]))
        keys = ["return", "stay"] + [f"resettle:{pid}" for pid in ids]
        chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True))
        w = [draw(st.integers(1, 5)) for _ in chosen]
        custody.append(
            {
                "id": f"c{k}",
                "custodian": custodian,
                "holders": draw(
                    st.lists(st.sampled_from([x for x in ids if x != custodian]), unique=True)
                ),
                "trigger": draw(st.sampled_from(["deal", "activation"])),
                "active": draw(st.booleans()),
                "delay": {"dist": "exponential", "mean": draw(st.floats(0.1, 20.0))},
                "explanation": {"dist": "exponential", "mean": draw(st.floats(1.0, 90.0))},
                "choices": {c: x / sum(w) for c, x in zip(chosen, w, strict=True)},
                "death_hazard": draw(st.floats(0.0, 0.05)),
            }
        )
    # stocks of remains, handed over with deals and in repatriations of their own
    remains = []
    for k in range(draw(st.integers(0, 2))):
        h, nat = pair()
        remains.append(
            {
                "id": f"r{k}",
                "holder": h,
                "nationality": nat,
                "initial": draw(st.integers(0, 50)),
                "added": draw(st.floats(0.0, 2.0)),
                "with_deals": draw(st.floats(0.0, 1.0)),
                "returns": draw(
                    st.one_of(
                        st.none(),
                        st.fixed_dictionaries(
                            {
                                "at": st.lists(st.floats(0.0, horizon), max_size=2),
                                "rate": st.floats(0.0, 0.1),
                                "share": st.floats(0.0, 1.0),
                            }
                        ),
                    )
                ),
            }
        )

    def change() -> dict[str, Any]:
        kinds = ["hazard", "frozen", "rate", "asylum", "strategy", "custody", "remains"]
        choice = draw(st.sampled_from(kinds))
        if choice == "custody" and custody:
            return {f"custody.{custody[0]['id']}.active": draw(st.booleans())}
        if choice == "remains" and remains:
            return {f"remains.{remains[0]['id']}.added": draw(st.floats(0.0, 3.0))}
        if choice == "hazard":
            return {"captivity.death_hazard.healthy": draw(st.floats(0.0, 0.05))}
        if choice == "frozen":
            return {"negotiation.frozen": draw(st.booleans())}
        if choice == "rate" and streams:
            return {f"capture_streams.{streams[0]['id']}.rate": draw(st.floats(0.0, 3.0))}
        if choice == "asylum":
            return {f"parties.{ids[0]}.humanitarian_release": draw(st.booleans())}
        return {f"parties.{ids[-1]}.reservation": draw(st.floats(0.0, 1.0))}

    timeline = [
        {"at": draw(st.floats(0.0, horizon)), "set": change()}
        for _ in range(draw(st.integers(0, 2)))
    ]
    # negotiating formats: two states each, moving by hazards (and a date), over the timeline
    formats = [
        {
            "id": f"f{k}",
            "initial": "x",
            "states": [{"id": "x", "set": change()}, {"id": "y", "set": change()}],
            "transitions": [
                {"from": "x", "to": "y", "hazard": draw(st.floats(0.005, 0.5))},
                {"from": "y", "to": "x", "hazard": draw(st.floats(0.005, 0.5))},
                {"from": "x", "to": "y", "at": draw(st.floats(0.0, horizon))},
            ],
        }
        for k in range(draw(st.integers(0, 2)))
    ]
    return {
        "name": "random",
        "start_date": "2025-01-01",
        "horizon": horizon,
        "parties": parties,
        "holdings": holdings,
        "capture_streams": streams,
        "captivity": {
            "death_hazard": {
                "healthy": draw(st.floats(0.0, 0.02)),
                "wounded": draw(st.floats(0.0, 0.05)),
            },
            "severe_share": draw(st.floats(0.0, 1.0)),
            "humanitarian_delay": {"dist": "exponential", "mean": draw(st.floats(1.0, 60.0))},
            "asylum_delay": {"dist": "exponential", "mean": draw(st.floats(1.0, 60.0))},
            "preference_drift": {"rate": draw(st.floats(0.0, 0.05)), "to": prefs()},
        },
        "intermediaries": mediators,
        "negotiation": {
            "collapse": draw(st.floats(0.0, 1.0)),
            "breakdown_risk": draw(st.floats(0.0, 0.3)),
            "preparation": {"dist": "exponential", "mean": draw(st.floats(0.5, 10.0))},
            "max_deal_size": draw(st.one_of(st.none(), st.just({"dist": "fixed", "value": 5}))),
            "agenda_only": draw(
                st.lists(st.sampled_from(["wounded", "severely_wounded", "young"]), max_size=2)
            ),
            "stages": draw(
                st.one_of(
                    st.none(),
                    st.fixed_dictionaries(
                        {
                            "min_size": st.integers(1, 20),
                            "count": st.builds(
                                lambda v: {"dist": "fixed", "value": v}, st.integers(1, 4)
                            ),
                            "gap": st.builds(
                                lambda m: {"dist": "exponential", "mean": m}, st.floats(0.1, 5)
                            ),
                            "by": st.sampled_from(["count", "category"]),
                            "order": st.just(["wounded"]),
                            "slip": st.floats(0.0, 1.0),
                            "cancel": st.floats(0.0, 0.5),
                        }
                    ),
                )
            ),
        },
        "timeline": timeline,
        "formats": formats,
        "custody": custody,
        "remains": remains,
    }


def _load(raw: dict[str, Any]):  # type: ignore[no-untyped-def]
    return loads_scenario(yaml.safe_dump(raw, sort_keys=False))


def check_fates_against_first_exit(res: RunResult, scn: Scenario) -> None:
    """One fate, one exit: each prisoner's fate at the horizon is the one given by whichever of
    its four independent exit times came first (death; exogenous release, with its fate; a
    deal, with its fate; a handover to neutral custody, then in custody until its period ends
    and the choice drawn at the handover afterwards; ties in that order), and the deal and
    custody exits agree, prisoner by prisoner, with the event log."""
    p = res.prisoners
    horizon = scn.horizon
    present = p["t_cap"] <= horizon
    t_death, t_exo, t_deal = p["t_death"][present], p["t_exo"][present], p["t_deal"][present]
    t_cust = p["t_cust"][present]
    gone = np.minimum(np.minimum(t_death, t_exo), np.minimum(t_deal, t_cust)) <= horizon
    by_death = gone & (t_death <= t_exo) & (t_death <= t_deal) & (t_death <= t_cust)
    by_exo = gone & (t_exo < t_death) & (t_exo <= t_deal) & (t_exo <= t_cust)
    by_deal = gone & (t_deal < t_death) & (t_deal < t_exo) & (t_deal <= t_cust)
    by_cust = gone & (t_cust < t_death) & (t_cust < t_exo) & (t_cust < t_deal)
    assert np.array_equal(by_death ^ by_exo ^ by_deal ^ by_cust, gone)  # exactly one first exit
    assert not (np.isfinite(t_deal) & np.isfinite(t_cust)).any(), "left by deal and custody"
    expected = np.full(len(t_death), HELD)
    expected[by_death] = DIED
    expected[by_exo] = p["exo_fate"][present][by_exo]
    expected[by_deal] = p["deal_fate"][present][by_deal]
    end, cust_fate = p["t_cust_end"][present], p["cust_fate"][present]
    expected[by_cust] = np.where(end[by_cust] <= horizon, cust_fate[by_cust], IN_CUSTODY)
    assert set(expected[by_exo | by_deal].tolist()) <= {REPATRIATED, RESETTLED}
    assert np.array_equal(p["fate"][present], expected), "a fate is not that of the first exit"
    # custody: a choice of home is a repatriation to the nationality, every other choice goes
    # elsewhere, and nobody leaves custody before entering it
    nat, dest = p["nat"][present][by_cust], p["cust_dest"][present][by_cust]
    chose = cust_fate[by_cust] != DIED  # the dead keep the choice they did not live to make
    home = cust_fate[by_cust] == REPATRIATED
    assert np.array_equal(home[chose], (dest == nat)[chose])
    assert np.all(end[by_cust] >= t_cust[by_cust])
    handed = [(t, d) for t, kind, d in res.events if kind == "custody"]
    assert sum(n for _, d in handed for *_, n in d["handed"]) == int(by_cust.sum())
    for t, d in handed:
        assert int((t_cust == t).sum()) == sum(n for *_, n in d["handed"])
        assert np.all(end[t_cust == t] <= d["until"] + 1e-9)
    # the event log: each executed deal moved exactly the prisoners marked with its id, at its
    # time (a staged deal: at each stage's time), in the numbers it records per (holder,
    # nationality, destination)
    dealt = np.flatnonzero(present)[by_deal]
    # (a staged deal still in progress at the horizon has stages but no `executed` yet)
    executed = [(t, d) for t, kind, d in res.events if kind == "executed"]
    stages = [(t, d) for t, kind, d in res.events if kind == "stage"]
    staged = {d["deal"] for _, d in stages}
    units = stages + [(t, d) for t, d in executed if d["deal"] not in staged]
    index = {pid: i for i, pid in enumerate(scn.party_ids)}
    for t, d in units:
        rows = dealt[(p["deal_id"][dealt] == d["deal"]) & (p["t_deal"][dealt] == t)]
        counts: dict[tuple[int, int, int], int] = {}
        for holder, nat, dest, n in d["transfers"]:
            key = (index[holder], index[nat], index[dest])
            counts[key] = counts.get(key, 0) + n
        counts = {k: n for k, n in counts.items() if n}
        marked = zip(p["holder"][rows], p["nat"][rows], p["dest"][rows], strict=True)
        assert Counter((int(h), int(q), int(to)) for h, q, to in marked) == Counter(counts), d
    assert sum(n for _, d in units for *_, n in d["transfers"]) == len(dealt)
    # the deal records say the same: every deal that moved anyone, finished or still in stages
    # at the horizon, records the people its events moved
    by_id = {d["deal"]: d for d in res.deals}
    for deal_id in {d["deal"] for _, d in units}:
        moved = sum(n for _, d in units if d["deal"] == deal_id for *_, n in d["transfers"])
        assert by_id[deal_id]["moved"] == moved, by_id[deal_id]
        assert by_id[deal_id]["outcome"] in ("executed", "in_stages")


@SETTINGS
@given(scenarios(), st.integers(0, 2**32 - 1))
def test_conservation_at_every_event_and_exits_are_single(raw: dict[str, Any], seed: int) -> None:
    scn = _load(raw)
    sim = Simulation(scn, seed, 0, check_invariants=True, keep_prisoners=True)
    res = sim.run()  # census() raises if conservation fails at any event
    assert sim.census_log, "the census was never taken"
    times = [t for t, _ in sim.census_log]
    assert all(b >= a for a, b in itertools.pairwise(times)), "time went back"
    ev_times = [t for t, _, _ in res.events]
    assert all(b >= a for a, b in itertools.pairwise(ev_times))
    p = res.prisoners
    dealt = np.isfinite(p["t_deal"])
    # a prisoner leaves by deal only while held: captured before, alive and not yet released
    assert np.all(p["t_deal"][dealt] >= p["t_cap"][dealt])
    assert np.all(p["t_deal"][dealt] < p["t_death"][dealt])
    assert np.all(p["t_deal"][dealt] < p["t_exo"][dealt])
    check_fates_against_first_exit(res, scn)
    o = res.outcomes
    target(float(o["exchanged"]), label="prisoners exchanged")  # steer towards worlds with deals
    target(float(o["handed_to_custody"]), label="handed to custody")
    target(float(o["remains_repatriated"]), label="remains repatriated")
    assert o["initial_held"] + o["captured"] == (
        o["repatriated"] + o["resettled"] + o["died"] + o["held_at_end"] + o["in_custody_at_end"]
    )
    custody_out = o["custody_returned_home"] + o["custody_stayed"] + o["custody_resettled"]
    assert o["exchanged"] + o["humanitarian_released"] + o["asylum_resettled"] + custody_out == (
        o["repatriated"] + o["resettled"]
    )
    assert o["handed_to_custody"] == custody_out + o["custody_died"] + o["in_custody_at_end"]
    for _t, census in sim.census_log:  # conservation at every event, custody included
        assert census["initial_held"] + census["captured"] == sum(
            census[k] for k in ("repatriated", "resettled", "died", "held", "in_custody")
        )
    # remains: conserved, and never among the people
    assert o["remains_initial"] + o["remains_added"] == (
        o["remains_repatriated"] + o["remains_held_at_end"]
    )
    moved = [n for _, kind, d in res.events if kind == "remains" for *_, n in d["transfers"]]
    assert sum(moved) == o["remains_repatriated"]
    assert sum(r["remains_received"] for r in res.parties) == o["remains_repatriated"]
    assert sum(r["remains_given"] for r in res.parties) == o["remains_repatriated"]
    staged = {d["deal"] for _, kind, d in res.events if kind == "stage"}
    people = [
        n
        for _, kind, d in res.events
        if kind == "stage" or (kind == "executed" and d["deal"] not in staged)
        for *_, n in d["transfers"]
    ]
    assert sum(people) == o["exchanged"]


def test_fates_follow_the_first_exit_in_a_world_with_every_kind_of_exit(
    toy_scenario_text: str,
) -> None:
    """The check above, in a world where deals, humanitarian releases and deaths all happen
    (random worlds often have no deal at all)."""
    scn = loads_scenario(
        toy_scenario_text,
        {
            "parties.a.humanitarian_release": True,
            "parties.b.humanitarian_release": True,
            "captivity.severe_share": 0.5,
            "captivity.humanitarian_delay": {"dist": "exponential", "mean": 5},
            "holdings.0.wounded_share": 0.5,
            "holdings.1.wounded_share": 0.5,
        },
    )
    seen: Counter[str] = Counter()
    for rep in range(3):
        sim = Simulation(scn, 5, rep, check_invariants=True, keep_prisoners=True)
        res = sim.run()
        assert res.outcomes["deals"] >= 1 and len(sim.census_log) > 100
        check_fates_against_first_exit(res, scn)
        seen.update({k: int(res.outcomes[k]) for k in ("exchanged", "humanitarian_released")})
        seen["died"] += int(res.outcomes["died"])
    assert min(seen["exchanged"], seen["humanitarian_released"], seen["died"]) >= 1, seen


def test_fates_follow_the_first_exit_with_neutral_custody_and_remains(
    toy_scenario_text: str,
) -> None:
    """The same checks where refusers go to neutral custody after every deal (some die there,
    some go home, some stay, some leave for a third party) and remains go with the deals and
    apart from them: conservation at every event with custody counted apart, remains
    conserved at every event (``RemainsLedger.census``), one exit per prisoner."""
    wishes = {"return": 0.6, "stay": 0.4}
    scn = loads_scenario(
        toy_scenario_text.replace("holdings:", "  - {id: n, initiative: null}\nholdings:"),
        {
            "holdings.0.preferences": wishes,
            "holdings.1.preferences": wishes,
            "capture_streams.a_takes_b.preferences": wishes,
            "capture_streams.b_takes_a.preferences": wishes,
            "custody": [
                {
                    "id": "nnrc",
                    "custodian": "n",
                    "delay": {"dist": "exponential", "mean": 3},
                    "explanation": {"dist": "exponential", "mean": 40},
                    "choices": {"return": 0.3, "stay": 0.4, "resettle:n": 0.3},
                    "death_hazard": 0.01,
                }
            ],
            "remains": [
                {
                    "id": "ra",
                    "holder": "a",
                    "nationality": "b",
                    "initial": 30,
                    "added": 0.5,
                    "with_deals": 0.5,
                },
                {
                    "id": "rb",
                    "holder": "b",
                    "nationality": "a",
                    "added": 1,
                    "returns": {"at": [50], "rate": 0.02, "share": 0.7},
                },
            ],
        },
    )
    seen: Counter[str] = Counter()
    for rep in range(3):
        sim = Simulation(scn, 5, rep, check_invariants=True, keep_prisoners=True)
        res = sim.run()
        check_fates_against_first_exit(res, scn)
        o = res.outcomes
        assert o["initial_held"] + o["captured"] == (
            o["repatriated"]
            + o["resettled"]
            + o["died"]
            + o["held_at_end"]
            + o["in_custody_at_end"]
        )
        assert o["remains_initial"] + o["remains_added"] == (
            o["remains_repatriated"] + o["remains_held_at_end"]
        )
        seen.update({k: int(o[k]) for k in o if k.startswith(("custody_", "remains_"))})
        seen["handed_to_custody"] += int(o["handed_to_custody"])
    assert seen["handed_to_custody"] > 20, seen
    for key in ("custody_returned_home", "custody_stayed", "custody_resettled", "custody_died"):
        assert seen[key] >= 1, seen
    assert seen["remains_repatriated"] > 0 and seen["remains_handovers"] >= 3, seen


@SETTINGS
@given(scenarios(), st.integers(0, 2**32 - 1), st.integers(0, 50))
def test_same_seed_same_results(raw: dict[str, Any], seed: int, rep: int) -> None:
    scn = _load(raw)
    a = Simulation(scn, seed, rep).run()
    b = Simulation(_load(raw), seed, rep).run()
    assert a.outcomes == b.outcomes or _nan_equal(a.outcomes, b.outcomes)
    assert a.events == b.events
    assert a.held_series.keys() == b.held_series.keys()
    for k in a.held_series:
        assert np.array_equal(a.held_series[k], b.held_series[k])


def _nan_equal(x: dict[str, float], y: dict[str, float]) -> bool:
    return x.keys() == y.keys() and all(
        (v == y[k]) or (v != v and y[k] != y[k]) for k, v in x.items()
    )
