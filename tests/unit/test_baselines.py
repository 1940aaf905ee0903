"""sim/fit/baselines.py: persistence and climatology forecasts from a dated record, and the
no-look-ahead property."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.fit import baselines
from sim.fit.baselines import MONTH_DAYS

M = MONTH_DAYS


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def same(a: baselines.BaselineForecast, b: baselines.BaselineForecast) -> bool:
    return (
        a.window == b.window
        and a.window_events == b.window_events
        and a.events_per_day == b.events_per_day
        and a.dispersion == b.dispersion
        and np.array_equal(a.people_per_event, b.people_per_event)
        and all(
            np.array_equal(getattr(a.samples, f), getattr(b.samples, f))
            for f in ("events", "people", "largest", "longest_gap")
        )
    )


def test_persistence_pace_on_a_hand_made_record() -> None:
    origin = 1000.0
    # two events in each of the last six months (10 and 20 days into each month, counted
    # back from the origin), sizes 10 and 30; older events are outside the window
    recent = [origin - M * i - d for i in range(6) for d in (10.0, 20.0)]
    old = [100.0, 200.0, 300.0]
    days = np.array(old + recent)
    sizes = np.array([500.0, 500.0, 500.0] + [10.0, 30.0] * 6)
    f = baselines.persistence(days, sizes, origin, 365, 4000, rng())
    assert f.rule == "persistence"
    assert f.window == pytest.approx((origin - 6 * M, origin))
    assert f.window_events == 12
    assert f.events_per_day == pytest.approx(12 / (6 * M))
    assert f.people_per_event == pytest.approx(20.0)
    assert math.isinf(f.dispersion)  # 2 a month every month: not over-dispersed -> Poisson
    assert f.events_mean == pytest.approx(12 / (6 * M) * 365)
    ev = f.samples.events
    assert ev.mean() == pytest.approx(f.events_mean, rel=0.03)
    assert ev.var() == pytest.approx(f.events_mean, rel=0.1)  # Poisson
    assert f.samples.people.mean() == pytest.approx(20.0 * f.events_mean, rel=0.03)
    assert set(np.unique(f.samples.largest)) <= {0.0, 10.0, 30.0}  # never the old 500s
    assert np.all(f.samples.longest_gap <= 365) and np.all(f.samples.longest_gap >= 0)


def test_dispersion_by_method_of_moments_on_monthly_counts() -> None:
    origin = 1000.0
    days = origin - 5.0 - np.zeros(12)  # all 12 events in the latest month: counts 12,0,0,0,0,0
    r = baselines.monthly_dispersion(days, origin - 6 * M, origin)
    mean, var = 2.0, (10**2 + 5 * 2**2) / 5  # = 24
    assert r == pytest.approx(mean**2 / (var - mean))
    f = baselines.persistence(days, np.ones(12), origin, 2 * 365, 20000, rng(1))
    assert f.dispersion == pytest.approx(r)
    assert f.events_dispersion == pytest.approx(r * 2 * 365 / M)
    mu, size = f.events_mean, f.events_dispersion
    assert f.samples.events.mean() == pytest.approx(mu, rel=0.03)
    assert f.samples.events.var() == pytest.approx(mu + mu**2 / size, rel=0.08)
    # fewer than two whole months: no estimate of the spread, Poisson
    assert math.isinf(baselines.monthly_dispersion(days, origin - 1.5 * M, origin))


def test_every_size_column_comes_from_the_same_event() -> None:
    days = np.arange(900.0, 1000.0, 7.0)
    a = np.arange(len(days), dtype=float) + 1
    sizes = np.column_stack([a, 2 * a])
    f = baselines.persistence(days, sizes, 1000.0, 180, 500, rng(2))
    assert f.samples.people.shape == (500, 2)
    assert np.array_equal(f.samples.people[:, 1], 2 * f.samples.people[:, 0])
    assert np.array_equal(f.samples.largest[:, 1], 2 * f.samples.largest[:, 0])
    assert f.people_per_event == pytest.approx([a.mean(), 2 * a.mean()])


def test_people_and_largest_from_constant_sizes() -> None:
    days = np.arange(800.0, 1000.0, 5.0)
    f = baselines.climatology(days, np.full(len(days), 3.0), 1000.0, 90, 300, rng(3))
    s = f.samples
    assert np.array_equal(s.people, 3 * s.events)
    assert np.array_equal(s.largest, np.where(s.events > 0, 3.0, 0.0))
    assert np.all(s.longest_gap[s.events == 0] == 90)
    # n events cut [0, h] into n + 1 pieces (whole days): the longest is at least h/(n+1) - 1
    assert np.all(s.longest_gap >= 90 / (s.events + 1) - 1)


def test_climatology_and_persistence_on_a_record_with_a_change_of_pace() -> None:
    # one event a month for two years, then four a month for six months; origin at 30 months
    slow = [M * (i + 0.5) for i in range(24)]
    fast = [M * (24 + i) + d for i in range(6) for d in (3.0, 10.0, 17.0, 24.0)]
    days = np.array(slow + fast)
    sizes = np.array([50.0] * 24 + [10.0] * 24)
    origin = 30 * M
    p = baselines.persistence(days, sizes, origin, 180, 4000, rng(4))
    c = baselines.climatology(days, sizes, origin, 180, 4000, rng(4))
    c0 = baselines.climatology(days, sizes, origin, 180, 4000, rng(4), start=0.0)
    assert p.events_per_day == pytest.approx(24 / (6 * M))
    assert c.window == pytest.approx((0.5 * M, origin))  # from the first event
    assert c.events_per_day == pytest.approx(48 / (29.5 * M))
    assert c0.events_per_day == pytest.approx(48 / (30 * M))
    assert p.people_per_event == pytest.approx(10.0)
    assert c.people_per_event == pytest.approx(30.0)
    assert p.samples.events.mean() > 2 * c.samples.events.mean()
    # climatology expects fewer but larger events: more people, larger largest
    assert c.samples.people.mean() == pytest.approx(30 * c.events_mean, rel=0.05)
    assert p.samples.people.mean() == pytest.approx(10 * p.events_mean, rel=0.05)
    assert np.median(c.samples.largest) == 50.0
    assert np.all(p.samples.largest <= 10.0)
    assert np.median(c.samples.longest_gap) > np.median(p.samples.longest_gap)


def test_empty_windows_forecast_nothing() -> None:
    origin = 1000.0
    old = np.array([10.0, 20.0])  # long before the last six months
    p = baselines.persistence(old, np.array([5.0, 6.0]), origin, 365, 50, rng())
    assert p.window_events == 0 and p.events_per_day == 0.0
    assert np.all(p.samples.events == 0) and np.all(p.samples.people == 0)
    assert np.all(p.samples.largest == 0) and np.all(p.samples.longest_gap == 365)
    assert p.people_per_event == 0.0
    none = baselines.climatology(np.array([]), np.array([]), origin, 90, 50, rng())
    assert none.window_events == 0 and np.all(none.samples.longest_gap == 90)
    after = baselines.climatology(np.array([1000.0, 1001.0]), np.ones(2), origin, 90, 5, rng())
    assert after.window_events == 0  # an event on the origin day is already the future


def test_datetime_input_equals_float_days() -> None:
    dates = np.array(["2023-01-05", "2023-02-11", "2023-03-01", "2023-05-20"], "datetime64[D]")
    sizes = np.array([4.0, 8.0, 2.0, 6.0])
    origin = np.datetime64("2023-06-01")
    a = baselines.persistence(dates, sizes, origin, 91, 200, rng(5))
    b = baselines.persistence(
        dates.astype(float),
        sizes,
        float(origin.astype("datetime64[D]").astype(float)),
        91,
        200,
        rng(5),
    )
    assert same(a, b)
    assert a.origin == float(np.datetime64("2023-06-01").astype(float))


def test_observed_outcomes_and_longest_gap() -> None:
    days = np.array([5.0, 100.0, 103.0, 103.0, 150.0, 400.0])
    sizes = np.array([[1, 1], [10, 12], [3, 4], [20, 1], [7, 7], [99, 99]], dtype=float)
    o = baselines.observed(days, sizes, 100.0, 90)  # days 100 … 189
    assert float(o.events) == 4
    assert o.people == pytest.approx([40, 24])
    assert o.largest == pytest.approx([20, 12])
    assert float(o.longest_gap) == 47  # 103 -> 150 (150 -> 190 is 40)
    empty = baselines.observed(days, sizes[:, 0], 200.0, 100)
    assert float(empty.events) == 0 and float(empty.people) == 0 and float(empty.largest) == 0
    assert float(empty.longest_gap) == 100
    assert baselines.longest_gap(days, 150.0, 10) == 10  # event on the origin: 150 -> 160


record_days = st.lists(st.integers(0, 999), max_size=40)
future_days = st.lists(st.integers(1000, 3000), min_size=1, max_size=20)


@settings(max_examples=40, deadline=None)
@given(record_days, future_days, st.integers(0, 2**32 - 1))
def test_no_look_ahead_events_at_or_after_the_origin_change_nothing(
    past: list[int], future: list[int], seed: int
) -> None:
    origin = 1000.0
    days = np.array(past, dtype=float)
    sizes = (np.arange(len(days)) % 7 + 1).astype(float)
    more_days = np.concatenate([days, np.array(future, dtype=float)])
    more_sizes = np.concatenate([sizes, np.full(len(future), 1000.0)])
    order = np.random.default_rng(seed).permutation(len(more_days))  # any order of the rows
    more_days, more_sizes = more_days[order], more_sizes[order]
    for rule in (baselines.persistence, baselines.climatology):
        a = rule(days, sizes, origin, 180, 50, np.random.default_rng(seed))
        b = rule(more_days, more_sizes, origin, 180, 50, np.random.default_rng(seed))
        assert same(a, b)
