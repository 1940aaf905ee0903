"""Deals defined by category (negotiation.agenda_only; sim/model/tradeable.py on_agenda): only
the prisoners an agenda names are counted, offered and handed over — "all the severely
wounded", "everyone under 25", civilians — the way the 2025 Istanbul deals were agreed."""

from __future__ import annotations

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.model.prisoners import PrisonerTable
from sim.model.simulation import Simulation
from sim.model.tradeable import on_agenda
from sim.scenario.loading import loads_scenario

# each side holds 200 of the other's people; everyone is traded all-for-all, directly, once
WORLD = """\
name: agendas
start_date: 2025-01-01
horizon: 40
seed: 1
parties:
  - id: a
    direct_channels: [b]
    initiative: {{dist: fixed, value: 0.5}}
    norms: {{all_for_all: true}}
    strategy: conceder
    reservation: 0.0
  - id: b
    initiative: null
    norms: {{all_for_all: true}}
    strategy: conceder
    reservation: 0.0
holdings:
  - {{holder: a, nationality: b, count: 200, young_share: 0.3, wounded_share: 0.2,
     categories: {{soldier: 0.9, civilian: 0.1}}}}
  - {{holder: b, nationality: a, count: 200, young_share: 0.3, wounded_share: 0.2,
     categories: {{soldier: 0.9, civilian: 0.1}}}}
negotiation:
  collapse: 0.0
  preparation: {{dist: fixed, value: 2}}
  direct_delay: {{dist: fixed, value: 0.1}}
  agenda_only: {only}
timeline:
  - {{at: 1, set: {{negotiation.frozen: true}}, note: one round of talks only}}
"""


def run(only: str, seed: int = 1):  # type: ignore[no-untyped-def]
    scn = loads_scenario(WORLD.format(only=only))
    return Simulation(scn, seed, 0, keep_prisoners=True, check_invariants=True).run()


def test_on_agenda_is_any_of_the_names() -> None:
    table = PrisonerTable(2)
    table.categories = ["soldier", "civilian"]
    table.append(
        {
            "t_cap": np.zeros(4),
            "cat": np.array([0, 1, 0, 0]),
            "wounded": np.array([True, False, False, True]),
            "severe": np.array([False, False, False, True]),
            "young": np.array([False, False, True, False]),
        }
    )
    rows = np.arange(4)
    assert on_agenda(table, rows, []).tolist() == [True] * 4
    assert on_agenda(table, rows, ["young", "civilian"]).tolist() == [False, True, True, False]
    assert on_agenda(table, rows, ["severely_wounded"]).tolist() == [False, False, False, True]
    assert on_agenda(table, rows, ["wounded"]).tolist() == [True, False, False, True]


@pytest.mark.parametrize(
    ("only", "attribute"), [("[young]", "young"), ("[wounded]", "wounded"), ("[civilian]", None)]
)
def test_an_agenda_by_category_moves_all_of_them_and_no_one_else(
    only: str, attribute: str | None
) -> None:
    res = run(only)
    p = res.prisoners
    moved = np.isfinite(p["t_deal"])
    # a category is numbered as first drawn: soldier 0, civilian 1
    named = p["cat"] == 1 if attribute is None else p[attribute]
    assert res.outcomes["deals"] == 1
    assert named.sum() > 40  # both sides hold some: ~30% young, ~20% wounded, ~10% civilian
    assert np.array_equal(moved, named)  # all of them went, and nobody else
    assert res.outcomes["exchanged"] == named.sum()


def test_without_an_agenda_everyone_goes() -> None:
    res = run("[]")
    assert res.outcomes["exchanged"] == 400 and res.outcomes["deals"] == 1


def test_an_agenda_naming_nobody_is_an_error() -> None:
    with pytest.raises(ScenarioError) as info:
        loads_scenario(WORLD.format(only="[under_18]"), source="w.yaml")
    text = str(info.value)
    assert "negotiation.agenda_only" in text
    assert (
        "no prisoner can be 'under_18'; expected one of: wounded, severely_wounded, young" in text
    )
    assert "civilian, soldier" in text
