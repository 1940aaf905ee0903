"""Negotiating formats (sim/scenario/formats.py, phases.py; sim/model/formats.py): states that
open and close by hazards, dates and other formats' states; their overrides in force while they
hold; time and deals per state; errors named by file, line and field."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.model.simulation import Simulation
from sim.scenario.loading import loads_scenario
from sim.scenario.phases import MAX_CHECKED, in_force, phase_book

# a world with nothing but formats (no parties' initiative, nobody held): runs are cheap
QUIET = """\
name: quiet
start_date: 2025-01-01
horizon: {horizon}
seed: 7
parties:
  - id: a
    initiative: null
  - id: b
    initiative: null
formats:
{formats}
"""

TWO_STATE = """\
  - id: track
    initial: closed
    states:
      - id: closed
        set: {{negotiation.frozen: true}}
      - id: open
        set: {{negotiation.frozen: false}}
    transitions:
      - {{from: closed, to: open, hazard: {a}}}
      - {{from: open, to: closed, hazard: {b}}}
"""


def quiet(formats: str, horizon: float = 400.0) -> str:
    return QUIET.format(horizon=horizon, formats=formats)


def accounts(text: str, reps: int, seed: int = 1) -> dict[str, np.ndarray]:
    scn = loads_scenario(text)
    rows = [Simulation(scn, seed, r, record_events=False).run().formats for r in range(reps)]
    return {
        k: np.array([[row[k][c] for c in ("days", "entered")] for row in rows]) for k in rows[0]
    }


# --------------------------------------------------------------------------- closed forms
def test_time_in_a_two_state_format_matches_the_markov_chain() -> None:
    """From `closed`, with rates a (closed→open) and b (open→closed), the expected time in
    `open` over [0, T] is a/(a+b) · (T − (1 − e^{−(a+b)T}) / (a+b))."""
    a, b, horizon = 0.02, 0.03, 400.0
    acc = accounts(quiet(TWO_STATE.format(a=a, b=b), horizon), reps=2000)
    days_open = acc["track.open"][:, 0]
    s = a + b
    expected = a / s * (horizon - (1 - math.exp(-s * horizon)) / s)  # 152.0
    se = days_open.std(ddof=1) / math.sqrt(len(days_open))
    assert se < 0.01 * expected
    assert abs(days_open.mean() - expected) < 4 * se
    # and it tells the transient from the stationary share a/(a+b)·T = 160 days
    assert abs(days_open.mean() - a / s * horizon) > 4 * se
    # every day is in exactly one state
    assert np.allclose(acc["track.open"][:, 0] + acc["track.closed"][:, 0], horizon)
    # entries into open: each run enters closed once at day 0, then alternates
    assert np.all(acc["track.closed"][:, 1] - acc["track.open"][:, 1] >= 0)
    assert np.all(acc["track.closed"][:, 1] - acc["track.open"][:, 1] <= 1)


def test_a_dated_transition_fires_on_its_day_and_only_from_its_state() -> None:
    fmt = """\
  - id: summit
    initial: closed
    states: [{id: closed}, {id: open}, {id: over}]
    transitions:
      - {from: closed, to: open, at: 2025-03-02}
      - {from: closed, to: over, at: 2025-06-10}
      - {from: open, to: over, at: 2025-02-01}
"""
    res = Simulation(loads_scenario(quiet(fmt, 300)), 1, 0).run()
    # day 60: closed -> open; the open -> over date (day 31) is past, so open holds to the end
    assert [(t, d["entered"]) for t, k, d in res.events if k == "format"] == [(60.0, "open")]
    assert res.formats["summit.closed"]["days"] == 60.0
    assert res.formats["summit.open"]["days"] == 240.0
    assert res.formats["summit.over"] == {"days": 0.0, "entered": 0.0, "deals": 0.0, "moved": 0.0}


def test_when_follows_another_format_at_once() -> None:
    fmt = """\
  - id: ack
    initial: denied
    states: [{id: denied}, {id: acknowledged}]
    transitions:
      - {from: denied, to: acknowledged, at: 2025-04-28}
  - id: talks
    initial: none
    states: [{id: none}, {id: direct}]
    transitions:
      - {from: none, to: direct, when: ack.acknowledged, note: talks follow acknowledgement}
"""
    res = Simulation(loads_scenario(quiet(fmt, 300)), 1, 0).run()
    changes = [(t, d["format"], d["entered"], d["note"]) for t, k, d in res.events if k == "format"]
    assert changes == [
        (117.0, "ack", "acknowledged", ""),
        (117.0, "talks", "direct", "talks follow acknowledgement"),
    ]


# --------------------------------------------------------------------------- in force
TALKING = """\
name: talking
start_date: 2025-01-01
horizon: 500
seed: 2
parties:
  - id: a
    direct_channels: [b]
    initiative: {{dist: exponential, mean: 4}}
    norms: {{one_for_one: true}}
    strategy: conceder
    reservation: 0.0
  - id: b
    initiative: {{dist: exponential, mean: 4}}
    norms: {{one_for_one: true}}
    strategy: conceder
    reservation: 0.0
