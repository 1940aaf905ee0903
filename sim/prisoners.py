"""The prisoner table: every prisoner of one run as columns of numpy arrays.

Captures, deaths, wish changes, humanitarian releases and asylum grants are draws from known
distributions, so they are drawn in blocks when a source starts (and redrawn from ``t`` when a
timeline change alters them) and stored as *times*. Decisions read the state at time ``t`` from
these arrays (``held_mask``); only deal executions write to them (``t_deal``). A prisoner's exit
is the first of death, exogenous release (``t_exo``) and deal (``t_deal``), so conservation
``initial_held + captured = repatriated + resettled + died + held`` holds by construction and is
checked by ``census``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.dists import Fixed
from sim.schema import CaptureStream, Holding, PreferenceDrift, Scenario

INF = np.inf
MIN_RATE = 1e-12

# fates
HELD, REPATRIATED, RESETTLED, DIED = 0, 1, 2, 3
FATE_NAMES = ("held", "repatriated", "resettled", "died")

# wishes: 0 return, 1 stay, 2 + k resettle to party k
RETURN, STAY = 0, 1


def pref_code(key: str, party_index: dict[str, int]) -> int:
    if key == "return":
        return RETURN
    if key == "stay":
        return STAY
    return 2 + party_index[key.split(":", 1)[1]]


def pref_name(code: int, party_ids: list[str]) -> str:
    if code == RETURN:
        return "return"
    if code == STAY:
        return "stay"
    return f"resettle:{party_ids[code - 2]}"


COLUMNS: dict[str, type] = {
    "source": np.int16,  # index of holding (negative: -1-i) or capture stream (i)
    "holder": np.int16,
    "nat": np.int16,
    "t_cap": np.float64,
    "wounded": np.bool_,
    "severe": np.bool_,
    "cat": np.int16,
    "pref0": np.int16,
    "pref1": np.int16,
    "drift_e": np.float64,  # unit exposure until the wish changes
    "drift_rate": np.float64,  # per day
    "death_e": np.float64,  # unit exposure until death
    "hum_delay": np.float64,
    "asy_delay": np.float64,
    "t_drift": np.float64,
    "t_death": np.float64,
    "t_exo": np.float64,
    "exo_fate": np.int8,
    "t_deal": np.float64,
    "deal_fate": np.int8,
    "dest": np.int16,
    "deal_id": np.int32,
    "t_out": np.float64,  # cached exit time: min(t_death, t_exo, t_deal), see reindex()
    "key": np.int32,  # holder * n_parties + nat, see reindex()
}


@dataclass
class Incidents:
    """Capture incidents of one stream: when, how many taken alive, how many died instead."""

    t: np.ndarray
    taken: np.ndarray
    wounded: np.ndarray
    self_destructed: np.ndarray


class GroupIndex:
    """Prisoners of one (holder, nationality) group, for counting those held at any time
    without scanning the table: held(t) = captured by t - natural exits by t - handed over
    (in deals) before their natural exit came. Natural exits are death and exogenous release."""

    __slots__ = ("caps", "dealt_ends", "ends", "rows", "simple")

    def __init__(self, rows: np.ndarray, cols: dict[str, np.ndarray]) -> None:
        self.rows = rows  # sorted by capture time, like the table
        self.caps = cols["t_cap"][rows]
        natural = np.minimum(cols["t_death"][rows], cols["t_exo"][rows])
        self.ends = np.sort(natural)
        dealt = np.isfinite(cols["t_deal"][rows])
        self.dealt_ends = np.sort(natural[dealt])
        # everyone in the group wishes to go home, always: counts need no wish lookups
        self.simple = bool(
            np.all(cols["pref0"][rows] == RETURN) and not np.isfinite(cols["t_drift"][rows]).any()
        )

    def held_rows(self, t: float, t_out: np.ndarray) -> np.ndarray:
        rows = self.rows[: int(self.caps.searchsorted(t, side="right"))]
        return rows[t_out[rows] > t]

    def add_dealt(self, natural_ends: np.ndarray) -> None:
        self.dealt_ends = np.sort(np.concatenate([self.dealt_ends, natural_ends]))

    def held(self, t: float) -> int:
        caught = int(self.caps.searchsorted(t, side="right"))
        gone = int(self.ends.searchsorted(t, side="right"))
        traded_early = len(self.dealt_ends) - int(self.dealt_ends.searchsorted(t, side="right"))
        return caught - gone - traded_early


class PrisonerTable:
    """Column store of prisoners; rows are only appended or (future captures) replaced."""

    def __init__(self, n_parties: int = 1) -> None:
        self.cols: dict[str, np.ndarray] = {k: np.empty(0, dtype=v) for k, v in COLUMNS.items()}
        self.categories: list[str] = []
        self.n_parties = n_parties
        self.simple_wishes = True  # everyone wishes to return, always: skip wish lookups
        self.groups: dict[int, GroupIndex] = {}

    # ------------------------------------------------------------------ index for decisions
    def reindex(self) -> None:
        """Sort rows by capture time (so the captured-so-far rows are a prefix, longest held
        first) and refresh the cached exit times and group keys. Call after drawing or
        redrawing sources or exogenous times; row indices change."""
        c = self.cols
        order = np.argsort(c["t_cap"], kind="stable")
        for k in c:
            c[k] = c[k][order]
        self.refresh_exits()
        c["key"] = (c["holder"].astype(np.int32) * self.n_parties + c["nat"]).astype(np.int32)
        order = np.argsort(c["key"], kind="stable")
        keys, starts = np.unique(c["key"][order], return_index=True)
        bounds = [*starts.tolist(), len(order)]
        self.groups = {
            int(k): GroupIndex(order[bounds[i] : bounds[i + 1]], c) for i, k in enumerate(keys)
        }
        self.simple_wishes = bool(
            np.all(c["pref0"] == RETURN) and not np.isfinite(c["t_drift"]).any()
        )

    def refresh_exits(self) -> None:
        self.cols["t_out"] = self.t_exit()

    def upto(self, t: float) -> int:
        """Number of rows captured at or before t (rows are sorted by capture time)."""
        return int(np.searchsorted(self.cols["t_cap"], t, side="right"))

    def held_rows(self, t: float) -> np.ndarray:
        """Indices of prisoners held at t, longest held first."""
        k = self.upto(t)
        return np.flatnonzero(self.cols["t_out"][:k] > t)

    def mark_deal(
        self, rows: np.ndarray, key: int, t: float, fate: int, dest: int, deal_id: int
    ) -> None:
        """Prisoners ``rows`` (all of group ``key``) leave by a deal at ``t``."""
        c = self.cols
        if len(rows):
            self.groups[key].add_dealt(np.minimum(c["t_death"][rows], c["t_exo"][rows]))
        c["t_deal"][rows] = t
        c["t_out"][rows] = np.minimum(c["t_out"][rows], t)
        c["deal_fate"][rows] = fate
        c["dest"][rows] = dest
        c["deal_id"][rows] = deal_id

    def __len__(self) -> int:
        return len(self.cols["t_cap"])

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("cols")
        if cols is not None and name in cols:
            return cols[name]
        raise AttributeError(name)

    def category_index(self, name: str) -> int:
        if name not in self.categories:
            self.categories.append(name)
        return self.categories.index(name)

    def append(self, *blocks: dict[str, np.ndarray]) -> None:
        """Append blocks of new prisoners (columns missing from a block get their defaults)."""
        sizes = [len(b["t_cap"]) for b in blocks]
        for k, dtype in COLUMNS.items():
            parts = [self.cols[k]]
            for b, n in zip(blocks, sizes, strict=True):
                col = b.get(k)
                parts.append(_default(k, n) if col is None else np.asarray(col, dtype=dtype))
            self.cols[k] = np.concatenate(parts).astype(dtype, copy=False)

    def drop(self, mask: np.ndarray) -> None:
        keep = ~mask
        for k in self.cols:
            self.cols[k] = self.cols[k][keep]

    # ------------------------------------------------------------------ state at time t
    def t_exit(self) -> np.ndarray:
        return np.minimum(np.minimum(self.cols["t_death"], self.cols["t_exo"]), self.cols["t_deal"])

    def held_mask(self, t: float) -> np.ndarray:
        c = self.cols
        return (c["t_cap"] <= t) & (self.t_exit() > t)

    def check_index(self) -> None:
        """The cached exit times and the sort order are up to date (for invariant checks)."""
        if not np.array_equal(self.cols["t_out"], self.t_exit()):
            raise AssertionError("cached exit times are stale")
        if np.any(np.diff(self.cols["t_cap"]) < 0):
            raise AssertionError("rows are not sorted by capture time")

    def pref_at(self, t: float) -> np.ndarray:
        c = self.cols
        return np.where(c["t_drift"] <= t, c["pref1"], c["pref0"])

    def fates(self, t: float) -> np.ndarray:
        """Fate code of every prisoner as of time t (HELD for not yet exited or not captured)."""
        c = self.cols
        t_exit = self.t_exit()
        fate = np.full(len(self), HELD, dtype=np.int8)
        exited = t_exit <= t
        died = exited & (c["t_death"] <= np.minimum(c["t_exo"], c["t_deal"]))
        by_exo = exited & ~died & (c["t_exo"] <= c["t_deal"])
        by_deal = exited & ~died & ~by_exo
        fate[died] = DIED
        fate[by_exo] = c["exo_fate"][by_exo]
        fate[by_deal] = c["deal_fate"][by_deal]
        return fate

    def census(self, t: float) -> dict[str, int]:
        """Counts at time t, with conservation checked: raises AssertionError if it fails."""
        c = self.cols
        initial = c["source"] < 0
        present = c["t_cap"] <= t
        fate = self.fates(t)
        out = {
            "initial_held": int(initial.sum()),
            "captured": int((present & ~initial).sum()),
            "repatriated": int((present & (fate == REPATRIATED)).sum()),
            "resettled": int((present & (fate == RESETTLED)).sum()),
            "died": int((present & (fate == DIED)).sum()),
            "held": int((present & (fate == HELD)).sum()),
        }
        lhs = out["initial_held"] + out["captured"]
        rhs = out["repatriated"] + out["resettled"] + out["died"] + out["held"]
        if lhs != rhs:
            raise AssertionError(f"conservation broken at t={t}: {lhs} != {rhs} ({out})")
        if int(self.held_mask(t).sum()) != out["held"]:
            raise AssertionError(f"held count inconsistent at t={t}")
        if len(self.held_rows(t)) != out["held"]:
            raise AssertionError(f"indexed held count inconsistent at t={t}")
        if sum(g.held(t) for g in self.groups.values()) != out["held"]:
            raise AssertionError(f"group held counts inconsistent at t={t}")
        return out


def _default(k: str, n: int) -> np.ndarray:
    if k in ("t_drift", "t_death", "t_exo", "t_deal", "drift_e", "death_e"):
        return np.full(n, INF)
    if k in ("dest", "deal_id"):
        return np.full(n, -1)
    if k in ("hum_delay", "asy_delay"):
        return np.zeros(n)
    return np.zeros(n, dtype=COLUMNS[k])


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
    # captivity draws on their own stream: changing hazards never shifts who is captured
    death_e = rng_captivity.standard_exponential(n)
    drift_e = rng_captivity.standard_exponential(n)
    drift = drift or cap.preference_drift
    pref1 = _prefs(rng_captivity, drift.to, n, party_index)
    hum_delay = cap.humanitarian_delay.sample(rng_captivity, n)
    asy_delay = cap.asylum_delay.sample(rng_captivity, n)
    return {
        "source": np.full(n, source),
        "holder": np.full(n, party_index[holder]),
        "nat": np.full(n, party_index[nationality]),
        "t_cap": t_cap,
        "wounded": wounded,
        "severe": severe,
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
        categories=stream.categories,
        preferences=stream.preferences,
        drift=stream.preference_drift,
    )
    idx = np.repeat(np.arange(len(times)), taken)
    wounded = np.bincount(idx, weights=block["wounded"], minlength=len(times)).astype(np.int64)
    return block, Incidents(
        times, taken.astype(np.int64), wounded, (sizes - taken).astype(np.int64)
    )


# ---------------------------------------------------------------------- derived times
def apply_captivity(
    scn: Scenario, table: PrisonerTable, rows: np.ndarray | slice, t_from: float
) -> None:
    """(Re)compute death and wish-change times of ``rows`` from their unit exposures, counting
    exposure from ``max(t_from, t_cap, 0)``; earlier exposure must already be deducted."""
    c = table.cols
    hz = scn.captivity.death_hazard
    start = np.maximum(np.maximum(c["t_cap"][rows], t_from), 0.0)
    h = np.where(c["wounded"][rows], hz.wounded, hz.healthy)
    c["t_death"][rows] = start + _time_to_use(c["death_e"][rows], h)
    c["t_drift"][rows] = start + _time_to_use(c["drift_e"][rows], c["drift_rate"][rows])


def _time_to_use(exposure: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Days until ``exposure`` units are used up at ``rate`` per day (inf for rates below
    1e-12 per day, i.e. never within any horizon)."""
    rate = np.broadcast_to(rate, exposure.shape)
    out = np.full(exposure.shape, INF)
    live = rate > MIN_RATE
    out[live] = exposure[live] / rate[live]
    return out


