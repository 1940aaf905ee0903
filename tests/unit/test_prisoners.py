"""sim/model/prisoners.py: the prisoner table, on a handful of prisoners whose story is known —
who is held when, the census and its checks, defaults, wishes."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.prisoners import (
    COLUMNS,
    DIED,
    HELD,
    INF,
    REPATRIATED,
    RESETTLED,
    RETURN,
    STAY,
    PrisonerTable,
    pref_code,
    pref_name,
)

PARTIES = ["a", "b", "c"]


def table(now: float = INF) -> PrisonerTable:
    """Five prisoners of parties a (0) and b (1), as the table stands at day ``now``:

    - row 0: held by a since before the start (day -10), dies on day 5;
    - row 1: held by b since before the start (day -1), still held at the end;
    - row 2: taken by a on day 2, released and resettled by a on day 8;
    - row 3: taken by a on day 3, handed over in deal 1 on day 6;
    - row 4: taken by b on day 9, wishes to stay from day 4 on.

    Everything but the deal is drawn in advance; the deal is written when it happens, and the
    table is asked about the present, not the past: the deal is marked only if ``now`` >= 6.
    """
    tab = PrisonerTable(n_parties=3)
    tab.append(
        {
            "source": np.array([-1, -2]),
            "holder": np.array([0, 1]),
            "nat": np.array([1, 0]),
            "t_cap": np.array([-10.0, -1.0]),
            "t_death": np.array([5.0, INF]),
        },
        {
            "source": np.array([0, 0, 1]),
            "holder": np.array([0, 0, 1]),
            "nat": np.array([1, 1, 0]),
            "t_cap": np.array([2.0, 3.0, 9.0]),
            "t_exo": np.array([8.0, INF, INF]),
            "exo_fate": np.array([RESETTLED, 0, 0]),
            "pref1": np.array([0, 0, STAY]),
            "t_drift": np.array([INF, INF, 4.0]),
        },
    )
    tab.reindex()
    if now >= 6.0:
        tab.mark_deal(np.array([3]), key=0 * 3 + 1, t=6.0, fate=REPATRIATED, dest=1, deal_id=1)
    return tab


def test_default_columns() -> None:
    """A block that gives only capture times gets every other column's default."""
    tab = PrisonerTable(n_parties=2)
    tab.append({"t_cap": np.array([1.0, 2.0, 3.0, 4.0])}, {"t_cap": np.array([], dtype=float)})
    assert len(tab) == 4
    for k in ("t_drift", "t_death", "t_exo", "t_deal", "t_cust", "t_cust_end", "drift_e"):
        assert np.all(tab.cols[k] == INF), k  # never, until drawn
    assert np.all(tab.death_e == INF)
    for k in ("dest", "deal_id", "cust_dest", "cust_id"):
        assert tab.cols[k].tolist() == [-1] * 4, k  # nobody, no deal, no custody
    for k in ("hum_delay", "asy_delay"):
        assert tab.cols[k].tolist() == [0.0] * 4, k
    for k in ("source", "holder", "nat", "wounded", "severe", "cat", "pref0", "pref1"):
        col = tab.cols[k]
        assert col.dtype == COLUMNS[k] and not col.any(), k
    empty = PrisonerTable()
    empty.append({"t_cap": np.array([], dtype=float)})
    assert empty.t_cap.shape == (0,) and empty.dest.dtype == COLUMNS["dest"]


def test_append_fills_missing_columns_with_their_defaults() -> None:
    tab = table()
    assert len(tab) == 5
    assert {k: tab.cols[k].dtype for k in COLUMNS} == {k: np.dtype(v) for k, v in COLUMNS.items()}
    assert tab.t_deal.tolist() == [INF, INF, INF, 6.0, INF]  # columns as attributes
    assert tab.dest.tolist() == [-1, -1, -1, 1, -1]
    assert tab.pref0.tolist() == [RETURN] * 5
    with pytest.raises(AttributeError):
        _ = tab.no_such_column


def test_rows_are_sorted_by_capture_time_and_exits_cached() -> None:
    tab = table()
    assert tab.t_cap.tolist() == [-10.0, -1.0, 2.0, 3.0, 9.0]
    assert tab.t_out.tolist() == [5.0, INF, 8.0, 6.0, INF]  # the first of the three exits
    tab.check_index()
    assert tab.upto(2.0) == 3 and tab.upto(1.9) == 2


