"""The backtest's guarantees, piece by piece: nothing dated on or after an origin reaches the
forecast made there (observations, record, scenario), windows are measured the same way on the
model and on the record, and a later row of the record cannot change any forecast."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest

from sim.experiments.options import Execution
from sim.fit.backtest import BacktestPlan, forecast_origin
from sim.fit.backtest_plan import plan_backtest
from sim.fit.observed import load_observations
from sim.fit.origin import fit_at, scenario_at
from sim.fit.record import Record, load_record
from sim.fit.windows import (
    add_months,
    forecast_targets,
    model_quantities,
    origins_between,
    record_quantities,
    window,
)
from sim.model.records import RunResult
from sim.results.targets import DealHistory, target_statistics
from sim.scenario.loading import loads_scenario

ROOT = Path(__file__).resolve().parents[2]
START = dt.date(2022, 1, 1)

OBS = """\
name: toy_record
targets:
  - id: returned
    kind: cumulative_returned
    party: a
    csv: events.csv
    value: total
  - id: sizes
    kind: sizes
    party: a
    csv: events.csv
    value: size
"""
EVENTS = "date,total,size\n2022-02-01,10,10\n2022-05-01,30,20\n2022-09-01,60,30\n"


def _observations(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "events.csv").write_text(EVENTS + extra)
    (tmp_path / "obs.yaml").write_text(OBS)
    return tmp_path / "obs.yaml"


def test_observations_cut_at_the_origin_as_they_are_read(tmp_path: Path) -> None:
    origin = dt.date(2022, 6, 1)
    cut = load_observations(_observations(tmp_path), START, ["a", "b"], before=origin)
    by_id = {t.id: t for t in cut.targets}
    assert by_id["returned"].dates == ("2022-02-01", "2022-05-01")
    assert by_id["returned"].observed == (10.0, 30.0)
    assert by_id["sizes"].observed == (10.0, 20.0)
    assert by_id["sizes"].window[1] == (origin - START).days - 1  # ends the day before
    # a later row, however wild, changes nothing known at the origin
    later = load_observations(
        _observations(tmp_path, "2022-06-01,99999,99999\n"), START, ["a", "b"], before=origin
    )
    assert later.targets == cut.targets
    # and a target with nothing before the origin is left out, not an error
    early = load_observations(_observations(tmp_path), START, ["a"], before=dt.date(2022, 1, 15))
    assert early.targets == []


def _record(tmp_path: Path, extra: str = "") -> Record:
    csv = tmp_path / "record.csv"
    csv.write_text(
        "date,returned_to_a,returned_to_b,kind\n"
        "2022-02-01,10,10,pow\n"
        "2022-03-01,50,0,bodies\n"  # remains: left out
        "2022-04-01,5,5,pow\n"  # two stages of one deal
        "2022-04-03,,7,pow\n"  # a withheld number
        "2022-08-01,20,20,pow\n" + extra
    )
    return load_record(
        csv,
        START,
        ["a", "b"],
        until=dt.date(2022, 12, 31),
        deal_stages=[(dt.date(2022, 4, 1), dt.date(2022, 4, 3))],
    )


def test_record_groups_stages_into_deals_and_flags_withheld_numbers(tmp_path: Path) -> None:
    rec = _record(tmp_path)
    assert len(rec.stage_days) == 4 and len(rec.deal_days) == 3  # bodies left out
    assert rec.deal_days.tolist() == [31.0, 92.0, 212.0]  # a deal is dated by its last stage
    assert np.isnan(rec.deal_sizes[1, 0]) and rec.deal_sizes[1, 1] == 12.0
    w = window(START, dt.date(2022, 3, 15), 3)  # 2022-03-15 .. 2022-06-14
    truth, why = record_quantities(rec, w)
    # returned_a, returned_b, deals, stages, largest_a, largest_b, longest_gap
    assert np.isnan(truth[0]) and why[0]  # withheld: not scored
    assert truth[1] == 12.0 and truth[2] == 1.0 and truth[3] == 2.0
    assert np.isnan(truth[4]) and truth[5] == 12.0
    assert truth[6] == max(92 - w.lo, w.hi + 1 - 92)  # from the origin to the deal, or after
    assert rec.before(92.0).deal_days.tolist() == [31.0]
    uncovered, why = record_quantities(rec, window(START, dt.date(2022, 11, 1), 3))
    assert np.isnan(uncovered).all() and why[0] == "record ends before the window"


def test_a_bad_record_row_is_one_clear_error(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("date,returned_to_a,returned_to_b\n2022-02-01,ten,1\n")
    with pytest.raises(Exception, match=r"bad.csv:2: returned_to_a: expected a number"):
        load_record(csv, START, ["a", "b"])


def test_scenario_at_an_origin_forgets_what_was_dated_after_it() -> None:
    text = (ROOT / "scenarios" / "ua_ru_2022_2025.yaml").read_text()
    origin, until = dt.date(2023, 9, 1), dt.date(2024, 8, 31)
    scn = loads_scenario(scenario_at(text, "x", origin, until), source="cut")
    assert scn.horizon == (until - scn.start_date).days + 1
    assert [e.at for e in scn.timeline] == [(dt.date(2023, 1, 1) - scn.start_date).days]
    uae = next(f for f in scn.formats if f.id == "uae")
    assert uae.transitions[0].at is not None and uae.transitions[0].at > scn.horizon  # never
    assert [t.hazard for t in uae.transitions[1:]] == [0.005521, 0.02993]  # kept, in place
    keep, dropped = fit_at(
        ["timeline.2024-01-01.set.x=1:2", "formats.uae.transitions.1.hazard=0.001:0.01"], origin
    )
    assert keep == ["formats.uae.transitions.1.hazard=0.001:0.01"]
    assert dropped == ["timeline.2024-01-01.set.x=1:2"]


def test_months_and_origins() -> None:
    assert add_months(dt.date(2024, 8, 31), 6) == dt.date(2025, 2, 28)
    assert origins_between(dt.date(2022, 9, 1), dt.date(2025, 9, 1), 6)[-1] == dt.date(2025, 9, 1)
    assert len(origins_between(dt.date(2022, 9, 1), dt.date(2025, 9, 1), 6)) == 7


def test_model_windows_count_like_the_record() -> None:
    """A run whose deals are those of the record gives the record's values."""
    w = window(START, dt.date(2022, 3, 15), 3)
    days = [31.4, 90.2, 92.7, 212.1]  # the stages of the toy record (fractional times)
    res = RunResult(
        scenario="toy", seed=0, replication=0, horizon=400.0, outcomes={}, parties=[],
        grid=np.zeros(1), held_series={}, repatriated_series={}, events=[], talks=[],
        deals=[
            {"outcome": "executed", "day": days[0], "transfers": [("b", "a", "a", 10)]},
            {
                "outcome": "executed", "day": days[2], "transfers": [("a", "b", "b", 12)],
                "stages": [(days[1], [("a", "b", "b", 5)]), (days[2], [("a", "b", "b", 7)])],
            },
            {"outcome": "executed", "day": days[3], "transfers": [("b", "a", "a", 20)]},
        ],
    )  # fmt: skip
    hist = DealHistory.of(res)
    stats = np.concatenate([target_statistics(t, hist) for t in forecast_targets(["a", "b"], [w])])
    q = model_quantities(stats[None, :], ["a", "b"], 1)[0, 0]
    assert q.tolist() == [0.0, 12.0, 1.0, 2.0, 0.0, 12.0, max(92 - w.lo, w.hi + 1 - 92)]