def consume_exposure(
    scn: Scenario, table: PrisonerTable, rows: np.ndarray, since: float, t: float
) -> None:
    """Deduct exposure used from ``since`` (the last rebase) to ``t`` under the current rates,
    before the rates change at ``t``."""
    c = table.cols
    hz = scn.captivity.death_hazard
    start = np.maximum(np.maximum(c["t_cap"][rows], 0.0), since)
    used = np.maximum(t - start, 0.0)
    h = np.where(c["wounded"][rows], hz.wounded, hz.healthy)
    c["death_e"][rows] = c["death_e"][rows] - used * h
    c["drift_e"][rows] = c["drift_e"][rows] - used * c["drift_rate"][rows]


def drift_rates(scn: Scenario, table: PrisonerTable, rows: np.ndarray) -> None:
    """Per-prisoner wish-change rate from its source's drift, else the scenario default."""
    c = table.cols
    src = c["source"][rows]
    rates = np.full(len(src), scn.captivity.preference_drift.rate)
    for i, h in enumerate(scn.holdings):
        if h.preference_drift is not None:
            rates[src == -1 - i] = h.preference_drift.rate
    for i, s in enumerate(scn.capture_streams):
        if s.preference_drift is not None:
            rates[src == i] = s.preference_drift.rate
    c["drift_rate"][rows] = rates


