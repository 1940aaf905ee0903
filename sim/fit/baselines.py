"""The two naive rules of thumb a backtest holds pxsim's forecasts against: pure numpy.

Both read a record of dated events (exchanges): ``days`` (float days since an epoch, or
``datetime64``) and ``sizes`` (people returned by each event: one column, or one column per
side). Standing at ``origin``, they forecast the ``horizon`` days ``[origin, origin + h)`` as
an ensemble of ``n`` samples of four outcomes (:class:`Outcomes`): the events, the people
returned, the largest single event and the longest stretch without one.

* **persistence** — the next months look like the last six (``window_days``, six months of
  365.25/12 days): the pace and the sizes of the events in ``[origin − 6 months, origin)``;
* **climatology** — the next months look like the whole history: the events from the first
  (or from ``start``, if given) up to the origin.

No look-ahead, by construction: everything at or after ``origin`` is cut before anything is
computed, so no later event can change a forecast (a test proves it).

The rule, for a window of length w holding m events:

* **pace** λ = m / w events per day. The window is cut into bins of a month (365.25/12 days)
  counted back from the origin (an older remainder shorter than a month counts for the pace
  only), and the dispersion of the monthly counts c is estimated by the method of moments,
  ``r = mean(c)² / (var(c) − mean(c))``. When the counts vary no more than a Poisson's
  (var ≤ mean), or there are fewer than two whole months, r = ∞: the forecast is never less
  dispersed than a Poisson process at the window's pace (exchanges cluster; they are not
  more regular than chance).
* **events**: each month of the horizon (the last one a fraction) is an independent negative
  binomial with mean λ × its length and size r × its length in months; their total is then
  exactly NB(mean λh, size r·h/month) (same success probability), reported as
  ``events_mean`` / ``events_dispersion`` so that the count can be scored exactly
  (``scores.crps_negbin``). Months of a long horizon are independent: the spread grows like
  h, as a rule of thumb that knows nothing of regimes would have it.
* **timing**: within its month each event falls on a uniformly drawn whole day (offsets from
  the origin are floored, as the record is daily); several may share a day.
* **sizes**: each event's size is drawn with replacement from the window's events (a
  bootstrap of whole rows, so the sides of one exchange stay together); people returned is
  their sum, the largest event their maximum (0 without events).
* **longest gap**: the longest run of days between consecutive points of origin, the event
  days and the horizon's end ``origin + h`` (h when nothing happens); :func:`observed`
  measures the record the same way.

An empty window (no events before the origin, or none in the last six months) has pace 0:
the forecast is zero events, zero people, largest 0 and a gap of the whole horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

MONTH_DAYS = 365.25 / 12
PERSISTENCE_DAYS = 6 * MONTH_DAYS


@dataclass(frozen=True)
class Outcomes:
    """The four outcomes of a horizon. Observed: events and longest_gap are 0-d arrays,
    people and largest have one value per size column (shape () for 1-D sizes). Forecast:
    the same with a leading axis of n samples."""

    events: np.ndarray
    people: np.ndarray
    largest: np.ndarray
    longest_gap: np.ndarray


@dataclass(frozen=True)
class BaselineForecast:
    """A baseline's forecast at ``origin`` for ``[origin, origin + horizon)``."""

    rule: Literal["persistence", "climatology"]
    origin: float  # days since the epoch of the input (1970-01-01 for datetime64)
    horizon: float
    window: tuple[float, float]  # [start, origin) the pace was read from
    window_events: int
    events_per_day: float  # λ
    people_per_event: np.ndarray  # mean size in the window per column (0 when empty)
    dispersion: float  # r of a month's count (inf: Poisson)
    samples: Outcomes

    @property
    def events_mean(self) -> float:
        """Mean of the event count over the horizon, λh."""
        return self.events_per_day * self.horizon

    @property
    def events_dispersion(self) -> float:
        """Size of the horizon's negative binomial event count, r·h/month (inf: Poisson)."""
        return self.dispersion * self.horizon / MONTH_DAYS


