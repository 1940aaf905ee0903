"""sim/trace.py: the dated story of one replication matches its records."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest

from sim.experiments.experiment import run_one
from sim.model.prisoners import DIED
from sim.results.trace import _noun, format_story, story
from sim.scenario.loading import loads_scenario

SCENARIO = """\
name: trace_test
start_date: 2025-03-01
horizon: 120
parties:
  - id: blue
    direct_channels: [red]
    initiative: {dist: fixed, value: 20}
    strategy: conceder
    reservation: 0.1
  - id: red
    initiative: {dist: fixed, value: 25}
    strategy: conceder
    reservation: 0.1
    humanitarian_release: true
holdings:
  - {holder: red, nationality: blue, count: 10}
capture_streams:
  - id: blue_takes_red
    captor: blue
    nationality: red
    rate: 0.2
    batch: {dist: fixed, value: 3}
    wounded_share: 0.4
  - id: red_takes_blue
    captor: red
    nationality: blue
    rate: 0.2
    batch: {dist: poisson, mean: 1, shift: 1}
    categories: {soldier: 0.5, civilian: 0.5}
    wounded_share: 0.5
  - id: blue_takes_sentries
    captor: blue
    nationality: red
    rate: 0.05
    batch: {dist: fixed, value: 4}
    categories: {sentry: 1.0}
    self_destruct: 0.5
captivity:
  death_hazard: {healthy: 0.002, wounded: 0.02}
  severe_share: 0.5
  humanitarian_delay: {dist: fixed, value: 10}
negotiation:
  collapse: 0
