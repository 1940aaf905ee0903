"""Neutral custody (sim/scenario/custody.py, sim/model/custody.py): who is handed over and
when, the explanation period, the choices at its end (a multinomial check with stated
tolerances), deaths in custody, conservation with custody counted apart, and the outputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.model.prisoners import IN_CUSTODY, RESETTLED
from sim.model.simulation import Simulation
from sim.results import questions
from sim.results.trace import format_story
from sim.scenario.loading import loads_scenario

# a holds N prisoners of b who all refuse to go home; nobody negotiates; custody by n
QUIET = """\
name: custody
start_date: 2025-01-01
horizon: 200
seed: 1
parties:
  - {{id: a, initiative: null}}
  - {{id: b, initiative: null}}
  - {{id: n, initiative: null}}
holdings:
  - {{holder: a, nationality: b, count: {n}, preferences: {{stay: 1.0}}}}
  - {{holder: b, nationality: a, count: 10}}
custody:
  - id: nnrc
    custodian: n
    trigger: activation
    delay: {{dist: fixed, value: 10}}
    explanation: {{dist: fixed, value: 90}}
    choices: {{return: 0.2, stay: 0.5, "resettle:n": 0.3}}
    death_hazard: {hazard}
"""


def quiet(n: int = 2000, hazard: float = 0.0, **overrides):  # type: ignore[no-untyped-def]
    return loads_scenario(QUIET.format(n=n, hazard=hazard), overrides)


def run(scn, seed: int = 1, rep: int = 0):  # type: ignore[no-untyped-def]
    sim = Simulation(scn, seed, rep, check_invariants=True, keep_prisoners=True)
    return sim, sim.run()


# --------------------------------------------------------------------------- closed form
def test_refusers_spend_the_explanation_period_in_custody_then_choose() -> None:
    """Handed over on day 10 (delay 10 after activation at day 0), in custody for exactly 90
    days, then home / stay / third country with probabilities 0.2 / 0.5 / 0.3. Each count is
    binomial(2000, p): within 4 standard deviations, and they add up exactly."""
    n = 2000
    sim, res = run(quiet(n))
    log = dict(sim.census_log)
    before = [c for t, c in sim.census_log if t < 10]
    during = [c for t, c in sim.census_log if 10 <= t < 100]
    assert before and all(c["held"] == n + 10 and c["in_custody"] == 0 for c in before)
    assert during and all(c["in_custody"] == n and c["held"] == 10 for c in during)
    assert log[100.0]["in_custody"] == 0  # the period ends for everyone at once
    p = res.prisoners
    refusers = p["nat"] == 1
    assert np.all(p["t_cust"][refusers] == 10.0) and np.all(p["t_cust_end"][refusers] == 100.0)
    o = res.outcomes
    for key, share in (
        ("custody_returned_home", 0.2),
        ("custody_stayed", 0.5),
        ("custody_resettled", 0.3),
    ):
        sd = math.sqrt(n * share * (1 - share))
        assert abs(o[key] - n * share) < 4 * sd, (key, o[key])
    assert o["handed_to_custody"] == n
    assert o["custody_returned_home"] + o["custody_stayed"] + o["custody_resettled"] == n
    assert (o["custody_died"], o["in_custody_at_end"]) == (0, 0)
    # home is a repatriation of b's people, staying a resettlement with a, the rest go to n
    assert o["repatriated"] == o["custody_returned_home"]
    assert o["resettled"] == o["custody_stayed"] + o["custody_resettled"]
    assert o["exchanged"] == 0 and o["held_at_end"] == 10
    to_n = refusers & (p["fate"] == RESETTLED) & (p["cust_dest"] == 2)
    assert int(to_n.sum()) == o["custody_resettled"]


def test_choice_shares_over_replications_match_the_multinomial() -> None:
    """Pooled over 20 replications of 500 refusers (10,000 choices), each share is within
    0.015 of its probability (4.5 sd at p = 0.5)."""
    scn = quiet(500)
    totals = np.zeros(3)
    for rep in range(20):
        o = Simulation(scn, 7, rep).run().outcomes
        totals += [o["custody_returned_home"], o["custody_stayed"], o["custody_resettled"]]
    assert totals.sum() == 10_000
    assert np.allclose(totals / totals.sum(), [0.2, 0.5, 0.3], atol=0.015)


def test_deaths_in_custody_follow_the_hazard() -> None:
    """With hazard h = 0.01/day over a 90-day period, P(death) = 1 - exp(-0.9) = 0.5934;
    those who die leave custody at their death, the others at the period's end."""
    n = 4000
    _, res = run(quiet(n, hazard=0.01))
    o = res.outcomes
    p_die = 1 - math.exp(-0.9)
    assert abs(o["custody_died"] - n * p_die) < 4 * math.sqrt(n * p_die * (1 - p_die))
    assert o["died"] == o["custody_died"]
    p = res.prisoners
    dead = (p["nat"] == 1) & (p["cust_fate"] == 3)
    assert np.all((p["t_cust_end"][dead] > 10) & (p["t_cust_end"][dead] < 100))
    rows = {r["party"]: r for r in res.parties}
    assert rows["a"]["died_in_custody"] == 0  # died in neutral custody, not held by a
    assert rows["b"]["own_died"] == o["custody_died"]


