"""sim/negotiation.py: agenda values, normalisation, offers, one-for-one pairing, acceptance."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from sim.model.negotiation import (
    Agenda,
    Line,
    Transfer,
    _net,
    accepts,
    build_agenda,
    make_offer,
    pair_one_for_one,
    unit_value,
)
from sim.scenario.parties import Norms, Party, Values

A, B, C = 0, 1, 2


def party(pid: str, **kw) -> Party:
    return Party(id=pid, **kw)


def three_parties(**norms_a) -> list[Party]:
    return [
        party(
            "a", values=Values(own=1.0, ally=0.5, chip=0.3, defector=0.2), norms=Norms(**norms_a)
        ),
        party("b", values=Values(own=2.0, ally=0.7, chip=0.4, defector=0.1)),
        party("c", values=Values(own=1.5, ally=0.5, chip=0.25, defector=0.3)),
    ]


ALLIES = [{C}, set(), set()]  # a counts c as an ally

T_A_HOME = Transfer(B, A, A)  # b frees a's people
T_C_HOME = Transfer(B, C, C)  # b frees c's people (a's ally)
T_B_HOME = Transfer(A, B, B)  # a frees b's people
T_C_ASYLUM_A = Transfer(B, C, A, resettle=True)  # b hands a c-national to a (asylum)


def all_integer_deals(agenda: Agenda):
    m = agenda.bounds().astype(int)
    for xs in itertools.product(*(range(k + 1) for k in m)):
        yield np.array(xs, dtype=float)


# ------------------------------------------------------------------------- values
def test_build_agenda_values_own_ally_chip_defector() -> None:
    parties = three_parties()
    avail = {T_A_HOME: 4, T_C_HOME: 3, T_B_HOME: 5, T_C_ASYLUM_A: 2}
    ag = build_agenda((A, B, C), avail, {(A, T_A_HOME): 2.0}, parties, ALLIES)
    assert ag.parties == (A, B, C)
    assert [ln.parts for ln in ag.lines] == [((tr, 1),) for tr in avail]
    assert [ln.bound for ln in ag.lines] == [4, 3, 5, 2]
    expected = np.array(
        [
            # own x weight 2, ally, -chip, defector
            [2.0, 0.5, -0.3, 0.2],
            # b: -chip, -chip, own, honours the wish so no chip lost on asylum
            [-0.4, -0.4, 2.0, 0.0],
            # c: nothing, own, nothing, nothing (resettlement is not "coming home")
            [0.0, 1.5, 0.0, 0.0],
        ]
    )
    np.testing.assert_allclose(ag.values, expected)


def test_holder_not_honouring_wishes_loses_chip_on_asylum() -> None:
    parties = three_parties()
    parties[B] = party("b", values=Values(chip=0.4), honours_preferences=False)
    assert unit_value(parties[B], B, T_C_ASYLUM_A, 1.0, set()) == pytest.approx(-0.4)
    assert unit_value(parties[B], B, T_C_ASYLUM_A, 3.0, set()) == pytest.approx(-1.2)
    # a party taking in a defector of its own nationality is not possible; a national of
    # another party resettled with a third gives the home party nothing
    assert unit_value(parties[C], C, T_C_ASYLUM_A, 1.0, set()) == 0.0


def test_zero_bound_transfers_are_dropped() -> None:
    ag = build_agenda((A, B), {T_A_HOME: 0, T_B_HOME: 2}, {}, three_parties(), ALLIES)
    assert [ln.parts[0][0] for ln in ag.lines] == [T_B_HOME]
    assert build_agenda((A, B), {}, {}, three_parties(), ALLIES).is_empty()


def test_agenda_helpers() -> None:
    ag = build_agenda((A, B, C), {T_A_HOME: 4, T_C_HOME: 3}, {}, three_parties(), ALLIES)
    assert not ag.is_empty()
    assert ag.nationalities() == {A, C}
    assert ag.transfers(np.array([2.0, 0.0])) == {T_A_HOME: 2}
    assert ag.transfers(np.array([4.0, 3.0])) == {T_A_HOME: 4, T_C_HOME: 3}


# ------------------------------------------------------------------------- normalisation
@pytest.mark.parametrize("weights", [{}, {(A, T_A_HOME): 3.0, (B, T_B_HOME): 0.5}])
def test_normalisation_best_is_one_worst_is_zero(weights: dict) -> None:
    avail = {T_A_HOME: 2, T_C_HOME: 1, T_B_HOME: 3, T_C_ASYLUM_A: 1}
    ag = build_agenda((A, B, C), avail, weights, three_parties(), ALLIES)
    m = ag.bounds()
    utils = np.array([ag.utility(x) for x in all_integer_deals(ag)])
    np.testing.assert_allclose(utils.max(axis=0), 1.0)
    np.testing.assert_allclose(utils.min(axis=0), 0.0, atol=1e-12)
    for k in range(len(ag.parties)):
        best = np.where(ag.values[k] > 0, m, 0.0)
        worst = np.where(ag.values[k] < 0, m, 0.0)
        assert ag.utility(best)[k] == pytest.approx(1.0)
        assert ag.utility(worst)[k] == pytest.approx(0.0)
    # the empty deal sits where the losses would take it: for a, 9 units of loss range
    # (gains 2*1 + 1*0.5 + 1*0.2 = 2.7, losses 3*0.3 = 0.9 without weights)
    if not weights:
        assert ag.utility(np.zeros(len(ag.lines)))[A] == pytest.approx(0.9 / 3.6)
        assert ag.utility(np.zeros(len(ag.lines)))[C] == pytest.approx(0.0)


def test_normalisation_is_linear_in_raw_value() -> None:
    ag = build_agenda((A, B), {T_A_HOME: 3, T_B_HOME: 3}, {}, three_parties(), ALLIES)
    deals = list(all_integer_deals(ag))
    raw = np.array([ag.values @ x for x in deals])
    norm = np.array([ag.utility(x) for x in deals])
    for k in range(2):
        # utility = (raw - min raw) / (max raw - min raw)
        expect = (raw[:, k] - raw[:, k].min()) / (raw[:, k].max() - raw[:, k].min())
        np.testing.assert_allclose(norm[:, k], expect, atol=1e-12)


# ------------------------------------------------------------------------- offers
def two_line_agenda() -> Agenda:
    # proposer gains on line 0 and loses on line 1; the other party the reverse
    lines = [Line(((T_A_HOME, 1),), 2), Line(((T_B_HOME, 1),), 2)]
    return Agenda((A, B), lines, np.array([[1.0, -1.0], [-1.0, 1.0]]))


def test_make_offer_hand_example() -> None:
    ag = two_line_agenda()
    # a's utility: 0.25 x0 - 0.25 x1 + 0.5; asking 0.75 needs x0 - x1 >= 1; b wants x1 - x0
    # as large as possible, so x0 - x1 = 1; ties between lines broken by line order -> (2, 1)
    np.testing.assert_array_equal(make_offer(ag, 0, 0.75), [2.0, 1.0])
    # asking nothing: the deal best for b
    np.testing.assert_array_equal(make_offer(ag, 0, 0.0), [0.0, 2.0])
    # asking everything: the deal best for a
    np.testing.assert_array_equal(make_offer(ag, 0, 1.0), [2.0, 0.0])
    # asking more than is possible: still the deal best for a
    np.testing.assert_array_equal(make_offer(ag, 0, 1.5), [2.0, 0.0])
    # b proposing at 0.75: any deal with x1 - x0 = 1 is optimal for a; lines tie, line 0 moves
    # first (down to 0), then line 1 up by one
    np.testing.assert_array_equal(make_offer(ag, 1, 0.75), [0.0, 1.0])


def test_make_offer_rounds_in_proposers_favour() -> None:
    lines = [Line(((T_A_HOME, 1),), 3), Line(((T_B_HOME, 1),), 3)]
    ag = Agenda((A, B), lines, np.array([[1.0, -1.0], [-1.0, 1.0]]))
    # a's utility (x0 - x1 + 3) / 6; asking 0.6 needs x0 - x1 >= 0.6 -> rounds to 1, not 0
    x = make_offer(ag, 0, 0.6)
    assert ag.utility(x)[0] >= 0.6
    assert x[0] - x[1] == 1
    # asking 0.5 exactly (the empty deal's level) needs x0 - x1 >= 0: b gets nothing extra
    x = make_offer(ag, 0, 0.5)
    assert x[0] - x[1] == 0


def random_agenda(rng: np.random.Generator) -> Agenda:
    n_lines = int(rng.integers(1, 5))
    n_parties = int(rng.integers(2, 4))
    lines = [Line(((T_A_HOME, 1),), int(rng.integers(1, 4))) for _ in range(n_lines)]
    values = rng.normal(size=(n_parties, n_lines)).round(2)
    return Agenda(tuple(range(n_parties)), lines, values)


@pytest.mark.parametrize("seed", range(6))
def test_make_offer_matches_brute_force_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(60):
        ag = random_agenda(rng)
        p = int(rng.integers(len(ag.parties)))
        asp = float(rng.uniform(0.0, 1.0))
        others = [q for q in range(len(ag.parties)) if q != p]
        x = make_offer(ag, p, asp)
        m = ag.bounds()
        assert np.all(x == np.round(x)) and np.all(x >= 0) and np.all(x <= m)
        u = ag.utility(x)
        feasible = [d for d in all_integer_deals(ag) if ag.utility(d)[p] >= asp - 1e-9]
        if not feasible:
            best_p = max(ag.utility(d)[p] for d in all_integer_deals(ag))
            assert u[p] == pytest.approx(best_p)
            continue
        assert u[p] >= asp - 1e-9, "proposer below its aspiration"
        opt = max(ag.utility(d)[others].sum() for d in feasible)
        got = u[others].sum()
        # the greedy solves the relaxed problem exactly; rounding one fractional line in the
        # proposer's favour costs the others at most that line's per-unit value to them
        c = np.abs(ag.d[others].sum(axis=0)).max()
        assert got <= opt + 1e-9
        assert got >= opt - c - 1e-9, (got, opt, c)


def test_make_offer_is_pareto_optimal_for_other_on_integer_example() -> None:
    # bounds where rounding never bites (every per-unit value a multiple of the step)
    parties = three_parties()
    avail = {T_A_HOME: 2, T_C_HOME: 2, T_B_HOME: 2}
    ag = build_agenda((A, B), avail, {}, parties, ALLIES)
    for asp in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        x = make_offer(ag, 0, asp)
        u = ag.utility(x)
        assert u[0] >= asp - 1e-9
        for d in all_integer_deals(ag):
            ud = ag.utility(d)
            if ud[0] >= asp - 1e-9:
                assert ud[1] <= u[1] + 1e-9, (asp, x, d)


def test_make_offer_on_built_agenda_three_parties() -> None:
    avail = {T_A_HOME: 2, T_C_HOME: 2, T_B_HOME: 3, T_C_ASYLUM_A: 1}
    ag = build_agenda((A, B, C), avail, {}, three_parties(), ALLIES)
    deals = list(all_integer_deals(ag))
    for proposer in range(3):
        others = [q for q in range(3) if q != proposer]
        for asp in np.linspace(0, 1, 11):
            x = make_offer(ag, proposer, float(asp))
            u = ag.utility(x)
            assert u[proposer] >= asp - 1e-9
            opt = max(
                ag.utility(d)[others].sum() for d in deals if ag.utility(d)[proposer] >= asp - 1e-9
            )
            c = np.abs(ag.d[others].sum(axis=0)).max()
            assert opt - c - 1e-9 <= u[others].sum() <= opt + 1e-9


# ------------------------------------------------------------------------- one-for-one
def used_per_transfer(lines: list[Line]) -> Counter:
    used: Counter = Counter()
    for ln in lines:
        for tr, k in ln.parts:
            used[tr] += k * ln.bound
    return used


def test_pair_one_for_one_simple() -> None:
    lines = [
        Line(((T_A_HOME, 1),), 5),  # a gets 1
        Line(((T_B_HOME, 1),), 3),  # a gives 1
        Line(((T_C_HOME, 1),), 4),  # neutral for a without allies
    ]
    out = pair_one_for_one(lines, A, set())
    assert len(out) == 2
    assert out[0].parts == ((T_C_HOME, 1),) and out[0].bound == 4
    assert dict(out[1].parts) == {T_A_HOME: 1, T_B_HOME: 1}
    assert out[1].bound == 3


def test_pair_one_for_one_unequal_counts() -> None:
    lines = [Line(((T_A_HOME, 2),), 6), Line(((T_B_HOME, 3),), 5)]
    out = pair_one_for_one(lines, A, set())
    # 3 units of the +2 line against 2 units of the -3 line: 6 for 6
    assert len(out) == 1
    assert dict(out[0].parts) == {T_A_HOME: 6, T_B_HOME: 6}
    assert out[0].bound == 2
    assert _net(out[0], A, set()) == 0


def test_pair_one_for_one_counts_allies_and_pairs_scarce_first() -> None:
    lines = [
        Line(((T_A_HOME, 1),), 100),  # own, plentiful
        Line(((T_C_HOME, 1),), 2),  # ally, scarce
        Line(((T_B_HOME, 1),), 3),  # a gives
    ]
    out = pair_one_for_one(lines, A, {C})
    assert [dict(ln.parts) for ln in out] == [
        {T_C_HOME: 1, T_B_HOME: 1},
        {T_A_HOME: 1, T_B_HOME: 1},
    ]
    assert [ln.bound for ln in out] == [2, 1]


@pytest.mark.parametrize("seed", range(5))
def test_pair_one_for_one_balanced_and_within_bounds(seed: int) -> None:
    rng = np.random.default_rng(seed)
    transfers = [
        Transfer(h, n, n) for h in range(3) for n in range(3) if h != n
    ]  # 6 repatriation flows among 3 parties
    for _ in range(30):
        chosen = rng.permutation(len(transfers))[: rng.integers(2, 7)]
        lines = [
            Line(((transfers[i], int(rng.integers(1, 4))),), int(rng.integers(1, 12)))
            for i in chosen
        ]
        q = int(rng.integers(3))
        allies = {int(rng.integers(3))} - {q} if rng.random() < 0.5 else set()
        out = pair_one_for_one(lines, q, allies)
        for ln in out:
            assert ln.bound > 0
            assert _net(ln, q, allies) == 0
        avail = used_per_transfer(lines)
        for tr, n in used_per_transfer(out).items():
            assert n <= avail[tr], (tr, n, avail[tr])


def test_build_agenda_one_for_one_for_both_parties() -> None:
    parties = [
        party("a", norms=Norms(one_for_one=True)),
        party("b", norms=Norms(one_for_one=True)),
    ]
    avail = {Transfer(B, A, A): 7, Transfer(A, B, B): 4}
    ag = build_agenda((A, B), avail, {}, parties, [set(), set()])
    assert len(ag.lines) == 1
    assert dict(ag.lines[0].parts) == {Transfer(B, A, A): 1, Transfer(A, B, B): 1}
    assert ag.lines[0].bound == 4
    for q in (A, B):
        assert _net(ag.lines[0], q, set()) == 0


# ------------------------------------------------------------------------- all-for-all
def test_all_for_all_single_all_or_nothing_line() -> None:
    avail = {T_A_HOME: 4, T_C_HOME: 3, T_B_HOME: 5}
    ag = build_agenda((A, B, C), avail, {}, three_parties(all_for_all=True), ALLIES)
    assert len(ag.lines) == 1
    assert ag.lines[0].bound == 1
    assert dict(ag.lines[0].parts) == avail
    assert ag.transfers(np.array([1.0])) == avail
    # the values of the single line are the sums of the per-prisoner values
    np.testing.assert_allclose(ag.values[:, 0], [4 * 1.0 + 3 * 0.5 - 5 * 0.3, -7 * 0.4 + 10.0, 4.5])


def test_all_for_all_by_any_participant() -> None:
    parties = three_parties()
    parties[C] = party("c", norms=Norms(all_for_all=True))
    avail = {T_A_HOME: 4, T_B_HOME: 5}
    assert len(build_agenda((A, B), avail, {}, parties, ALLIES).lines) == 2
    assert len(build_agenda((A, B, C), avail, {}, parties, ALLIES).lines) == 1


# ------------------------------------------------------------------------- acceptance
def test_accepts_rejects_empty_deal() -> None:
    ag = two_line_agenda()
    np.testing.assert_array_equal(accepts(ag, np.zeros(2), np.zeros(2)), [False, False])


def test_accepts_compares_utility_with_aspiration() -> None:
    ag = two_line_agenda()
    x = np.array([2.0, 1.0])  # utilities a 0.75, b 0.25
    np.testing.assert_allclose(ag.utility(x), [0.75, 0.25])
    np.testing.assert_array_equal(accepts(ag, x, np.array([0.75, 0.25])), [True, True])
    np.testing.assert_array_equal(accepts(ag, x, np.array([0.76, 0.2])), [False, True])
    np.testing.assert_array_equal(accepts(ag, x, np.array([0.5, 0.3])), [True, False])
