"""sim/results/impossible.py: exchanges a scenario's assumptions rule out in every run, found
from the scenario (acknowledgement, channels, who must pay whom), not from zero counts; and
``questions.describe_chance``, which says so instead of quoting "0% [0–0.8%]"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.experiments.experiment import run_replications
from sim.results import questions
from sim.results.impossible import impossible
from sim.scenario.loading import load_scenario, loads_scenario
from sim.scenario.schema import Scenario

ACK = ["parties.russia.acknowledges.dprk=true", "parties.dprk.acknowledges.dprk=true"]


def dprk_home_days(scn: Scenario, n: int = 12) -> np.ndarray:
    batch = run_replications(scn, 2025, n, keep_events=True)
    return np.array([questions.first_transfer_day(r, "dprk") for r in batch.runs])


def test_the_seed_scenario_rules_out_any_exchange_and_names_why(kursk_path: Path) -> None:
    scn = load_scenario(kursk_path)
    found = impossible(scn, "dprk")
    assert found is not None
    text = str(found)
    assert "parties.dprk.acknowledges.dprk: false" in text  # the home refuses
    # and Ukraine gives them up only for Ukrainians, whom only Russia (denying) holds
    assert "parties.ukraine.values.chip: 0.5" in text
    assert "parties.russia.acknowledges.dprk: false" in text
    assert np.isnan(dprk_home_days(scn)).all()  # and indeed no run has one


def test_one_denial_is_enough(kursk_path: Path) -> None:
    russia_only = impossible(load_scenario(kursk_path, ACK[1:]), "dprk")
    assert russia_only is not None
    assert "parties.russia.acknowledges.dprk" in str(russia_only)
    assert "parties.dprk.acknowledges" not in str(russia_only)
    dprk_only = impossible(load_scenario(kursk_path, ACK[:1]), "dprk")
    assert dprk_only is not None and "parties.dprk.acknowledges.dprk" in str(dprk_only)


def test_once_both_acknowledge_it_is_possible_and_happens(kursk_path: Path) -> None:
    scn = load_scenario(kursk_path, ACK)
    assert impossible(scn, "dprk") is None
    assert (dprk_home_days(scn, 20) <= 365).any()


def test_a_home_that_refuses_its_soldiers_back_rules_it_out(kursk_path: Path) -> None:
    found = impossible(load_scenario(kursk_path, [*ACK, "parties.dprk.values.own=-0.5"]), "dprk")
    assert found is not None and "parties.dprk.values.own: -0.5" in str(found)


def test_no_channel_between_holder_and_home_rules_it_out(kursk_path: Path) -> None:
    cut = "intermediaries.trilateral_relay.connects=[ukraine, russia]"
    found = impossible(load_scenario(kursk_path, [*ACK, cut]), "dprk")
    assert found is not None and "no channel connects Ukraine and North Korea" in str(found)


def test_zero_runs_is_not_zero_chance(kursk_path: Path) -> None:
    """A fortnight is too short for the slow three-way relay: no run has an exchange, yet the
    scenario does not rule one out, and the answer stays an estimate."""
    scn = load_scenario(kursk_path, [*ACK, "horizon=14"])
    assert np.isnan(dprk_home_days(scn)).all()
    assert impossible(scn, "dprk") is None
    assert questions.describe_chance(0.0, 0.0, 0.008) == "0% [0–0.8%]"


def test_a_dated_acknowledgement_makes_it_possible(kursk_path: Path) -> None:
    text = kursk_path.read_text(encoding="utf-8") + (
        "timeline:\n  - at: 2025-04-28\n    set:\n"
        "      parties.russia.acknowledges.dprk: true\n"
        "      parties.dprk.acknowledges.dprk: true\n"
    )
    assert impossible(loads_scenario(text), "dprk") is None
    late = text.replace("2025-04-28", "2026-01-12")  # the day before the horizon: still possible
    assert impossible(loads_scenario(late), "dprk") is None
    only_russia = text.replace("      parties.dprk.acknowledges.dprk: true\n", "")
    found = impossible(loads_scenario(only_russia), "dprk")
    assert found is not None  # North Korea's denial holds in both phases
    assert str(found) == (
        "North Korea does not acknowledge North Korea's involvement "
        "(parties.dprk.acknowledges.dprk: false)"
    )


def test_asylum_transfers_are_not_ruled_out_by_the_denials(kursk_path: Path) -> None:
    """Handing a North Korean to South Korea at his wish costs Ukraine no chip and needs
    neither Russia nor North Korea."""
    assert impossible(load_scenario(kursk_path), "dprk", "south_korea") is None


def test_nobody_holding_them_or_nobody_wishing_it(kursk_path: Path) -> None:
    scn = load_scenario(kursk_path)
    assert "nobody holds or captures" in str(impossible(scn, "south_korea"))
    stay = [
        "holdings.4.preferences={stay: 1.0}",  # the two North Koreans held on 2025-01-13
        "holdings.4.preference_drift.to={stay: 1.0}",
        "holdings.5.preference_drift.to={stay: 1.0}",
        "capture_streams.ukraine_takes_dprk.preferences={stay: 1.0}",
        "capture_streams.ukraine_takes_dprk.preference_drift.to={stay: 1.0}",
        *ACK,
    ]
    found = impossible(load_scenario(kursk_path, stay), "dprk")
    assert found is not None and str(found) == "none of them ever wishes to return"


def test_describe_chance_words_estimates_and_structural_zeros(kursk_path: Path) -> None:
    assert questions.describe_chance(0.068, 0.049, 0.094) == "6.8% [4.9–9.4%]"
    assert questions.describe_chance(0.58, 0.53, 0.62) == "58% [53–62%]"
    ruled_out = impossible(load_scenario(kursk_path), "dprk")
    said = questions.describe_chance(0.0, 0.0, 0.008, ruled_out)
    assert said.startswith("no run can (North Korea does not acknowledge")
    assert "%" not in said
    with pytest.raises(ValueError, match="rules out"):
        questions.describe_chance(0.01, 0.0, 0.05, ruled_out)