holdings:
  - {{holder: a, nationality: b, count: 400}}
  - {{holder: b, nationality: a, count: 400}}
negotiation:
  collapse: 0.0
  max_deal_size: {{dist: fixed, value: 10}}
  cooldown: {{dist: fixed, value: 3}}
formats:
{formats}
"""


def test_talks_open_only_while_a_state_lets_them() -> None:
    text = TALKING.format(formats=TWO_STATE.format(a=0.02, b=0.05))
    scn = loads_scenario(text)
    for r in range(5):
        res = Simulation(scn, 4, r).run()
        spans = [(0.0, "closed")] + [(t, d["entered"]) for t, k, d in res.events if k == "format"]
        opened = [t for t, k, _ in res.events if k == "open"]
        assert opened  # there are talks, and each opened while the track was open
        for t in opened:
            state = [s for s0, s in spans if s0 <= t][-1]
            assert state == "open", (r, t)
        # each executed deal counts once, in the state it was agreed in (talks opened while
        # open may agree after the track closed: the freeze stops new talks only)
        done = [d for d in res.deals if d["outcome"] == "executed"]
        assert len(done) == res.outcomes["deals"] > 0
        for key in ("deals", "moved"):
            total = res.formats["track.open"][key] + res.formats["track.closed"][key]
            assert total == (len(done) if key == "deals" else sum(d["moved"] for d in done))
        agreed_open = sum(
            1 for d in done if [s for s0, s in spans if s0 <= d["agreed"]][-1] == "open"
        )
        assert res.formats["track.open"]["deals"] == agreed_open


def test_a_format_draws_from_its_own_stream() -> None:
    """Formats draw from their own streams: with a format whose states set nothing, every
    capture and everything that happens before its first change are as without it. (After a
    change the scenario in force is another object, and distributions drawn in blocks start a
    new block, as after a timeline change: later draws differ, their distribution does not.)"""
    plain = loads_scenario(TALKING.format(formats="  []").replace("formats:\n  []\n", ""))
    idle = (
        TWO_STATE.format(a=0.1, b=0.1)
        .replace("negotiation.frozen: true", "")
        .replace("negotiation.frozen: false", "")
    )
    with_format = loads_scenario(TALKING.format(formats=idle))
    for r in range(3):
        a = Simulation(plain, 9, r, keep_prisoners=True).run()
        b = Simulation(with_format, 9, r, keep_prisoners=True).run()
        first = next(t for t, k, _ in b.events if k == "format")
        assert first > 0
        assert [e for e in b.events if e[0] < first] == [e for e in a.events if e[0] < first]
        assert a.outcomes["initial_held"] == b.outcomes["initial_held"] == 800


def test_in_force_lays_states_over_timeline_phases_and_caches_them() -> None:
    text = quiet(TWO_STATE.format(a=0.1, b=0.1)) + (
        "timeline:\n  - {at: 100, set: {negotiation.max_rounds: 7}}\n"
    )
    scn = loads_scenario(text)
    book = phase_book(scn)
    assert book.days == [0.0, 100.0] and book.initial == (0,)
    # every (phase, state) combination was validated when the scenario was loaded
    assert set(book.cache) == {(0, (0,)), (0, (1,)), (1, (0,)), (1, (1,))}
    late_open = in_force(scn, 1, (1,))
    assert late_open.negotiation.max_rounds == 7 and not late_open.negotiation.frozen
    assert in_force(scn, 0, (0,)).negotiation.frozen and in_force(scn, 1, (1,)) is late_open
    assert MAX_CHECKED >= 4


# --------------------------------------------------------------------------- errors
def error_of(formats: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        loads_scenario(quiet(formats), source="f.yaml")
    return info.value


def test_a_state_value_out_of_range_names_the_state_line() -> None:
    exc = error_of(
        "  - id: t\n    initial: x\n    states:\n      - id: x\n      - id: y\n"
        "        set: {negotiation.collapse: 2}\n    transitions: []\n"
    )
    assert str(exc).startswith("f.yaml:16: formats[0].states[1].set.negotiation.collapse:")
    assert "<= 1" in str(exc)


def test_a_state_cannot_change_what_a_run_cannot() -> None:
    exc = error_of(
        "  - id: t\n    initial: x\n    states:\n      - id: x\n      - id: y\n"
        "        set: {horizon: 30}\n"
    )
    assert "formats[0].states[1].set.horizon" in str(exc)
    assert "horizon cannot change during a run" in str(exc)


@pytest.mark.parametrize(
    ("transitions", "expected"),
    [
        ("[{from: x, to: y}]", "expected exactly one of `hazard`, `at` or `when`, got none"),
        ("[{from: x, to: y, hazard: 0.1, at: 5}]", "exactly one of `hazard`, `at` or `when`"),
        ("[{from: x, to: x, hazard: 0.1}]", "a transition must change state"),
        ("[{from: x, to: z, hazard: 0.1}]", "no state 'z'; states are: x, y"),
        ("[{from: x, to: y, when: nowhere.open}]", "no format 'nowhere'; formats are: t"),
        ("[{from: x, to: y, when: t.y}]", "`when` must name another format"),
        ("[{from: x, to: y, hazard: -1}]", "expected a value > 0.0, got -1"),
    ],
)
def test_bad_transitions_are_one_clear_error(transitions: str, expected: str) -> None:
    exc = error_of(
        "  - id: t\n    initial: x\n    states: [{id: x}, {id: y}]\n"
        f"    transitions: {transitions}\n"
    )
    assert expected in str(exc)
    assert str(exc).startswith("f.yaml:1") and "formats" in str(exc)


# --------------------------------------------------------------------------- acknowledgement
ACK = """\
name: ack
start_date: 2025-01-01
horizon: 300
seed: 4
parties:
  - id: a
    direct_channels: [b]
    initiative: {{dist: exponential, mean: 5}}
    strategy: conceder
    reservation: 0.0
    norms: {{one_for_one: true}}
  - id: b
    allies: [c]
    values: {{own: 1.0, ally: 1.0}}
    acknowledges: {{c: false}}
    initiative: null
    strategy: conceder
    reservation: 0.0
    norms: {{one_for_one: true}}
  - id: c
    initiative: null
    strategy: conceder
    reservation: 0.0
