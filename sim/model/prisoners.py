"""The prisoner table: every prisoner of one run as columns of numpy arrays.

Captures, deaths, wish changes, humanitarian releases and asylum grants are draws from known
distributions, so they are drawn in blocks when a source starts (and redrawn from ``t`` when a
timeline change alters them) and stored as *times*. Decisions read the state at time ``t`` from
these arrays (``held_mask``); only deal executions and handovers to neutral custody write to
them (``t_deal``; ``t_cust``). A prisoner's exit from the holder is the first of death, exogenous
release (``t_exo``), deal (``t_deal``) and handover to neutral custody (``t_cust``). A prisoner
in custody is neither held nor free until ``t_cust_end``, when the choice drawn at the handover
(``cust_fate`` to ``cust_dest``: home, staying, a third country; or death in custody) takes
effect. So conservation
``initial_held + captured = repatriated + resettled + died + held + in_custody`` holds by
construction and is checked by ``census``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INF = np.inf
MIN_RATE = 1e-12

# fates
HELD, REPATRIATED, RESETTLED, DIED, IN_CUSTODY = 0, 1, 2, 3, 4
FATE_NAMES = ("held", "repatriated", "resettled", "died", "in_custody")

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
    "young": np.bool_,  # under 25 (agendas by age)
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
    "t_cust": np.float64,  # handed to neutral custody (sim.model.custody)
    "t_cust_end": np.float64,  # leaves custody: its choice (or death) takes effect
    "cust_fate": np.int8,  # REPATRIATED, RESETTLED or DIED, at t_cust_end
    "cust_dest": np.int16,  # where the choice takes it (home, the holder, a third country)
    "cust_id": np.int16,  # index of the custody entry
    "t_out": np.float64,  # cached exit time: min(t_death, t_exo, t_deal, t_cust), see reindex()
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
    (in deals) before their natural exit came. Natural exits are death and exogenous release.

    Listing who is held (``held_rows``) remembers the answer: exits are for good and the
    simulation only asks about now, which never goes back, so whoever was not held at the
    last moment asked about will never be held again. The next answer is found among the
    last one and the captures since, and the work per question is the people still held,
    not everyone ever captured."""

    __slots__ = (
        "_asked",
        "_caught",
        "_held",
        "_pending",
        "caps",
        "dealt_ends",
        "ends",
        "rows",
        "simple",
    )

    def __init__(self, rows: np.ndarray, cols: dict[str, np.ndarray]) -> None:
        self.rows = rows  # sorted by capture time, like the table
        self.caps = cols["t_cap"][rows]
        natural = np.minimum(cols["t_death"][rows], cols["t_exo"][rows])
        self.ends = np.sort(natural)
        dealt = np.isfinite(cols["t_deal"][rows]) | np.isfinite(cols["t_cust"][rows])
        self.dealt_ends = np.sort(natural[dealt])
        # everyone in the group wishes to go home, always: counts need no wish lookups
        self.simple = bool(
            np.all(cols["pref0"][rows] == RETURN) and not np.isfinite(cols["t_drift"][rows]).any()
        )
        self._pending: list[np.ndarray] = []  # handed over lately (see add_dealt)
        self._asked = -INF  # the latest moment asked about,
        self._held = rows[:0]  # who was held then (captured among the first _caught rows)
        self._caught = 0

    def held_rows(self, t: float, t_out: np.ndarray) -> np.ndarray:
        """Rows of the group held at ``t``, longest held first (do not modify the array)."""
        k = int(self.caps.searchsorted(t, side="right"))
        if t < self._asked:  # an earlier moment: look at everyone (nothing remembered)
            rows = self.rows[:k]
            return rows[t_out[rows] > t]
        rows = self._held
        if k > self._caught:
            rows = np.concatenate([rows, self.rows[self._caught : k]])
        held = rows[t_out[rows] > t]
        self._asked, self._held, self._caught = t, held, max(k, self._caught)
        return held

    def add_dealt(self, natural_ends: np.ndarray) -> None:
        """Prisoners whose natural exits were ``natural_ends`` were handed over. They wait,
        sorted, in a few small batches, merged into ``dealt_ends`` now and then rather than
        re-sorting everything at every deal."""
        self._pending.append(np.sort(natural_ends))
        if len(self._pending) >= 8:
            self.dealt_ends = np.sort(np.concatenate([self.dealt_ends, *self._pending]))
            self._pending = []

    def held(self, t: float) -> int:
        caught = int(self.caps.searchsorted(t, side="right"))
        gone = int(self.ends.searchsorted(t, side="right"))
        traded_early = len(self.dealt_ends) - int(self.dealt_ends.searchsorted(t, side="right"))
        for batch in self._pending:
            traded_early += len(batch) - int(batch.searchsorted(t, side="right"))
        return caught - gone - traded_early


