"""``pxsim backtest`` from the command line: bad input is one clear error and nothing written;
a small backtest runs end to end, writes its tables, figure and page, and resumes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(ROOT / "scenarios" / "ua_ru_2022_2025.yaml")
OBSERVED = str(ROOT / "seeds" / "observed_ua_ru_2022_2025.yaml")
RECORD = str(ROOT / "seeds" / "data_2025" / "ua_ru_exchanges.csv")
FIT = "timeline.2023-01-01.set.parties.ukraine.initiative.mean=15:90"


def _args(out: Path, *extra: str) -> list[str]:
    return [
        "backtest", SCENARIO, "--observed", OBSERVED, "--record", RECORD,
        "--record-until", "2025-12-31", "--fit", FIT, "--out", str(out), "--quiet", *extra,
    ]  # fmt: skip


def test_a_record_without_a_party_column_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "record.csv"
    bad.write_text("date,returned_to_ukraine\n2024-01-01,5\n")
    args = _args(tmp_path / "out")
    args[args.index(RECORD)] = str(bad)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "record.csv:1: no column 'returned_to_russia'" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_stage_span_with_one_handover_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(tmp_path / "out", "--deal-stages", "2025-01-15:2025-01-20")) == 2
    assert "spans 1 handover(s)" in capsys.readouterr().err


@pytest.mark.slow
def test_a_small_backtest_end_to_end_and_resumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bt"
    small = ("--points", "8", "--replications", "1", "--accept", "1.0", "--workers", "1")
    span = ("--origins", "2024-03-01:2024-09-01", "--horizons", "3")
    assert main(_args(out, *small, *span, "--report")) == 0
    said = capsys.readouterr().out
    assert "origin 2024-03-01" in said and "origin 2024-09-01" in said
    for name in ("backtest.csv", "summary.csv", "backtest.json", "fan.png", "fan.svg"):
        assert (out / name).stat().st_size > 0, name
    assert "<html" in (out / "report.html").read_text().lower()
    scored = pd.read_csv(out / "backtest.csv")
    assert set(scored["method"]) == {"pxsim", "persistence", "climatology"}
    assert set(scored["origin"]) == {"2024-03-01", "2024-09-01"}
    assert scored["scored"].any()
    # the same backtest again: refused without --resume, reused with it
    assert main(_args(out, *small, *span)) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(_args(out, *small, *span, "--resume")) == 0
    assert capsys.readouterr().out.count("reused") == 2
    # a different one needs --force
    assert main(_args(out, *small, "--origins", "2024-03-01:2024-03-01", "--horizons", "3")) == 2
    assert "--force" in capsys.readouterr().err


def test_a_conditioned_forecast_refuses_a_period_before_its_origin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["forecast", SCENARIO, "--until", "2026-03-31", "--observed", OBSERVED, "--fit", FIT]
    assert main([*args, "--period", "late=2025-12-01:2026-01-31", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "before the origin 2026-01-01" in err and "Traceback" not in err
    assert main([*args[:4], "--period", "Q1=2026-01-01:2026-03-31", "--fit", FIT]) == 2
    assert "goes with --observed" in capsys.readouterr().err


@pytest.mark.slow
def test_a_conditioned_forecast_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pxsim forecast --observed``: the backtest's method at the day after the record."""
    out = tmp_path / "f"
    args = [
        "forecast", SCENARIO, "--until", "2026-03-31", "--period", "Q1=2026-01-01:2026-03-31",
        "--observed", OBSERVED, "--fit", FIT, "-n", "16", "--workers", "1", "--quiet",
        "--out", str(out),
    ]  # fmt: skip
    assert main(args) == 0
    said = capsys.readouterr().out
    assert "conditioned on the record before 2026-01-01" in said
    runs = pd.read_csv(out / "forecast.csv")
    assert {"deals_Q1", "stages_Q1", "returned_ukraine_Q1", "longest_gap_Q1"} <= set(runs)
    assert (runs["longest_gap_Q1"] <= 90).all() and (runs["deals_Q1"] >= 0).all()
    assert (out / "scenario_at_origin.yaml").exists()


@pytest.mark.slow
def test_a_backtest_is_the_same_on_dask_as_in_one_process(tmp_path: Path) -> None:
    """Like every other command: the backend changes where runs happen, not what they give."""
    small = ("--points", "6", "--replications", "1", "--accept", "1.0")
    span = ("--origins", "2024-03-01:2024-03-01", "--horizons", "3")
    one, dask = tmp_path / "one", tmp_path / "dask"
    assert main(_args(one, *small, *span, "--workers", "1")) == 0
    assert main(_args(dask, *small, *span, "--backend", "dask", "--workers", "2")) == 0
    for name in ("backtest.csv", "summary.csv"):
        assert (one / name).read_bytes() == (dask / name).read_bytes(), name