def apply_exogenous(
    scn: Scenario,
    table: PrisonerTable,
    party_flags: tuple[np.ndarray, ...],
    rows: np.ndarray | slice,
    t_from: float,
) -> None:
    """(Re)compute exogenous exits: humanitarian release of the severely wounded by holders that
    do it, and asylum granted by holders that offer it to prisoners who wish to stay. A release
    whose time has passed when a holder adopts the policy happens at ``t_from``."""
    humanitarian, asylum, honours = party_flags
    c = table.cols
    if not humanitarian.any() and not asylum.any():  # nobody releases or resettles anyone
        c["t_exo"][rows] = INF
        return
    holder = c["holder"][rows]
    t_cap = np.maximum(c["t_cap"][rows], 0.0)
    t_drift = c["t_drift"][rows]
    pref0, pref1 = c["pref0"][rows], c["pref1"][rows]
    # humanitarian release
    t_h = t_cap + c["hum_delay"][rows]
    pref_h = np.where(t_drift <= t_h, pref1, pref0)
    ok_h = c["severe"][rows] & humanitarian[holder] & ((pref_h == RETURN) | ~honours[holder])
    # asylum for those who wish to stay, from when they wish it
    # a wish to resettle with the holder itself is a wish to stay
    stay0 = (pref0 == STAY) | (pref0 == 2 + holder)
    stay1 = (pref1 == STAY) | (pref1 == 2 + holder)
    t_stay = np.where(stay0, t_cap, np.where(stay1, t_drift, INF))
    t_a = t_stay + c["asy_delay"][rows]
    still = np.where(stay0, stay1 | (t_drift > t_a), True)
    ok_a = asylum[holder] & np.isfinite(t_stay) & still
    th = np.where(ok_h, np.maximum(t_h, t_from), INF)
    ta = np.where(ok_a, np.maximum(t_a, t_from), INF)
    c["t_exo"][rows] = np.minimum(th, ta)
    c["exo_fate"][rows] = np.where(th <= ta, REPATRIATED, RESETTLED)
