"""Dotted paths into timeline changes (by date or index, through dotted ``set`` keys), and
editing a scenario's text while keeping its comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.experiments.params import get_path
from sim.scenario.loading import load_scenario, loads_scenario, resolved_dict
from sim.scenario.yaml_edit import edit_yaml

UA_RU = Path(__file__).parents[2] / "scenarios" / "ua_ru_2022_2024.yaml"


def test_timeline_values_by_date_and_by_index() -> None:
    scn = load_scenario(
        UA_RU,
        [
            "timeline.2023-01-01.set.parties.ukraine.initiative.mean=12",
            "timeline.1.set.negotiation.max_deal_size.mean=99",
        ],
    )
    d = resolved_dict(scn)
    assert d["timeline"][0]["set"]["parties.ukraine.initiative"]["mean"] == 12
    assert d["timeline"][0]["set"]["parties.ukraine.initiative"]["dist"] == "exponential"
    assert d["timeline"][1]["set"]["negotiation.max_deal_size"] == {
        "dist": "lognormal",
        "mean": 99,
        "sd": 55,
    }
    # the resolved scenario writes timeline dates as days; get_path still finds them by date
    assert get_path(d, "timeline.2023-01-01.set.parties.ukraine.initiative.mean") == 12
    assert get_path(d, "timeline.1.set.negotiation.max_deal_size.sd") == 55


def test_a_timeline_date_that_is_not_there_is_an_error() -> None:
    message = r"--set timeline\.2023-02-01.*no item with id '2023-02-01'"
    with pytest.raises(ScenarioError, match=message):
        load_scenario(UA_RU, ["timeline.2023-02-01.set.negotiation.collapse=0.1"])


def test_edit_yaml_keeps_comments_and_changes_only_the_values() -> None:
    text = UA_RU.read_text()
    values = {
        "parties.ukraine.initiative.mean": 4.5,
        "timeline.2024-01-01.set.parties.ukraine.initiative.mean": 41.0,
        "negotiation.collapse": 0.03,
    }
    edited = edit_yaml(text, values)
    before, after = text.splitlines(), edited.splitlines()
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 3
    assert "initiative: {dist: exponential, mean: 4.5}" in changed[0][1]
    assert changed[1][1].startswith("  collapse: 0.03  ") and "# one aborted swap" in changed[1][1]
    assert "parties.ukraine.initiative: {dist: lognormal, mean: 41.0, sd: 45}" in changed[2][1]
    assert resolved_dict(loads_scenario(edited)) == resolved_dict(load_scenario(UA_RU, values))