def as_days(when: npt.ArrayLike) -> np.ndarray:
    """Days as floats: ``datetime64`` values become days since 1970-01-01."""
    a = np.asarray(when)
    if np.issubdtype(a.dtype, np.datetime64):
        return np.asarray(a.astype("datetime64[D]").astype(float))
    return np.asarray(a, dtype=float)


def _record(
    days: npt.ArrayLike, sizes: npt.ArrayLike, origin: float | np.datetime64
) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """The record before ``origin``, sorted by day (ties by size), sizes as (events, columns);
    the origin as days; whether the sizes were one column. Everything at or after the origin
    is cut here."""
    d = as_days(days)
    s = np.asarray(sizes, dtype=float)
    flat = s.ndim == 1
    s2 = s[:, None] if flat else s
    if d.ndim != 1 or s.ndim not in (1, 2) or len(d) != len(s2):
        raise ValueError(f"days {d.shape} and sizes {s.shape} must describe the same events")
    if not (np.all(np.isfinite(d)) and np.all(np.isfinite(s2))):
        raise ValueError("days and sizes must be finite")
    o = float(as_days(origin))
    before = d < o
    d, s2 = d[before], s2[before]
    # by day, ties by size: the forecast does not depend on the order of the rows
    order = np.lexsort((*s2.T[::-1], d))
    return d[order], s2[order], o, flat


def monthly_dispersion(days: np.ndarray, start: float, origin: float) -> float:
    """Method-of-moments size r of the monthly counts of ``days`` in ``[start, origin)``,
    months counted back from the origin; inf (Poisson) if not over-dispersed or < 2 months."""
    months = math.floor((origin - start) / MONTH_DAYS + 1e-9)
    if months < 2:
        return math.inf
    days = days[(days >= start) & (days < origin)]
    back = (origin - days) / MONTH_DAYS  # in (0, …]: month i holds back in (i, i + 1]
    idx = np.ceil(back).astype(int) - 1
    counts = np.bincount(idx[idx < months], minlength=months).astype(float)
    mean, var = float(counts.mean()), float(counts.var(ddof=1))
    if mean <= 0 or var <= mean:
        return math.inf
    return mean * mean / (var - mean)


def longest_gap(days: npt.ArrayLike, origin: float, horizon: float) -> float:
    """Longest run between consecutive points of origin, the event days in
    ``[origin, origin + horizon)`` and ``origin + horizon``."""
    d = as_days(days)
    inside = np.sort(d[(d >= origin) & (d < origin + horizon)])
    return float(np.max(np.diff(np.concatenate([[origin], inside, [origin + horizon]]))))


def observed(
    days: npt.ArrayLike,
    sizes: npt.ArrayLike,
    origin: float | np.datetime64,
    horizon: float,
) -> Outcomes:
    """What the record says happened in ``[origin, origin + horizon)``, measured as the
    baselines forecast it."""
    d = as_days(days)
    s = np.asarray(sizes, dtype=float)
    o = float(as_days(origin))
    inside = (d >= o) & (d < o + horizon)
    got = s[inside]
    largest = got.max(axis=0) if len(got) else np.zeros(s.shape[1:])
    return Outcomes(
        events=np.asarray(float(inside.sum())),
        people=np.asarray(got.sum(axis=0)),
        largest=np.asarray(largest),
        longest_gap=np.asarray(longest_gap(d, o, horizon)),
    )


