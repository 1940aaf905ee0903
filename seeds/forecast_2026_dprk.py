"""The two North Korean prisoners in 2026: do they leave Ukrainian custody, and to where?

Reproduces the North Korean part of ``seeds/forecast_2026.md``::

    python seeds/forecast_2026_dprk.py            # 4,000 runs, about 2 minutes on one core

Method. ``scenarios/kursk_2025_retro.yaml`` (the seed case with the dated events of 2025, each
cited there) is run past its horizon to 2026-12-31; nothing dated after 2025 is added, so 2026
goes on as the end of 2025 left it. Only runs whose history matches the last record are kept:
both prisoners still held by Ukraine on 2025-10-31 (the last row about them in the shared data,
which stops at 2025-12-31; nothing later is used). For the two prisoners (the scenario's holdings
5 and 6: Ukraine holding one North Korean each, captured 2025-01-09), the script counts in the
kept runs when each leaves Ukraine's custody and how: exchanged home, resettled to South Korea,
granted asylum in Ukraine, or died; and the share of runs in which both, one or neither left
during 2026. It also reads the record's silence to 2025-12-31 (no departure reported) as both
still held on that day and gives the share of those runs in which both leave in 2026.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.model.prisoners import DIED, IN_CUSTODY, REPATRIATED, RESETTLED  # noqa: E402
from sim.model.simulation import Simulation  # noqa: E402
from sim.scenario.loading import load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "kursk_2025_retro.yaml"
LAST_SEEN_HELD = dt.date(2025, 10, 31)  # [K25 2025-10-31 pows_wishing_to_go_to_south_korea 2]
YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
SOURCES = (-5, -6)  # holdings 5 and 6 (index 4 and 5): the two prisoners of January 2025


def how(fate: int, dest: str, holder: str) -> str:
    if fate == DIED:
        return "died in captivity"
    if fate == REPATRIATED:
        return f"exchanged or released home ({dest})"
    if fate == RESETTLED:
        return "asylum in Ukraine" if dest == holder else f"resettled to {dest}"
    if fate == IN_CUSTODY:
        return "handed to neutral custody"
    return "still held"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=4000, help="runs (default 4000)")
    ap.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    args = ap.parse_args(argv)
    scn = load_scenario(SCENARIO, {"horizon": YEAR[1] + dt.timedelta(days=1)})
    day = lambda d: float((d - scn.start_date).days)  # noqa: E731
    seen, first, last = day(LAST_SEEN_HELD) + 1, day(YEAR[0]), day(YEAR[1]) + 1
    kept = 0
    left_2026 = np.zeros(3, dtype=int)  # runs in which 0, 1, 2 of them left in 2026
    ways: dict[str, int] = {}
    before_2026 = held_at_end = 0  # runs: one left in Nov-Dec 2025; both still held at the end
    held_new_year = both_2026 = 0  # runs with both held on 2026-01-01; of them, both left in 2026
    for r in range(args.n):
        res = Simulation(scn, args.seed, r, keep_prisoners=True, record_events=False).run()
        p = res.prisoners
        rows = np.flatnonzero(np.isin(p["source"], SOURCES))
        assert len(rows) == 2
        exits = p["t_exit"][rows]
        if not (exits >= seen).all():  # the record: both still held on 2025-10-31
            continue
        kept += 1
        inside = (exits >= first) & (exits < last)
        left_2026[int(inside.sum())] += 1
        before_2026 += int((exits < first).any())
        held_at_end += int((exits >= last).all())
        if (exits >= first).all():  # no departure by the end of the record (2025-12-31) either
            held_new_year += 1
            both_2026 += int(inside.all())
        for i in rows[inside]:
            dest = int(p["dest"][i]) if p["dest"][i] >= 0 else int(p["holder"][i])
            key = how(int(p["fate"][i]), res.parties[dest]["party"], "ukraine")
            ways[key] = ways.get(key, 0) + 1
    print(f"{scn.name} to {YEAR[1]}: {args.n} runs, seed {args.seed}; kept {kept} in which both")
    print(f"were still held by Ukraine on {LAST_SEEN_HELD} (the last record)")
    for k, label in ((2, "both left Ukraine's custody in 2026"), (1, "exactly one left"),
                     (0, "neither left in 2026")):  # fmt: skip
        print(f"  P({label}) = {left_2026[k] / kept:.3f}")
    total = sum(ways.values())
    if not kept:
        print("  no run matches the record: raise -n")
        return 1
    print(f"  P(one or both left in November-December 2025) = {before_2026 / kept:.3f}")
    print(f"  P(both still held by Ukraine on {YEAR[1]}) = {held_at_end / kept:.3f}")
    if held_new_year:
        print(
            f"  reading the record's silence to 2025-12-31 as both still held then: "
            f"{held_new_year} runs; P(both leave in 2026) = {both_2026 / held_new_year:.3f}"
        )
    print(f"  of the {total} departures in 2026 (prisoner-runs):")
    for key, n in sorted(ways.items(), key=lambda kv: -kv[1]):
        print(f"    {key}: {n / total:.3f}")  # total > 0 when the loop runs
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
