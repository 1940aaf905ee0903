"""Prisoners' lives drawn as arrays: the people held at the start (holdings) and those a capture
stream will take (incidents as a Poisson process over a piecewise rate, batch sizes, wounded
shares, categories, wishes, deaths while avoiding capture), one block per source, appended to
the prisoner table as rows.
"""

from __future__ import annotations

import numpy as np

from sim.model.prisoners import RETURN, Incidents, PrisonerTable, pref_code
from sim.scenario.dists import Fixed
from sim.scenario.schema import CaptureStream, Holding, PreferenceDrift, Scenario


# ---------------------------------------------------------------------- drawing sources
def _categorical(
    rng: np.random.Generator, shares: dict[str, float], n: int, table: PrisonerTable
) -> np.ndarray:
    names = list(shares)
    p = np.asarray([shares[k] for k in names], dtype=float)
    codes = np.asarray([table.category_index(k) for k in names], dtype=np.int16)
    if len(names) == 1:
        return np.full(n, codes[0], dtype=np.int16)
    return codes[rng.choice(len(names), size=n, p=p / p.sum())]


def _prefs(
    rng: np.random.Generator, shares: dict[str, float], n: int, party_index: dict[str, int]
) -> np.ndarray:
    names = list(shares)
    codes = np.asarray([pref_code(k, party_index) for k in names], dtype=np.int16)
    if len(names) == 1:
        return np.full(n, codes[0], dtype=np.int16)
    p = np.asarray([shares[k] for k in names], dtype=float)
    return codes[rng.choice(len(names), size=n, p=p / p.sum())]


def person_block(
    scn: Scenario,
    table: PrisonerTable,
    party_index: dict[str, int],
    rng_people: np.random.Generator,
    rng_captivity: np.random.Generator,
    t_cap: np.ndarray,
    *,
    source: int,
    holder: str,
    nationality: str,
    wounded_share: float,
    young_share: float,
    categories: dict[str, float],
    preferences: dict[str, float],
    drift: PreferenceDrift | None,
) -> dict[str, np.ndarray]:
    """Draw everything about ``len(t_cap)`` new prisoners (who they are, what will happen)."""
    n = len(t_cap)
    cap = scn.captivity
    wounded = rng_people.random(n) < wounded_share
    severe = wounded & (rng_people.random(n) < cap.severe_share)
    cat = _categorical(rng_people, categories, n, table)
    pref0 = _prefs(rng_people, preferences, n, party_index)
    # drawn only where asked for, so that scenarios without ages keep their random streams
    young = rng_people.random(n) < young_share if young_share > 0 else np.zeros(n, dtype=bool)
    # captivity draws on their own stream: changing hazards never shifts who is captured
    death_e = rng_captivity.standard_exponential(n)
    drift_e = rng_captivity.standard_exponential(n)
    drift = drift or cap.preference_drift
    pref1 = _prefs(rng_captivity, drift.to, n, party_index)
    hum_delay = cap.humanitarian_delay.sample(rng_captivity, n)
    asy_delay = cap.asylum_delay.sample(rng_captivity, n)
    # a wish to resettle in one's own country is a wish to go home (as a wish to resettle with
    # the holder is a wish to stay): counted as repatriation, like neutral custody counts it
    home = 2 + party_index[nationality]
    pref0[pref0 == home] = RETURN
    pref1[pref1 == home] = RETURN
    return {
        "source": np.full(n, source),
        "holder": np.full(n, party_index[holder]),
        "nat": np.full(n, party_index[nationality]),
        "t_cap": t_cap,
        "wounded": wounded,
        "severe": severe,
        "young": young,
        "cat": cat,
        "pref0": pref0,
        "pref1": pref1,
        "death_e": death_e,
        "drift_e": drift_e,
        "drift_rate": np.full(n, drift.rate),
        "hum_delay": hum_delay,
        "asy_delay": asy_delay,
    }


def holding_block(
    scn: Scenario,
    table: PrisonerTable,
    party_index: dict[str, int],
    i: int,
    h: Holding,
    rng_people: np.random.Generator,
    rng_captivity: np.random.Generator,
) -> dict[str, np.ndarray]:
    t_cap = np.full(h.count, min(h.captured, 0.0))
    return person_block(
        scn,
        table,
        party_index,
        rng_people,
        rng_captivity,
        t_cap,
        source=-1 - i,
        holder=h.holder,
        nationality=h.nationality,
        wounded_share=h.wounded_share,
        young_share=h.young_share,
        categories=h.categories,
        preferences=h.preferences,
        drift=h.preference_drift,
    )


def capture_times(
    stream: CaptureStream, t_from: float, horizon: float, rng: np.random.Generator
) -> np.ndarray:
    """Incident times of a piecewise-constant-rate Poisson process on [t_from, horizon]."""
    chunks = []
    phases = stream.rate
    for k, ph in enumerate(phases):
        a = max(ph.from_, t_from)
        b = phases[k + 1].from_ if k + 1 < len(phases) else horizon
        b = min(b, horizon)
        if b <= a or ph.per_day <= 0:
            continue
        n = rng.poisson(ph.per_day * (b - a))
        chunks.append(np.sort(rng.uniform(a, b, n)))
    return np.concatenate(chunks) if chunks else np.empty(0)


def stream_block(
    scn: Scenario,
    table: PrisonerTable,
    party_index: dict[str, int],
    i: int,
    stream: CaptureStream,
    t_from: float,
    rng_people: np.random.Generator,
    rng_captivity: np.random.Generator,
) -> tuple[dict[str, np.ndarray], Incidents]:
    """Draw the captures of ``stream`` from ``t_from`` to the horizon."""
    times = capture_times(stream, t_from, scn.horizon, rng_people)
    if isinstance(stream.batch, Fixed):
        sizes = np.full(len(times), max(1, round(stream.batch.value)), dtype=np.int64)
    else:
        sizes = np.maximum(1, np.rint(stream.batch.sample(rng_people, len(times)))).astype(np.int64)
    if stream.self_destruct > 0:
        taken = rng_people.binomial(sizes, 1.0 - stream.self_destruct)
    else:
        taken = sizes
    t_cap = np.repeat(times, taken)
    block = person_block(
        scn,
        table,
        party_index,
        rng_people,
        rng_captivity,
        t_cap,
        source=i,
        holder=stream.captor,
        nationality=stream.nationality,
        wounded_share=stream.wounded_share,
        young_share=stream.young_share,
        categories=stream.categories,
        preferences=stream.preferences,
        drift=stream.preference_drift,
    )
    idx = np.repeat(np.arange(len(times)), taken)
    wounded = np.bincount(idx, weights=block["wounded"], minlength=len(times)).astype(np.int64)
    return block, Incidents(
        times, taken.astype(np.int64), wounded, (sizes - taken).astype(np.int64)
    )