def _simulate(
    days: np.ndarray,
    sizes: np.ndarray,
    start: float,
    origin: float,
    horizon: float,
    n: int,
    rng: np.random.Generator,
    flat: bool,
) -> tuple[float, float, Outcomes]:
    """Pace, dispersion and n samples of the horizon from the window ``[start, origin)``."""
    if horizon <= 0 or n < 1:
        raise ValueError(f"horizon ({horizon}) and n ({n}) must be positive")
    keep = days >= start
    days, sizes = days[keep], sizes[keep]
    width = origin - start
    rate = len(days) / width if width > 0 else 0.0
    r = monthly_dispersion(days, start, origin) if rate > 0 else math.inf
    # the horizon's months: edges 0, M, 2M, …, h
    months = max(1, math.ceil(horizon / MONTH_DAYS - 1e-9))
    edges = np.minimum(np.arange(months + 1) * MONTH_DAYS, horizon)
    edges[-1] = horizon
    lengths = np.diff(edges)
    means = rate * lengths
    if rate == 0:
        counts = np.zeros((n, len(lengths)), dtype=np.int64)
    elif math.isinf(r):
        counts = rng.poisson(means, size=(n, len(lengths)))
    else:
        size = r * lengths / MONTH_DAYS
        counts = rng.negative_binomial(size, size / (size + means), size=(n, len(lengths)))
    per_sample = counts.sum(axis=1)
    total = int(per_sample.sum())
    # every event: its sample, its day offset (floored), its size row
    owner = np.repeat(np.arange(n), per_sample)
    month = np.repeat(np.tile(np.arange(len(lengths)), n), counts.ravel())
    offset = np.floor(edges[month] + rng.random(total) * lengths[month])
    rows = sizes[rng.integers(0, len(sizes), size=total)] if total else sizes[:0]
    columns = sizes.shape[1]
    people = np.zeros((n, columns))
    np.add.at(people, owner, rows)
    largest = np.zeros((n, columns))
    np.maximum.at(largest, owner, rows)
    gaps = _longest_gaps(owner, offset, n, horizon)
    samples = Outcomes(
        events=per_sample.astype(float),
        people=people[:, 0] if flat else people,
        largest=largest[:, 0] if flat else largest,
        longest_gap=gaps,
    )
    return rate, r, samples


def _longest_gaps(owner: np.ndarray, offset: np.ndarray, n: int, horizon: float) -> np.ndarray:
    """Per sample, the longest gap between 0, its event offsets and ``horizon``."""
    ids = np.concatenate([np.arange(n), owner, np.arange(n)])
    at = np.concatenate([np.zeros(n), offset, np.full(n, horizon)])
    order = np.lexsort((at, ids))
    ids, at = ids[order], at[order]
    step = np.diff(at)
    same = ids[1:] == ids[:-1]
    gaps = np.zeros(n)
    np.maximum.at(gaps, ids[1:][same], step[same])
    return gaps


def _forecast(
    rule: Literal["persistence", "climatology"],
    days: np.ndarray,
    sizes: np.ndarray,
    start: float,
    origin: float,
    horizon: float,
    n: int,
    rng: np.random.Generator,
    flat: bool,
) -> BaselineForecast:
    in_window = days >= start
    rate, r, samples = _simulate(days, sizes, start, origin, horizon, n, rng, flat)
    window_sizes = sizes[in_window]
    per_event = window_sizes.mean(axis=0) if len(window_sizes) else np.zeros(window_sizes.shape[1])
    return BaselineForecast(
        rule=rule,
        origin=origin,
        horizon=float(horizon),
        window=(start, origin),
        window_events=int(in_window.sum()),
        events_per_day=rate,
        people_per_event=per_event[0] if flat else per_event,
        dispersion=r,
        samples=samples,
    )


def persistence(
    days: npt.ArrayLike,
    sizes: npt.ArrayLike,
    origin: float | np.datetime64,
    horizon: float,
    n: int,
    rng: np.random.Generator,
    *,
    window_days: float = PERSISTENCE_DAYS,
) -> BaselineForecast:
    """The next ``horizon`` days at the pace, dispersion and sizes of the last
    ``window_days`` (six months) before ``origin``; ``n`` samples drawn from ``rng``."""
    d, s, o, flat = _record(days, sizes, origin)
    return _forecast("persistence", d, s, o - window_days, o, horizon, n, rng, flat)


def climatology(
    days: npt.ArrayLike,
    sizes: npt.ArrayLike,
    origin: float | np.datetime64,
    horizon: float,
    n: int,
    rng: np.random.Generator,
    *,
    start: float | np.datetime64 | None = None,
) -> BaselineForecast:
    """The next ``horizon`` days at the pace, dispersion and sizes of the whole record before
    ``origin``, from ``start`` (default: the first event's day); ``n`` samples from ``rng``."""
    d, s, o, flat = _record(days, sizes, origin)
    if start is not None:
        first = float(as_days(start))
        if first >= o:
            raise ValueError("start must be before the origin")
    else:
        first = float(d[0]) if len(d) else o
    return _forecast("climatology", d, s, first, o, horizon, n, rng, flat)