def test_in_custody_at_the_horizon_is_neither_held_nor_free() -> None:
    scn = quiet(300, horizon=50)
    _, res = run(scn)
    o = res.outcomes
    assert o["in_custody_at_end"] == o["handed_to_custody"] == 300
    assert o["held_at_end"] == 10 and o["repatriated"] == o["resettled"] == 0
    assert o["initial_held"] == o["held_at_end"] + o["in_custody_at_end"]
    rows = {r["party"]: r for r in res.parties}
    assert rows["a"]["handed_to_custody"] == 300 and rows["a"]["held"] == 0
    assert rows["b"]["own_in_custody"] == 300 and rows["b"]["own_still_held"] == 0
    assert set(res.prisoners["fate"][res.prisoners["nat"] == 1].tolist()) == {IN_CUSTODY}
    f = questions.fates(res, "b")
    assert f["in_custody"] == 300 and sum(f[k] for k in questions.FATES) == f["total"]


def test_inactive_custody_waits_for_the_timeline() -> None:
    """Not active at first; a dated change activates it on day 40: handover on day 50."""
    scn = quiet(
        100,
        **{
            "custody.nnrc.active": False,
            "timeline": [{"at": 40, "set": {"custody.nnrc.active": True}}],
        },
    )
    _, res = run(scn)
    assert np.all(res.prisoners["t_cust"][res.prisoners["nat"] == 1] == 50.0)
    never = quiet(100, **{"custody.nnrc.active": False})
    assert run(never)[1].outcomes["handed_to_custody"] == 0


def test_custody_draws_from_its_own_streams() -> None:
    """Custody never moves the draws of captures or captivity (common random numbers)."""
    a = run(quiet(200))[1].prisoners
    b = run(quiet(200, **{"custody.nnrc.choices": {"stay": 1.0}}))[1].prisoners
    assert np.array_equal(a["death_e"], b["death_e"]) and np.array_equal(a["pref0"], b["pref0"])


# --------------------------------------------------------------------------- after a deal
SWAP = """\
name: swap
start_date: 2025-01-01
horizon: 200
seed: 1
parties:
  - id: a
    direct_channels: [b]
    initiative: {dist: fixed, value: 0.5}
    strategy: conceder
    reservation: 0.0
    values: {chip: 0.0}
    norms: {all_for_all: true}
  - id: b
    initiative: null
    strategy: conceder
    reservation: 0.0
  - id: c
    initiative: null
  - {id: n, initiative: null}
holdings:
  - {holder: a, nationality: b, count: 1000, preferences: {return: 0.7, stay: 0.3}}
  - {holder: a, nationality: c, count: 50, preferences: {stay: 1.0}}
  - {holder: b, nationality: a, count: 300}
negotiation:
  collapse: 0.0
  preparation: {dist: fixed, value: 2}
  cooldown: {dist: fixed, value: 1000}
  direct_delay: {dist: fixed, value: 0.1}
custody:
  - id: nnrc
    custodian: n
    holders: [a]
    delay: {dist: fixed, value: 5}
    explanation: {dist: fixed, value: 90}
    choices: {return: 0.1, stay: 0.8, "resettle:n": 0.1}
timeline:
  - {at: 1, set: {negotiation.frozen: true}, note: only the first talks}
"""


