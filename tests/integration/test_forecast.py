"""`pxsim forecast`: per-period counts that agree with plain runs, posterior draws by weight,
clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.api import run
from sim.cli.main import main
from sim.errors import ScenarioError
from sim.experiments.options import Execution
from sim.fit.forecast import forecast, posterior_draws
from sim.fit.periods import parse_period


def test_a_period_covering_the_horizon_counts_what_a_run_counts(minimal_path: Path) -> None:
    # minimal.yaml: 365 days from 2025-01-01, i.e. to the end of 2025-12-31
    res = forecast(
        minimal_path,
        until=dt.date(2025, 12, 31),
        periods=[
            parse_period("2025=2025-01-01:2025-12-31"),
            parse_period("H2=2025-07-01:2025-12-31"),
        ],
        n=30,
        execution=Execution(workers=1),
    )
    plain = run(minimal_path, replications=30, workers=1)
    assert res.runs["deals_2025"].tolist() == plain.runs["deals"].tolist()
    returned_blue = plain.parties[plain.parties["party"] == "blue"]["repatriated_home"]
    assert res.runs["returned_blue_2025"].tolist() == returned_blue.tolist()
    assert (res.runs["deals_H2"] <= res.runs["deals_2025"]).all()
    row = res.summary.set_index("quantity").loc["deals_2025"]
    assert row["mean"] == pytest.approx(plain.runs["deals"].mean())
    assert row["p05"] <= row["median"] <= row["p95"]


def _calibration_dir(tmp_path: Path, weights: list[float]) -> Path:
    d = tmp_path / "cal"
    d.mkdir()
    pd.DataFrame({"parameter": ["parties.blue.initiative.mean", "negotiation.max_rounds"]}).to_csv(
        d / "fit.csv", index=False
    )
    pd.DataFrame(
        {
            "round": [0, 0, 1, 1, 1],
            "point": [0, 1, 0, 1, 2],
            "parties.blue.initiative.mean": [1.0, 2.0, 5.5, 500.0, 7.25],
            "negotiation.max_rounds": [3, 3, 4, 9, 12],
            "weight": [0.5, 0.5, *weights],
        }
    ).to_csv(d / "posterior.csv", index=False)
    return d


def test_posterior_draws_follow_the_final_round_weights(tmp_path: Path) -> None:
    d = _calibration_dir(tmp_path, [0.25, 0.0, 0.75])
    draws = posterior_draws(d, 4000, seed=3)
    means = [x["parties.blue.initiative.mean"] for x in draws]
    assert set(means) == {5.5, 7.25}  # never round 0, never a zero weight
    assert np.mean(np.array(means) == 7.25) == pytest.approx(0.75, abs=0.03)
    assert {type(x["negotiation.max_rounds"]) for x in draws} == {int}
    assert draws == posterior_draws(d, 4000, seed=3)


def test_posterior_forecast_uses_each_draw(tmp_path: Path, minimal_path: Path) -> None:
    d = _calibration_dir(tmp_path, [0.0, 1.0, 0.0])  # all weight on a Blue that never initiates
    res = forecast(
        minimal_path,
        until=dt.date(2025, 12, 31),
        periods=[parse_period("y=2025-01-01:2025-12-31")],
        calibration=d,
        n=20,
        execution=Execution(workers=2),
    )
    assert (res.runs["parties.blue.initiative.mean"] == 500.0).all()
    slow = forecast(
        minimal_path,
        until=dt.date(2025, 12, 31),
        periods=[parse_period("y=2025-01-01:2025-12-31")],
        overrides=["parties.blue.initiative.mean=500", "negotiation.max_rounds=9"],
        n=20,
        execution=Execution(workers=1),
    )
    assert res.runs["deals_y"].tolist() == slow.runs["deals_y"].tolist()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025", "expected LABEL="),
        ("a=2025-01-01:2024-01-01", "LAST not before FIRST"),
        ("a=x:y", "expected"),
    ],
)
def test_bad_periods(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_period(text)


def test_cli_forecast_writes_and_refuses_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], minimal_path: Path
) -> None:
    base = ["forecast", str(minimal_path), "--until", "2026-03-31", "-n", "20", "--workers", "1"]
    assert main([*base, "--period", "q1=2026-01-01:2026-03-31", "--out", str(tmp_path / "f")]) == 0
    out = capsys.readouterr().out
    assert "deals_q1" in out and "90% interval" in out
    runs = pd.read_csv(tmp_path / "f" / "forecast.csv")
    assert len(runs) == 20 and "returned_red_q1" in runs
    assert main([*base, "--period", "late=2026-03-01:2026-04-30"]) == 2
    assert "not between the start date" in capsys.readouterr().err
    assert (
        main([*base, "--period", "q1=2026-01-01:2026-03-31", "--calibration", str(tmp_path)]) == 2
    )
    assert "not a finished `pxsim calibrate` output directory" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base[:2], "--until", "soon", "--period", "a=2025-01-01:2025-02-01"])
    assert "expected a date YYYY-MM-DD" in capsys.readouterr().err