def test_a_later_record_row_cannot_change_a_forecast(tmp_path: Path) -> None:
    """The whole origin, twice: with the record as it is and with wild rows added after the
    origin (in the handovers and in the data the observations read). Every forecast is the
    same."""
    data = tmp_path / "data_2025"
    shutil.copytree(ROOT / "seeds" / "data_2025", data)
    obs = tmp_path / "observed.yaml"
    obs.write_text((ROOT / "seeds" / "observed_ua_ru_2022_2025.yaml").read_text())
    origin = dt.date(2024, 3, 1)

    def forecast(where: Path) -> list[dict[str, object]]:
        plan = plan_backtest(
            ROOT / "scenarios" / "ua_ru_2022_2025.yaml",
            observed=obs,
            record=data / "ua_ru_exchanges.csv",
            record_until=dt.date(2025, 12, 31),
            fit=["timeline.2023-01-01.set.parties.ukraine.initiative.mean=15:90"],
            points=12,
            replications=1,
            accept=1.0,
            origins=(origin, origin),
            horizons=(3,),
        )
        assert isinstance(plan, BacktestPlan)
        res = forecast_origin(plan, origin, where, execution=Execution(workers=1))
        return [{k: v for k, v in r.items() if k.startswith("q")} for r in res["rows"]]

    before = forecast(tmp_path / "a.yaml")
    with (data / "ua_ru_exchanges.csv").open("a") as fh:
        fh.write("2024-03-02,9999,9999,UAE,pow,x,wild\n")
    with (data / "ua_ru_cumulative.csv").open("a") as fh:
        fh.write("2024-03-01,99,99999,x,wild\n")
    after = forecast(tmp_path / "b.yaml")
    assert before == after
    assert any(r["q95"] != r["q05"] for r in before)  # the forecasts are not trivial


def test_tasks_of_different_points_over_the_same_replications_are_all_kept() -> None:
    """Results are keyed by (first point, start): two points run over replications 0..1 are
    two results, in point order (keyed by start alone, one overwrote the other)."""
    from sim.fit.target_runs import StatsTask, run_stats_tasks
    from sim.scenario.loading import load_scenario

    scn = load_scenario(ROOT / "scenarios" / "minimal.yaml")
    target = forecast_targets(scn.party_ids, [window(scn.start_date, scn.start_date, 1)])[0]
    tasks = [StatsTask(((p, scn),), 1, 0, 2, (target,)) for p in (1, 0)]
    parts = run_stats_tasks(tasks, execution=Execution(workers=1))
    assert [int(p.points[0]) for p in parts] == [0, 1]