def test_a_deal_sends_its_refusers_to_custody_after_the_delay() -> None:
    """The all-for-all deal repatriates a's willing b prisoners; five days later the b
    prisoners who refused go to custody; the c prisoners, not in the deal, stay held."""
    scn = loads_scenario(SWAP)
    _, res = run(scn)
    executed = [d for d in res.deals if d["outcome"] == "executed"]
    assert len(executed) == 1
    day = executed[0]["day"]
    p = res.prisoners
    b_refusers = (p["nat"] == 1) & np.isfinite(p["t_cust"])
    assert np.all(p["t_cust"][b_refusers] == day + 5)
    assert int(b_refusers.sum()) == res.outcomes["handed_to_custody"]
    assert int(b_refusers.sum()) == 1000 - executed[0]["transfers"][0][3]
    assert not np.isfinite(p["t_cust"][p["nat"] == 2]).any()
    assert res.outcomes["held_at_end"] == 50
    # custody returners are counted home when their period ends, not at the handover
    grid, home = res.grid, res.repatriated_series["b"]
    just_after = int(np.searchsorted(grid, day + 6))
    assert home[just_after] == executed[0]["transfers"][0][3]
    assert home[-1] == executed[0]["transfers"][0][3] + res.outcomes["custody_returned_home"]
    story = format_story(scn, res)
    assert "neutral custody nnrc (n): a hands" in story and "who refuse to go home" in story
    assert "neutral custody nnrc ends for" in story and "go to n" in story
    assert "granted asylum" not in story  # custody exits are told as such, not as asylum


def test_no_custody_before_a_deal() -> None:
    scn = loads_scenario(SWAP, {"negotiation.frozen": True})
    assert run(scn)[1].outcomes["handed_to_custody"] == 0


# --------------------------------------------------------------------------- validation
def error_of(text: str, overrides: dict | None = None) -> ScenarioError:  # type: ignore[type-arg]
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text, overrides or {}, source="c.yaml")
    return info.value


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        (
            {"custody.nnrc.custodian": "india"},
            "custody.nnrc.custodian",
            "'india' is neither a party nor an intermediary; parties are: a, b, n",
        ),
        (
            {"custody.nnrc.holders": ["a", "n"]},
            "custody.nnrc.holders",
            "the custodian 'n' cannot be one of the holders: custody is neutral",
        ),
        (
            {"custody.nnrc.holders": ["x"]},
            "custody.nnrc.holders",
            "party 'x' is not defined",
        ),
        (
            {"custody.nnrc.choices": {"return": 0.5, "stay": 0.4}},
            "custody.nnrc.choices",
            "shares must sum to 1, they sum to 0.9",
        ),
        (
            {"custody.nnrc.choices": {"home": 1.0}},
            "custody.nnrc.choices.home",
            "expected a choice of return, stay or resettle:PARTY",
        ),
        (
            {"custody.nnrc.choices": {"resettle:x": 1.0}},
            "custody.nnrc.choices.resettle:x",
            "party 'x' is not defined",
        ),
        ({"custody.nnrc.trigger": "armistice"}, "custody.nnrc.trigger", "'deal' or 'activation'"),
        ({"custody.nnrc.death_hazard": 2}, "custody.nnrc.death_hazard", "<= 1"),
        ({"custody.nnrc.explanation": 90}, "custody.nnrc.explanation", "valid dictionary"),
    ],
)
def test_bad_custody_is_one_clear_error(change: dict, field: str, expected: str) -> None:  # type: ignore[type-arg]
    exc = error_of(QUIET.format(n=10, hazard=0.0), change)
    assert exc.field == field, str(exc)
    assert expected in exc.detail, str(exc)
    assert "Traceback" not in str(exc)


def test_a_custody_error_names_its_line() -> None:
    text = QUIET.format(n=10, hazard=0.0).replace("custodian: n", "custodian: india")
    exc = error_of(text)
    assert str(exc).startswith("c.yaml:14: custody.nnrc.custodian:"), str(exc)


def test_an_intermediary_can_be_the_custodian() -> None:
    text = QUIET.format(n=10, hazard=0.0).replace("custodian: n", "custodian: icrc")
    text += "intermediaries:\n  - {id: icrc, connects: [a, b]}\n"
    scn = loads_scenario(text)
    assert run(scn)[1].outcomes["handed_to_custody"] == 10


def test_pxsim_trace_tells_custody_at_the_horizon(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from sim.cli.main import main

    path = tmp_path / "c.yaml"
    path.write_text(QUIET.format(n=50, hazard=0.0).replace("horizon: 200", "horizon: 60"))
    assert main(["trace", str(path)]) == 0
    out = capsys.readouterr().out
    assert "neutral custody nnrc (n): a hands 50 b who refuse to go home" in out
    assert out.rstrip().splitlines()[-1] == (
        "-- at the horizon: 0 repatriated, 0 resettled, 0 died, 10 still held, "
        "50 in neutral custody; 0 deals, 0 collapsed, 0 talks"
    )
