"""The retrodiction of the seed case (issue 10 §4): ``scenarios/kursk_2025_retro.yaml`` is the
audited seed scenario plus the dated events of 2025, each cited to a row copied in
``seeds/kursk_2025_retro.md``; and what it says about the record, at small n.

Tolerances: 40 paired runs (seed 2025); a share p is checked within about three binomial
standard deviations (sqrt(p(1-p)/40) is at most 0.08). The larger runs quoted in
docs/validation.md (500 runs) lie inside these bands.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.experiments.experiment import run_replications
from sim.model.prisoners import REPATRIATED
from sim.results import questions
from sim.scenario.loading import load_scenario
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
RETRO = ROOT / "scenarios" / "kursk_2025_retro.yaml"
BLIND = ROOT / "scenarios" / "kursk_2025.yaml"
FACTS = ROOT / "seeds" / "kursk_2025_retro.md"
RUNS, SEED = 40, 2025
AUTUMN = 291.0  # 2025-10-31, the last row on the two prisoners [K25 2025-10-31]
END_OF_2025 = 352.0
DPRK = 2  # its index among the parties (ukraine, russia, dprk, south_korea)


@pytest.fixture(scope="module")
def retro() -> Scenario:
    return load_scenario(RETRO)


def _without(data: dict, keys: tuple[str, ...]) -> dict:
    return {k: v for k, v in data.items() if k not in keys}


def test_same_world_as_the_blind_scenario_plus_dated_events(retro: Scenario) -> None:
    blind = load_scenario(BLIND)
    assert retro.start_date == blind.start_date
    assert retro.horizon == END_OF_2025
    a, b = retro.model_dump(), blind.model_dump()
    # parties, intermediaries, negotiation, capture rates: exactly the blind scenario's
    for key in ("parties", "intermediaries", "negotiation"):
        assert a[key] == b[key], key
    for s_retro, s_blind in zip(a["capture_streams"], b["capture_streams"], strict=True):
        assert _without(s_retro, ("preference_drift",)) == _without(s_blind, ("preference_drift",))
    for h_retro, h_blind in zip(a["holdings"], b["holdings"], strict=True):
        assert _without(h_retro, ("preference_drift",)) == _without(h_blind, ("preference_drift",))
    assert _without(a["captivity"], ("preference_drift",)) == _without(
        b["captivity"], ("preference_drift",)
    )
    changes = {c.at: c.set for c in retro.timeline}
    assert changes == {
        105.0: {"parties.russia.acknowledges.dprk": True, "parties.dprk.acknowledges.dprk": True},
        123.0: {"captivity.preference_drift.rate": 1.0},
    }


def test_every_dated_event_cites_a_row_copied_in_the_seeds() -> None:
    text = RETRO.read_text(encoding="utf-8")
    facts = FACTS.read_text(encoding="utf-8")
    timeline = text[text.index("\ntimeline:") :]
    entries = timeline.split("\n  - at: ")[1:]
    assert len(entries) == 2
    for entry in entries:
        cited = re.findall(r"\[K25 (\d{4}-\d{2}-\d{2})(?: ([a-z_]+))?", entry)
        assert cited, entry
        for date, metric in cited:
            row = f"| {date} | {metric} |" if metric else f"| {date} |"
            assert row in facts, f"{date} {metric} is not copied in {FACTS.name}"
    # and only the one default drift moves: every other source states its own
    data = yaml.safe_load(text)
    sources = data["holdings"] + data["capture_streams"]
    own = [s for s in sources if "preference_drift" not in s]
    assert [(s["holder"], s["nationality"], s["preferences"]) for s in own] == [
        ("ukraine", "dprk", {"return": 1.0})
    ]


@pytest.fixture(scope="module")
def runs(retro: Scenario) -> dict[str, list]:
    def batch(scn: Scenario) -> list:
        return run_replications(scn, SEED, RUNS, keep_events=True, keep_prisoners=True).runs

    return {
        "blind": batch(load_scenario(BLIND, ["horizon=2025-12-31"])),
        "retro": batch(retro),
        "two only": batch(load_scenario(RETRO, ["capture_streams.ukraine_takes_dprk.rate=0"])),
    }


def _home_by(runs: list, day: float) -> np.ndarray:
    return np.array([questions.first_transfer_day(r, "dprk") <= day for r in runs])


def _both_held(runs: list, day: float) -> np.ndarray:
    return np.array([questions.held_on(r, "dprk", day) == (2, 2) for r in runs])


def test_blind_rules_the_exchange_out_and_the_retro_does_not(
    retro: Scenario, runs: dict[str, list]
) -> None:
    assert questions.impossible(load_scenario(BLIND), "dprk") is not None
    assert not _home_by(runs["blind"], END_OF_2025).any()
    assert questions.impossible(retro, "dprk") is None  # acknowledged from 2025-04-28


def test_the_two_prisoners_are_never_sent_home(runs: dict[str, list]) -> None:
    """The record: neither was exchanged. In the retrodiction both are bound for South Korea
    by 2025-05-16, three weeks after the acknowledgement, too soon for the slow three-way
    relay: none of the 40 runs sends either home (0 of 500 in docs/validation.md)."""
    for arm in ("retro", "two only"):
        for run in runs[arm]:
            p = run.prisoners
            two = (p["nat"] == DPRK) & (p["source"] < 0)
            home = (p["fate"] == REPATRIATED) & (p["t_exit"] <= END_OF_2025)
            assert two.sum() == 2 and not (two & home).any(), arm
    assert not _home_by(runs["two only"], END_OF_2025).any()


def test_where_the_retrodiction_misses_the_record(runs: dict[str, list]) -> None:
    """The model's misses, held to their size at 40 runs: North Koreans captured after the
    seed date are sent home in about half the runs once acknowledged (the record names no
    other prisoner and no exchange), and the two are seldom still held on 2025-10-31 (the
    record: both were), because the model hands them to South Korea within weeks."""
    assert 0.25 <= _home_by(runs["retro"], END_OF_2025).mean() <= 0.8
    assert _both_held(runs["retro"], AUTUMN).mean() <= 0.15
    assert _both_held(runs["blind"], AUTUMN).mean() <= 0.2
    to_seoul = [questions.fates(r, "dprk")["resettled_by_deal"] for r in runs["two only"]]
    assert np.mean([n >= 1 for n in to_seoul]) >= 0.7
