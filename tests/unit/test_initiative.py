"""Whom a party tries to talk with when it takes the initiative (sim.model.initiative).

Two rules, each shown in a small world where the old behaviour would show up:

- a party only brings in a third party when a member would give something up and must be paid
  (a South Korean asylum request is talks between South Korea and Ukraine, not with Russia);
- a party only tries sets of parties some channel reaches; "no channel" is recorded only when
  nobody it could usefully talk with is reachable at all.
"""

from __future__ import annotations

from typing import Any

import yaml

from sim.experiments.experiment import run_replications
from sim.scenario.loading import loads_scenario
from sim.scenario.schema import Scenario


def korean_world(**changes: Any) -> Scenario:
    """Ukraine holds North Koreans who asked for South Korea, and Russians; Russia holds
    Ukrainians and does not acknowledge the North Koreans. South Korea (asylum, a direct line
    to Ukraine only) takes the initiative every 2 days; talks are slow (10 days a relay), so
    its talks with Ukraine are often running or cooling down when it tries again."""
    base: dict[str, Any] = {
        "name": "korean_world",
        "start_date": "2025-01-13",
        "horizon": 200,
        "parties": [
            {
                "id": "ukraine",
                "values": {"own": 1.0, "chip": 0.5},
                "initiative": None,
                "direct_channels": ["south_korea"],
            },
            {
                "id": "russia",
                "allies": ["dprk"],
                "values": {"own": 1.0, "ally": 0.3, "chip": 0.6},
                "acknowledges": {"dprk": False},
                "initiative": None,
            },
            {"id": "dprk", "values": {"own": 0.2, "chip": 0.0}, "initiative": None},
            {
                "id": "south_korea",
                "values": {"own": 0.0, "chip": 0.0, "defector": 1.0},
                "asylum": True,
                "initiative": {"dist": "fixed", "value": 2},
            },
        ],
        "holdings": [
            {"holder": "russia", "nationality": "ukraine", "count": 50},
            {"holder": "ukraine", "nationality": "russia", "count": 50},
            {
                "holder": "ukraine",
                "nationality": "dprk",
                "count": 6,
                "preferences": {"resettle:south_korea": 1.0},
            },
        ],
        "capture_streams": [
            {
                "id": "ukraine_takes_dprk",
                "captor": "ukraine",
                "nationality": "dprk",
                "rate": 0.1,
                "preferences": {"resettle:south_korea": 1.0},
            }
        ],
        "intermediaries": [{"id": "uae", "connects": ["ukraine", "russia"]}],
        "negotiation": {
            "direct_delay": {"dist": "fixed", "value": 10},
            "collapse": 0.0,
            "breakdown_risk": 0.0,
            "cooldown": {"dist": "fixed", "value": 10},
            "max_parties": 3,
        },
    }
    return loads_scenario(yaml.safe_dump(base), changes)


def _opened_by(runs: list[Any], initiator: str) -> list[list[str]]:
    return [
        d["parties"]
        for r in runs
        for _, kind, d in r.events
        if kind == "open" and d["initiator"] == initiator
    ]


def test_south_korea_talks_only_with_ukraine_and_never_lacks_a_channel() -> None:
    batch = run_replications(korean_world(), 5, 6, keep_events=True)
    runs = batch.runs
    no_channel = [d["parties"] for r in runs for _, k, d in r.events if k == "no_channel"]
    # before the fix South Korea also tried {ukraine, russia, south_korea}, which no channel
    # connects, whenever its talks with Ukraine were running or cooling down (dozens here)
    assert no_channel == []
    assert sum(r.outcomes["talks_no_channel"] for r in runs) == 0
    opened = _opened_by(runs, "south_korea")
    assert opened and all(sorted(p) == ["south_korea", "ukraine"] for p in opened)
    # and its asylum deals still happen: North Koreans handed to South Korea
    to_seoul = sum(
        n
        for r in runs
        for _, kind, d in r.events
        if kind == "executed"
        for _h, nat, dest, n in d["transfers"]
        if nat == "dprk" and dest == "south_korea"
    )
    assert to_seoul >= 6 * 6  # at least the six held at the start, in every run


def test_a_holder_that_gives_something_up_still_brings_in_the_payer() -> None:
    """The three-way exchange the seed case is about is still proposed: Ukraine sending North
    Koreans home gives up a chip, so Russia (holding Ukrainians) is brought in, and North
    Korea as the home of the prisoners on offer."""
    scn = korean_world(
        **{
            "parties.ukraine.initiative": {"dist": "fixed", "value": 3},
            "parties.south_korea.initiative": None,
            "holdings.2.preferences": {"return": 1.0},
            "capture_streams.ukraine_takes_dprk.preferences": {"return": 1.0},
            "intermediaries": [
                {"id": "uae", "connects": ["ukraine", "russia"]},
                {"id": "relay", "connects": ["ukraine", "russia", "dprk"]},
            ],
        }
    )
    batch = run_replications(scn, 5, 3, keep_events=True)
    opened = {tuple(sorted(p)) for p in _opened_by(batch.runs, "ukraine")}
    assert ("dprk", "russia", "ukraine") in opened
    assert ("russia", "ukraine") in opened
    assert sum(r.outcomes["talks_refused"] for r in batch.runs) > 0  # Russia refuses


def three_parties(**changes: Any) -> Scenario:
    """Party a holds people of b and c, who hold a's; a talks directly with b only, and no
    channel reaches c. a takes the initiative daily; talks take 10 days a relay."""
    base: dict[str, Any] = {
        "name": "three",
        "start_date": "2025-01-01",
        "horizon": 150,
        "parties": [
            {
                "id": "a",
                "values": {"own": 1.0, "chip": 0.5},
                "direct_channels": ["b"],
                "initiative": {"dist": "fixed", "value": 1},
                "norms": {"one_for_one": True},
            },
            {"id": "b", "values": {"own": 1.0, "chip": 0.5}, "initiative": None},
            {"id": "c", "values": {"own": 1.0, "chip": 0.5}, "initiative": None},
        ],
        "holdings": [
            {"holder": "a", "nationality": "b", "count": 100},
            {"holder": "b", "nationality": "a", "count": 100},
            {"holder": "a", "nationality": "c", "count": 100},
            {"holder": "c", "nationality": "a", "count": 100},
        ],
        "negotiation": {
            "direct_delay": {"dist": "fixed", "value": 10},
            "collapse": 0.0,
            "breakdown_risk": 0.0,
            "cooldown": {"dist": "fixed", "value": 10},
            "max_deal_size": {"dist": "fixed", "value": 2},
        },
    }
    return loads_scenario(yaml.safe_dump(base), changes)


def test_unreachable_sets_are_not_tried_while_a_reachable_one_exists() -> None:
    batch = run_replications(three_parties(), 2, 2, keep_events=True)
    # before the fix, a recorded "no channel" to c every day its talks with b were running
    assert sum(r.outcomes["talks_no_channel"] for r in batch.runs) == 0
    assert all(r.outcomes["deals"] >= 3 for r in batch.runs)  # a and b keep swapping


def test_no_channel_is_recorded_when_nobody_useful_is_reachable() -> None:
    batch = run_replications(three_parties(**{"parties.a.direct_channels": []}), 2, 2)
    assert all(r.outcomes["talks_no_channel"] >= 1 for r in batch.runs)
    assert all(r.outcomes["negotiations"] == 0 for r in batch.runs)
