"""The blind forecast of Russia–Ukraine exchanges in 2026 (``seeds/forecast_2026.md``).

Reproduces every Russia–Ukraine figure of that file::

    python seeds/forecast_2026.py        # about 3 minutes on 2 cores

Method: the one the backtest scored (``docs/backtest.md``; ``pxsim backtest`` with the settings
of its published run), at the origin 2026-01-01, from the record as it stands on 2025-12-31
(``seeds/data_2025``, byte copies of the shared data, which stop there on purpose): the scenario
``scenarios/ua_ru_2022_2025.yaml`` as known at the origin, the parameters of its calibration
refitted on the whole record, every run weighed by how well its history matches the record, and
the weighted runs continued through 2026 (formats open and close at their fitted rates). The
same method and settings as the backtest, with four times the parameter draws (1,200 x 2 runs)
so that the quantiles of a single forecast are less lumpy. The North Korean question is
``seeds/forecast_2026_dprk.py``.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.experiments.options import Execution  # noqa: E402
from sim.fit.backtest import forecast_ensemble  # noqa: E402
from sim.fit.backtest_plan import plan_backtest  # noqa: E402
from sim.fit.windows import quantity_names, window  # noqa: E402

ORIGIN = dt.date(2026, 1, 1)
POINTS = 1200  # parameter draws (the backtest's 300, four times over), 2 runs each
QUARTERS = (dt.date(2026, 1, 1), dt.date(2026, 4, 1), dt.date(2026, 7, 1), dt.date(2026, 10, 1))


def _interval(x: np.ndarray) -> str:
    q05, q25, q50, q75, q95 = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
    return f"{q50:,.0f} | {q25:,.0f}–{q75:,.0f} | {q05:,.0f}–{q95:,.0f}"


def main() -> int:
    plan = plan_backtest(
        ROOT / "scenarios" / "ua_ru_2022_2025.yaml",
        observed=ROOT / "seeds" / "observed_ua_ru_2022_2025.yaml",
        record=ROOT / "seeds" / "data_2025" / "ua_ru_exchanges.csv",
        record_until=dt.date(2025, 12, 31),
        deal_stages=[
            (dt.date(2025, 5, 23), dt.date(2025, 5, 25)),
            (dt.date(2025, 6, 9), dt.date(2025, 7, 23)),
        ],
        fit_from=ROOT / "docs" / "calibration" / "ua_ru_2022_2025",
        origins=(ORIGIN, ORIGIN),
        points=POINTS,
    )
    start = plan.record.start
    months = [window(start, ORIGIN, m) for m in range(1, 13)]
    quarters = [window(start, q, 3) for q in QUARTERS]
    with tempfile.TemporaryDirectory() as tmp:  # the scenario as known at the origin
        ens = forecast_ensemble(
            plan, ORIGIN, months + quarters, Path(tmp) / "scenario.yaml", execution=Execution()
        )
    names = quantity_names(plan.record.parties)
    q = {n: i for i, n in enumerate(names)}
    s = ens.samples  # (runs, windows, quantities)
    year = s[:, 11]
    print(f"origin {ORIGIN}; {ens.runs} runs ({plan.points} draws x {plan.replications}), "
          f"effective {ens.effective_runs:.0f}; fitted: {', '.join(ens.fit)}; "
          f"targets: {', '.join(ens.targets)}; seed {plan.seed}")  # fmt: skip
    print("\nPeople returned to Ukraine in 2026, running total (median | 50% | 90%)")
    for m, w in enumerate(months):
        end = start + dt.timedelta(days=int(w.hi))
        print(f"  to {end}: {_interval(s[:, m, q['returned_ukraine']])}")
    print("\nExchanges per quarter (median | 50% | 90%)")
    for k in range(len(quarters)):
        j = 12 + k
        print(
            f"  Q{k + 1}: deals {_interval(s[:, j, q['deals']])}; "
            f"stages {_interval(s[:, j, q['stages']])}; "
            f"P(no deal) {np.mean(s[:, j, q['deals']] == 0):.2f}"
        )
    print("\nThe year 2026 (median | 50% | 90%)")
    for name in ("returned_ukraine", "returned_russia", "deals", "stages"):
        print(f"  {name}: {_interval(year[:, q[name]])}")
    big = year[:, q["largest_ukraine"]]
    print(f"\nLargest single deal of 2026, people to Ukraine: {_interval(big)}")
    for limit in (200, 500, 1000):
        print(f"  P(> {limit}) = {np.mean(big > limit):.2f}")
    gap = year[:, q["longest_gap"]]
    print(f"\nLongest stretch of 2026 without a deal (days): {_interval(gap)}")
    print(f"  P(a pause of 90 days or more) = {np.mean(gap >= 90):.2f}")
    print(f"  P(no deal at all in 2026) = {np.mean(year[:, q['deals']] == 0):.2f}")
    first = s[:, 2, q["deals"]] == 0  # no deal by 2026-03-31: the pause since 2025-10-02 goes on
    print(f"  P(no deal before 2026-04-01) = {np.mean(first):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
