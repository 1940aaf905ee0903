"""What the parties could trade now: prisoners held per transfer (holder, nationality,
destination) who are alive, still held and willing to go, less those already promised to a
deal in preparation, and the category weights of each line of an agenda.

Counting is cached per moment and per change of the prisoner table (``World.version``): many
parties ask the same question at the same instant.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.model.negotiation import (
    Transfer,
)
from sim.model.prisoners import RETURN, PrisonerTable
from sim.model.world import World


def on_agenda(table: PrisonerTable, rows: np.ndarray, only: Sequence[str]) -> np.ndarray:
    """Which of ``rows`` an agenda defined by category covers: prisoners who are any of
    ``only`` (``wounded``, ``severely_wounded``, ``young``, or a category name); everyone
    when ``only`` is empty."""
    c = table.cols
    if not only:
        return np.ones(len(rows), dtype=bool)
    mask = np.zeros(len(rows), dtype=bool)
    for name in only:
        if name == "wounded":
            mask |= c["wounded"][rows]
        elif name == "severely_wounded":
            mask |= c["severe"][rows]
        elif name == "young":
            mask |= c["young"][rows]
        elif name in table.categories:
            mask |= c["cat"][rows] == table.categories.index(name)
    return mask


def held_transfers(sim: World, t: float) -> dict[Transfer, int]:
    """Prisoners held at t that could move, by transfer, among all parties (cached per
    time and table version: several decisions at one moment share it)."""
    cache = sim.counts_cache
    if cache is not None and cache[0] == t and cache[1] == sim.version:
        return cache[2]
    tab = sim.table
    c = tab.cols
    n = sim.n_parties
    out: dict[Transfer, int] = {}
    mixed: list[np.ndarray] = []
    only = sim.scn.negotiation.agenda_only
    for k, group in tab.groups.items():
        if group.simple and not only:  # everyone wants to go home: count from the index
            held = group.held(t)
            if held > 0:
                h, na = divmod(k, n)
                out[Transfer(h, na, na, False)] = held
        else:
            mixed.append(group.held_rows(t, c["t_out"]))
    rows = np.concatenate(mixed) if mixed else np.empty(0, dtype=np.int64)
    if only:
        rows = rows[on_agenda(tab, rows, only)]
    if len(rows):
        holder = c["holder"][rows]
        pref = np.where(c["t_drift"][rows] <= t, c["pref1"][rows], c["pref0"][rows])
        # repatriation: honouring holders keep those who refuse to go home
        rep = (pref == RETURN) | ~sim.flags_honours[holder]
        counts = np.bincount(c["key"][rows][rep], minlength=n * n)
        for code in np.flatnonzero(counts).tolist():
            h, na = divmod(code, n)
            out[Transfer(h, na, na, False)] = int(counts[code])
        # resettlement: wish to go to a party offering asylum
        dest = pref.astype(np.int64) - 2
        res = (dest >= 0) & (dest != holder)  # resettling with the holder is staying
        if res.any():
            res &= sim.flags_asylum[np.clip(dest, 0, n - 1)]
        if res.any():
            counts = np.bincount(
                c["key"][rows][res].astype(np.int64) * n + dest[res], minlength=n * n * n
            )
            for code in np.flatnonzero(counts).tolist():
                hn, de = divmod(code, n)
                h, na = divmod(hn, n)
                out[Transfer(h, na, de, True)] = int(counts[code])
    sim.counts_cache = (t, sim.version, out)
    return out


def available_transfers(sim: World, members: tuple[int, ...], t: float) -> dict[Transfer, int]:
    """Prisoners held at t that could move between ``members`` (holder and destination both
    in the talks), less those promised in deals awaiting handover."""
    inside = set(members)
    out: dict[Transfer, int] = {}
    for tr, n in held_transfers(sim, t).items():
        if tr.holder in inside and tr.dest in inside:
            left = n - sim.reserved.get(tr, 0)
            if left > 0:
                out[tr] = left
    return out


def agenda_weights(
    sim: World, members: tuple[int, ...], transfers: list[Transfer], t: float
) -> dict[tuple[int, Transfer], float]:
    """Mean category weight of each transfer's prisoners, as each member values them."""
    out: dict[tuple[int, Transfer], float] = {}
    if all(sim.uniform_weights[q] for q in members):
        return out
    tab = sim.table
    c = tab.cols
    rows = tab.held_rows(t)
    keys = c["key"][rows]
    for tr in transfers:
        m = rows[keys == tr.holder * sim.n_parties + tr.nat]
        cats, wnd = c["cat"][m], c["wounded"][m]
        for q in members:
            if sim.uniform_weights[q]:
                continue
            w = sim.category_weights(q)[cats] * np.where(
                wnd, sim.scn.parties[q].wounded_weight, 1.0
            )
            out[(q, tr)] = float(w.mean()) if len(w) else 1.0
    return out