class PrisonerTable:
    """Column store of prisoners; rows are only appended or (future captures) replaced."""

    def __init__(self, n_parties: int = 1) -> None:
        self.cols: dict[str, np.ndarray] = {k: np.empty(0, dtype=v) for k, v in COLUMNS.items()}
        self.categories: list[str] = []
        self.n_parties = n_parties
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
        sorted_keys = c["key"][order]
        cut = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1  # where a group starts
        starts = np.concatenate([[0], cut]) if len(order) else cut
        keys = sorted_keys[starts]
        bounds = [*starts.tolist(), len(order)]
        self.groups = {
            int(k): GroupIndex(order[bounds[i] : bounds[i + 1]], c) for i, k in enumerate(keys)
        }

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

    def mark_custody(
        self,
        rows: np.ndarray,
        key: int,
        t: float,
        end: np.ndarray,
        fate: np.ndarray,
        dest: np.ndarray,
        custody: int,
    ) -> None:
        """Prisoners ``rows`` (all of group ``key``) are handed to neutral custody at ``t``; their
        choice ``fate`` (to ``dest``) takes effect at ``end`` (per prisoner: earlier if dead)."""
        c = self.cols
        if len(rows):
            self.groups[key].add_dealt(np.minimum(c["t_death"][rows], c["t_exo"][rows]))
        c["t_cust"][rows] = t
        c["t_cust_end"][rows] = end
        c["t_out"][rows] = np.minimum(c["t_out"][rows], t)
        c["cust_fate"][rows] = fate
        c["cust_dest"][rows] = dest
        c["cust_id"][rows] = custody

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
        """Append blocks of new prisoners (columns missing from a block get their defaults):
        each column allocated once, at its new length, and filled block by block."""
        sizes = [len(b["t_cap"]) for b in blocks]
        n0 = len(self)
        total = n0 + sum(sizes)
        for k, dtype in COLUMNS.items():
            out: np.ndarray = np.empty(total, dtype=dtype)
            out[:n0] = self.cols[k]
            pos = n0
            for b, n in zip(blocks, sizes, strict=True):
                col = b.get(k)
                out[pos : pos + n] = DEFAULTS[k] if col is None else col
                pos += n
            self.cols[k] = out

    def drop(self, mask: np.ndarray) -> None:
        keep = ~mask
        for k in self.cols:
            self.cols[k] = self.cols[k][keep]

    # ------------------------------------------------------------------ state at time t
    def t_exit(self) -> np.ndarray:
        """When each prisoner leaves its holder (for custody: when handed over)."""
        c = self.cols
        return np.minimum(
            np.minimum(c["t_death"], c["t_exo"]), np.minimum(c["t_deal"], c["t_cust"])
        )

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

    def fates(self, t: float, t_exit: np.ndarray | None = None) -> np.ndarray:
        """Fate code of every prisoner as of time t (HELD for not yet exited or not captured);
        ``t_exit`` is ``t_exit()`` when the caller has it already."""
        c = self.cols
        t_exit = self.t_exit() if t_exit is None else t_exit
        fate = np.full(len(self), HELD, dtype=np.int8)
        exited = t_exit <= t
        later = np.minimum(c["t_deal"], c["t_cust"])
        died = exited & (c["t_death"] <= np.minimum(c["t_exo"], later))
        by_exo = exited & ~died & (c["t_exo"] <= later)
        by_deal = exited & ~died & ~by_exo & (c["t_deal"] <= c["t_cust"])
        by_cust = exited & ~died & ~by_exo & ~by_deal
        fate[died] = DIED
        fate[by_exo] = c["exo_fate"][by_exo]
        fate[by_deal] = c["deal_fate"][by_deal]
        fate[by_cust] = np.where(c["t_cust_end"][by_cust] <= t, c["cust_fate"][by_cust], IN_CUSTODY)
        return fate

    def census(
        self, t: float, fate: np.ndarray | None = None, *, cross_check: bool = True
    ) -> dict[str, int]:
        """Counts at time t, with conservation checked: raises AssertionError if it fails.
        ``cross_check`` also re-counts the held three other ways (the mask, the index and the
        groups), for invariant checks; ``fate`` is ``fates(t)`` when the caller has it."""
        c = self.cols
        initial = c["source"] < 0
        present = c["t_cap"] <= t
        fate = self.fates(t) if fate is None else fate
        out = {
            "initial_held": int(initial.sum()),
            "captured": int((present & ~initial).sum()),
            "repatriated": int((present & (fate == REPATRIATED)).sum()),
            "resettled": int((present & (fate == RESETTLED)).sum()),
            "died": int((present & (fate == DIED)).sum()),
            "held": int((present & (fate == HELD)).sum()),
            "in_custody": int((present & (fate == IN_CUSTODY)).sum()),
        }
        lhs = out["initial_held"] + out["captured"]
        rhs = out["repatriated"] + out["resettled"] + out["died"] + out["held"] + out["in_custody"]
        if lhs != rhs:
            raise AssertionError(f"conservation broken at t={t}: {lhs} != {rhs} ({out})")
        if not cross_check:
            return out
        if int(self.held_mask(t).sum()) != out["held"]:
            raise AssertionError(f"held count inconsistent at t={t}")
        if len(self.held_rows(t)) != out["held"]:
            raise AssertionError(f"indexed held count inconsistent at t={t}")
        if sum(g.held(t) for g in self.groups.values()) != out["held"]:
            raise AssertionError(f"group held counts inconsistent at t={t}")
        return out


# the value of a column a block does not give: never (inf) for times and exposures, nobody
# (-1) for destinations and ids, no delay, else zero
DEFAULTS: dict[str, float] = {
    **dict.fromkeys(COLUMNS, 0.0),
    **dict.fromkeys(
        ("t_drift", "t_death", "t_exo", "t_deal", "t_cust", "t_cust_end", "drift_e", "death_e"),
        INF,
    ),
    **dict.fromkeys(("dest", "deal_id", "cust_dest", "cust_id"), -1.0),
}
