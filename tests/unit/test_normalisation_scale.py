"""Issue 10 §4: does "five times the captures makes an exchange less likely" come from the
per-agenda normalisation of values (``sim.model.negotiation.Agenda.renormalise``) rather than
from anything a negotiator would do?

The seed case's three-way agenda (Ukraine, Russia, North Korea; values as in
``scenarios/kursk_2025.yaml``): Ukraine holds ``n`` North Koreans and 100 Russians, Russia
holds 100 Ukrainians and pairs one for one. Everything is held fixed except ``n``, and the same
offer (2 North Koreans home, 2 Ukrainians for them, 50 Russians for 50 Ukrainians) is put to
the parties. Its raw value to every party is the same whatever ``n``; its normalised value,
on which aspirations and acceptance work, is not: North Korea's falls from 1 to 2/n, because
its scale is "all of its soldiers on the table coming home". The same offer that North Korea
accepts with 2 held, it rejects with 10 held, at the same aspiration. That is the mechanism:
see docs/validation.md ("Five times the captures") for how much of the simulated effect it
accounts for.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.negotiation import Transfer, accepts, build_agenda
from sim.scenario.parties import Norms, Party, Values

UA, RU, KP = 0, 1, 2
PARTIES = [
    Party(id="ukraine", values=Values(own=1.0, chip=0.5)),
    Party(
        id="russia",
        allies=["dprk"],
        values=Values(own=1.0, ally=0.3, chip=0.6),
        norms=Norms(one_for_one=True),
    ),
    Party(id="dprk", values=Values(own=0.2, chip=0.0)),
]
ALLIES = [set(), {KP}, set()]
DPRK_HOME = Transfer(UA, KP, KP)
RUSSIANS_HOME = Transfer(UA, RU, RU)
UKRAINIANS_HOME = Transfer(RU, UA, UA)
OFFER = {DPRK_HOME: 2, RUSSIANS_HOME: 50, UKRAINIANS_HOME: 52}


def agenda_with(dprk_held: int, ukrainians_held: int = 100):
    avail = {DPRK_HOME: dprk_held, RUSSIANS_HOME: 100, UKRAINIANS_HOME: ukrainians_held}
    return build_agenda((UA, RU, KP), avail, {}, PARTIES, ALLIES)


def units_for(agenda, wanted: dict[Transfer, int]) -> np.ndarray:
    """The units per line of ``agenda`` that move exactly ``wanted`` (lines are bundles)."""
    x = np.zeros(len(agenda.lines))
    left = dict(wanted)
    for i, line in enumerate(agenda.lines):
        units = min(left.get(tr, 0) // k for tr, k in line.parts)
        x[i] = min(units, line.bound)
        for tr, k in line.parts:
            left[tr] = left.get(tr, 0) - int(x[i]) * k
    assert all(v == 0 for v in left.values()), left
    return x


def raw_value(agenda, x: np.ndarray) -> np.ndarray:
    return agenda.values @ x


@pytest.mark.parametrize("factor", [2, 5, 10])
def test_same_offer_same_raw_value_whatever_the_stock(factor: int) -> None:
    two, many = agenda_with(2), agenda_with(2 * factor)
    x2, xm = units_for(two, OFFER), units_for(many, OFFER)
    assert two.transfers(x2) == many.transfers(xm) == OFFER
    np.testing.assert_allclose(raw_value(two, x2), raw_value(many, xm))


def test_north_koreas_normalised_value_of_the_same_offer_falls_with_the_stock() -> None:
    u = {n: agenda_with(n).utility(units_for(agenda_with(n), OFFER)) for n in (2, 4, 10)}
    assert u[2][KP] == pytest.approx(1.0)  # 2 of 2 home: its best deal
    assert u[4][KP] == pytest.approx(0.5)
    assert u[10][KP] == pytest.approx(0.2)  # the same 2 home, now 2 of 10
    # Russia pays 0.3 less per North Korean than per Russian: its scale moves a little too
    assert u[10][RU] != pytest.approx(u[2][RU], abs=1e-3)


def test_the_same_offer_is_accepted_or_rejected_only_because_of_the_stock() -> None:
    """Same offer, same aspirations (North Korea at 0.6, half way down a linear concession
    from 1 to its reservation 0.2): accepted when Ukraine holds 2, rejected when it holds 10."""
    aspirations = [0.5, 0.5, 0.6]
    verdicts = {}
    for n in (2, 10):
        ag = agenda_with(n)
        verdicts[n] = accepts(ag, units_for(ag, OFFER), aspirations, [True, True, True])
    assert verdicts[2] == [True, True, True]
    assert verdicts[10] == [True, True, False]  # only North Korea changed its mind


def test_a_larger_russian_stock_does_not_rescale_under_one_for_one() -> None:
    """Five times the Ukrainians held by Russia (200 or 1,000) leaves the scale alone:
    one-for-one pairs them with the 100 Russians and 2 North Koreans Ukraine can give, so the
    lines' bounds, hence every party's normalised value of the same offer, do not move. The
    stock effect is one of lines whose bound grows with the stock: the North Korean line (a
    handful of prisoners, far below the deal-size cap that bounds the mass lines in the
    simulation)."""
    small, large = agenda_with(2, 200), agenda_with(2, 1000)
    assert [ln.bound for ln in small.lines] == [ln.bound for ln in large.lines]
    np.testing.assert_allclose(
        small.utility(units_for(small, OFFER)), large.utility(units_for(large, OFFER))
    )