"""

START = dt.date(2025, 3, 1)
LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})  \(day +(\d+\.\d)\)  (.*)$")


@pytest.fixture(scope="module")
def run():
    scn = loads_scenario(SCENARIO)
    res = run_one(scn, 7, 0, keep_events=True, keep_prisoners=True)
    return scn, res, story(scn, res)


def texts(st: list[tuple[float, str]]) -> list[str]:
    return [text for _, text in st]


def test_capture_lines_match_incidents(run) -> None:
    _scn, res, st = run
    pattern = {
        "blue_takes_red": re.compile(r"^blue captures (\d+) red soldiers?(?: \((\d+) wounded\))?$"),
        "red_takes_blue": re.compile(
            r"^red captures (\d+) blue prisoners?(?: \((\d+) wounded\))?$"
        ),
        "blue_takes_sentries": re.compile(
            r"^blue captures (\d+) red sentr(?:y|ies)(?: \((\d+) wounded\))?"
            r"(?:; (\d+) more die rather than be captured)?$"
        ),
    }
    for sid, pat in pattern.items():
        inc = res.incidents[sid]
        assert len(inc.t) > 0, sid
        got = []
        for t, text in st:
            m = pat.match(text)
            if m:
                sd = int(m[3] or 0) if pat.groups > 2 else 0
                got.append((t, int(m[1]), int(m[2] or 0), sd))
        expected = [
            (float(t), int(k), int(w), int(s))
            for t, k, w, s in zip(inc.t, inc.taken, inc.wounded, inc.self_destructed, strict=True)
            if k > 0
        ]
        assert [g[1:] for g in got] == [e[1:] for e in expected], sid
        np.testing.assert_allclose([g[0] for g in got], [e[0] for e in expected])
    # the wounded were counted and appear in the story
    assert res.incidents["blue_takes_red"].wounded.sum() > 0
    assert any(re.search(r"captures 3 red soldiers \(1 wounded\)$", s) for s in texts(st))
    assert any("more die rather than be captured" in s for s in texts(st))


def test_total_captured_in_story_equals_outcome(run) -> None:
    _scn, res, st = run
    taken = sum(int(m[1]) for s in texts(st) if (m := re.match(r"^\w+ captures (\d+) ", s)))
    assert taken == res.outcomes["captured"]
    sd = sum(int(m[1]) for s in texts(st) if (m := re.search(r"; (\d+) more die rather", s)))
    sd += sum(int(m[1]) for s in texts(st) if (m := re.match(r"^(\d+) \w+ die rather", s)))
    assert sd == res.outcomes["died_avoiding_capture"]


def test_talks_and_deals_in_story(run) -> None:
    _scn, res, st = run
    t = texts(st)
    opens = [s for s in t if re.match(r"^(blue|red) opens talks #\d+ with (red|blue) directly$", s)]
    executed = [s for s in t if re.match(r"^deal #\d+ executed: ", s)]
    agreed = [s for s in t if re.match(r"^deal #\d+ agreed in talks #\d+: ", s)]
    assert len(opens) == res.outcomes["negotiations"] >= 1
    assert len(executed) == res.outcomes["deals"] >= 1
    assert len(agreed) >= len(executed)
    assert not any("collapses" in s for s in t)  # collapse: 0
    freed = sum(int(n) for s in executed for n in re.findall(r"frees (\d+) ", s))
    assert freed == res.outcomes["exchanged"]
    # every executed deal was agreed earlier
    agreed_at = {
        int(re.match(r"deal #(\d+)", s)[1]): day
        for day, s in st
        if re.match(r"deal #\d+ agreed", s)
    }
    for day, s in st:
        if m := re.match(r"deal #(\d+) executed", s):
            assert agreed_at[int(m[1])] <= day


def test_deaths_and_releases_in_story(run) -> None:
    _scn, res, st = run
    p = res.prisoners
    died = int(((p["fate"] == DIED) & (p["t_exit"] <= res.horizon)).sum())
    in_story = sum(
        int(m[1])
        for s in texts(st)
        if (m := re.match(r"^(\d+) (blue|red) dies? in captivity held by (red|blue)$", s))
    )
    assert died == in_story == res.outcomes["died"] > 0
    released = sum(
        int(m[1])
        for s in texts(st)
        if (m := re.match(r"^(\d+) blue released on humanitarian grounds by red$", s))
    )
    assert released == res.outcomes["humanitarian_released"] > 0


def test_story_in_time_order(run) -> None:
    _scn, res, st = run
    days = [d for d, _ in st]
    assert days == sorted(days)
    assert all(0 <= d <= res.horizon for d in days)
    ev_days = [t for t, _, _ in res.events]
    assert ev_days == sorted(ev_days)
    # every event record and every incident is told (plus the prisoner lines)
    n_incidents = sum(
        int(((inc.taken > 0) | (inc.self_destructed > 0)).sum()) for inc in res.incidents.values()
    )
    assert len(st) >= len(res.events) + n_incidents
    for kind, pat in (("open", "opens talks"), ("agreed", "agreed in"), ("executed", "executed:")):
        assert sum(1 for e in res.events if e[1] == kind) == sum(1 for s in texts(st) if pat in s)


def test_format_story_dates_from_start_date(run) -> None:
    scn, res, st = run
    text = format_story(scn, res)
    lines = text.splitlines()
    assert len(lines) == len(st)
    for line, (day, sentence) in zip(lines, st, strict=True):
        m = LINE.match(line)
        assert m, line
        assert m[1] == (START + dt.timedelta(days=int(np.floor(day)))).isoformat()
        assert float(m[2]) == pytest.approx(day, abs=0.05)
        assert m[3] == sentence
    # a known capture: the first incident of blue_takes_red is on day 1.x -> 2025-03-02
    first_t = float(res.incidents["blue_takes_red"].t[0])
    date = (START + dt.timedelta(days=int(first_t))).isoformat()
    assert any(ln.startswith(date) and "blue captures" in ln for ln in lines)


def test_format_story_limit(run) -> None:
    scn, res, _st = run
    assert len(format_story(scn, res, limit=5).splitlines()) == 5
    assert format_story(scn, res, limit=5).splitlines() == format_story(scn, res).splitlines()[:5]


def test_nouns() -> None:
    scn = loads_scenario(SCENARIO)
    assert _noun(scn, "blue_takes_red", 1) == "soldier"
    assert _noun(scn, "blue_takes_red", 2) == "soldiers"
    assert _noun(scn, "blue_takes_sentries", 1) == "sentry"
    assert _noun(scn, "blue_takes_sentries", 3) == "sentries"
    assert _noun(scn, "red_takes_blue", 1) == "prisoner"
    assert _noun(scn, "red_takes_blue", 4) == "prisoners"


def test_trace_without_events_has_only_prisoner_lines() -> None:
    scn = loads_scenario(SCENARIO)
    res = run_one(scn, 7, 0)  # events and incidents dropped
    assert res.events == [] and res.incidents == {}
    assert story(scn, res) == []


REFUSAL = """\
name: refusal
start_date: 2025-01-13
horizon: 30
parties:
  - id: ukraine
    initiative: {dist: fixed, value: 3}
  - id: russia
    acknowledges: {dprk: false}
    allies: [dprk]
    initiative: null
  - id: dprk
    initiative: null
holdings:
  - {holder: ukraine, nationality: dprk, count: 2}
  - {holder: russia, nationality: ukraine, count: 5}
intermediaries:
  - {id: relay, connects: [ukraine, russia, dprk], delay: {dist: fixed, value: 1}}
"""


def test_refusal_story() -> None:
    scn = loads_scenario(REFUSAL)
    res = run_one(scn, 1, 0, keep_events=True)
    t = texts(story(scn, res))
    refused = [s for s in t if "refuses talks" in s]
    assert len(refused) == res.outcomes["talks_refused"] >= 1
    assert any(re.match(r"^ukraine opens talks #\d+ with russia and dprk via relay$", s) for s in t)
    for s in refused:
        assert re.match(r"^russia refuses talks #\d+: it does not acknowledge dprk prisoners$", s)