holdings:
  - {{holder: a, nationality: c, count: 50}}
  - {{holder: b, nationality: a, count: 50}}
intermediaries:
  - {{id: m, connects: [a, b, c], capacity: 5}}
negotiation:
  collapse: 0.0
  cooldown: {{dist: fixed, value: 5}}
formats:
  - id: ack
    initial: denied
    states:
      - id: denied
      - id: acknowledged
        set: {{parties.b.acknowledges.c: true}}
    transitions:
      - {trigger}
"""


@pytest.mark.parametrize(
    "trigger",
    [
        "{from: denied, to: acknowledged, at: 2025-04-11}",  # a dated event: day 100
        "{from: denied, to: acknowledged, hazard: 0.01}",  # a hazard
    ],
)
def test_acknowledgement_that_changes_lets_deals_happen_after_it(trigger: str) -> None:
    """Party b does not acknowledge its ally c's soldiers, so talks over them are refused;
    once the format enters `acknowledged` (on a date, or by a hazard), deals follow."""
    scn = loads_scenario(ACK.format(trigger=trigger))
    seen_refused = seen_deal = 0
    for r in range(6):
        res = Simulation(scn, 2, r).run()
        acked = [t for t, k, d in res.events if k == "format" and d["entered"] == "acknowledged"]
        opened = {d["talks"]: t for t, k, d in res.events if k == "open"}
        refused = [opened[d["talks"]] for _, k, d in res.events if k == "refused"]
        executed = [d for d in res.deals if d["outcome"] == "executed"]
        since = acked[0] if acked else float("inf")
        assert all(t < since for t in refused)  # only talks opened before it are refused
        assert all(d["agreed"] >= since for d in executed)  # deals only after it
        seen_refused += len(refused)
        seen_deal += len(executed)
    assert seen_refused > 0 and seen_deal > 0


def test_runs_write_formats_csv_and_the_api_returns_it(tmp_path: Path) -> None:
    import sim

    text = quiet(TWO_STATE.format(a=0.02, b=0.03), 400)
    out = sim.run(text, 20, seed=3, workers=1, out=tmp_path / "o")
    table = out.formats.set_index(["format", "state"])
    assert list(table.index) == [("track", "closed"), ("track", "open")]
    assert table["days_per_run"].sum() == pytest.approx(400.0)
    assert table["share_of_time"].sum() == pytest.approx(1.0)
    assert (tmp_path / "o" / "formats.csv").exists()
    manifest = (tmp_path / "o" / "manifest.json").read_text()
    assert '"formats.csv"' in manifest
    # the same 20 runs, one by one, give the same means
    scn = loads_scenario(text)
    days = [Simulation(scn, 3, r).run().formats["track.open"]["days"] for r in range(20)]
    assert table.loc[("track", "open"), "days_per_run"] == pytest.approx(np.mean(days))


def test_a_format_that_changes_only_negotiation_leaves_the_prisoner_table_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A format flipping ``negotiation.frozen`` changes nothing that happens to prisoners: the
    table is indexed once, when drawn, not at every flip; a state that changes a release
    policy does re-index (its exogenous exits change)."""
    from sim.model.prisoners import PrisonerTable

    calls = {"n": 0}
    original = PrisonerTable.reindex

    def counted(self: PrisonerTable) -> None:
        calls["n"] += 1
        original(self)

    monkeypatch.setattr(PrisonerTable, "reindex", counted)
    sim = Simulation(loads_scenario(quiet(TWO_STATE.format(a=0.05, b=0.05))), 1, 0)
    sim.run()
    assert len(sim.format_log) > 5 and calls["n"] == 1
    policy = TWO_STATE.format(a=0.05, b=0.05).replace(
        "set: {{negotiation.frozen: false}}".replace("{{", "{").replace("}}", "}"),
        "set: {negotiation.frozen: false, parties.a.humanitarian_release: true}",
    )
    calls["n"] = 0
    sim = Simulation(loads_scenario(quiet(policy)), 1, 0)
    sim.run()
    assert calls["n"] == 1 + len(sim.format_log)