@pytest.mark.parametrize(
    ("t", "held"),
    [
        (-5.0, [0]),
        (0.0, [0, 1]),
        (2.5, [0, 1, 2]),
        (5.0, [1, 2, 3]),  # row 0 died on day 5: not held at 5
        (6.0, [1, 2]),  # row 3 handed over on day 6
        (8.0, [1]),
        (9.0, [1, 4]),
    ],
)
def test_held_at_time_t(t: float, held: list[int]) -> None:
    tab = table(now=t)
    assert np.flatnonzero(tab.held_mask(t)).tolist() == held
    assert tab.held_rows(t).tolist() == held  # longest held first
    assert sum(g.held(t) for g in tab.groups.values()) == len(held)


def test_census_and_fates_over_time() -> None:
    counts = ("initial_held", "captured", "repatriated", "resettled", "died", "held")
    expected = {
        0.0: [2, 0, 0, 0, 0, 2],
        5.0: [2, 2, 0, 0, 1, 3],
        6.0: [2, 2, 1, 0, 1, 2],
        8.0: [2, 2, 1, 1, 1, 1],
        10.0: [2, 3, 1, 1, 1, 2],
    }
    for t, values in expected.items():
        census = table(now=t).census(t)  # raises if conservation or any count disagrees
        assert [census[k] for k in counts] == values, t
    assert table(now=5.5).fates(5.5).tolist() == [DIED, HELD, HELD, HELD, HELD]
    assert table().fates(10.0).tolist() == [DIED, HELD, RESETTLED, REPATRIATED, HELD]


def test_census_catches_a_stale_index() -> None:
    tab = table()
    tab.cols["t_deal"][2] = 7.0  # an exit written without refreshing the cached exit times
    with pytest.raises(AssertionError, match="cached exit times are stale"):
        tab.check_index()
    with pytest.raises(AssertionError, match=r"inconsistent at t=7\.5"):
        tab.census(7.5)


def test_a_deal_is_seen_by_the_group_counts() -> None:
    before, after = table(now=5.9), table(now=6.0)
    group = before.groups[0 * 3 + 1]  # held by a, of b: rows 0, 2, 3
    assert group.rows.tolist() == [0, 2, 3]
    assert [group.held(t) for t in (1.0, 4.0, 5.5)] == [1, 3, 2]
    assert [after.groups[1].held(t) for t in (6.0, 7.0, 8.0)] == [1, 1, 0]
    assert group.held(6.0) == 2  # without the deal, row 3 would still be held


def test_wishes_change_at_their_drift_time() -> None:
    tab = table()
    assert tab.pref_at(3.9)[4] == RETURN and tab.pref_at(4.0)[4] == STAY
    # the group whose wish changes must have its wishes looked up; the others need not
    assert tab.groups[1 * 3 + 0].simple is False  # held by b, of a: rows 1 and 4
    assert tab.groups[0 * 3 + 1].simple is True


def test_drop_removes_rows() -> None:
    tab = table()
    tab.drop(tab.t_cap > 2.5)
    assert tab.t_cap.tolist() == [-10.0, -1.0, 2.0]


def test_category_index_adds_new_categories_once() -> None:
    tab = PrisonerTable()
    assert [tab.category_index(c) for c in ("soldier", "officer", "soldier")] == [0, 1, 0]
    assert tab.categories == ["soldier", "officer"]


@pytest.mark.parametrize("key", ["return", "stay", "resettle:a", "resettle:b", "resettle:c"])
def test_wish_codes_round_trip(key: str) -> None:
    index = {pid: i for i, pid in enumerate(PARTIES)}
    assert pref_name(pref_code(key, index), PARTIES) == key


def test_wish_codes() -> None:
    index = {pid: i for i, pid in enumerate(PARTIES)}
    assert [pref_code(k, index) for k in ("return", "stay", "resettle:a", "resettle:c")] == [
        RETURN,
        STAY,
        2,
        4,
    ]
    with pytest.raises(KeyError):
        pref_code("resettle:nowhere", index)
