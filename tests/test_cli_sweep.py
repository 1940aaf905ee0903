"""`pxsim sweep`: the printed tables, the files, resume/force, and one clear error each."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = str(ROOT / "scenarios" / "minimal.yaml")
SHORT = ["--set", "horizon=120", "-n", "2", "--workers", "1", "--quiet"]


def test_grid_sweep_prints_points_and_writes_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "grid"
    argv = ["sweep", MINIMAL, "--param", "negotiation.collapse=0:0.6:3", "--design", "grid"]
    assert main([*argv, *SHORT, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "minimal: grid sweep of 1 parameter(s), 3 points x 2 replications" in printed
    assert "negotiation.collapse" in printed and "repatriated (mean)" in printed
    assert "indices" not in printed
    assert {"sweep.csv", "points.csv", "sweep.json", "run.json"} <= {p.name for p in out.iterdir()}
    points = pd.read_csv(out / "points.csv")
    assert points["negotiation.collapse"].tolist() == [0, 0.3, 0.6]
    assert len(pd.read_csv(out / "sweep.csv")) == 6
    # the same sweep again: --resume reuses it, without it the directory is refused
    capsys.readouterr()
    assert main([*argv, *SHORT, "--out", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err
    before = (out / "sweep.csv").read_bytes()
    assert main([*argv, *SHORT, "--out", str(out), "--resume"]) == 0
    assert "0 chunk(s) run, 6 reused" in capsys.readouterr().out
    assert (out / "sweep.csv").read_bytes() == before


def test_sobol_sweep_prints_indices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sobol"
    argv = [
        "sweep",
        MINIMAL,
        "--param",
        "negotiation.collapse=0:0.5",
        "--param",
        "capture_streams.blue_takes_red.rate=0.1:1",
        "--design",
        "sobol",
        "--points",
        "2",
    ]
    assert main([*argv, *SHORT, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "12 points x 2 replications" in printed
    assert "Sobol' indices" in printed and "ST" in printed
    assert "capture_streams.blue_takes_red.rate" in printed
    idx = pd.read_csv(out / "indices.csv")
    assert list(idx.columns) == ["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "negotiation.collapse"], "error: --param negotiation.collapse: expected"),
        (["--param", "negotiation.collapse=0:1.5"], "expected a value <= 1"),
        (["--param", "negotiation.colapse=0:1"], "negotiation.colapse: unknown field"),
        (["--param", "parties.green.reservation=0:1"], "no item with id 'green'"),
        (["--param", "negotiation.frozen=true,false", "--design", "sobol"], "numeric ranges"),
        (["--param", "negotiation.max_rounds=0:10"], "expected a value >= 1, got 0"),
        (["--design", "grid"], "at least one"),
        (["--param", "negotiation.collapse=0:1", "--set", "negotiation.collapse=1"], "also fixed"),
        (["--param", "negotiation.collapse=0:1", "--points", "0"], "expected at least 1"),
    ],
)
def test_errors_exit_2_with_one_message_and_write_nothing(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    try:
        code = main(["sweep", MINIMAL, *args, "--out", str(out), "-n", "2", "--workers", "1"])
    except SystemExit as exc:  # option errors are argparse's (usage line, then the error)
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_missing_salib(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "SALib", None)
    out = tmp_path / "out"
    argv = ["sweep", MINIMAL, "--param", "negotiation.collapse=0:1", "--design", "morris"]
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "error: --design morris: needs SALib" in err
    assert "pip install 'pxsim[sensitivity]'" in err
    assert not out.exists()


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for word in ("--param", "PATH=LOW:HIGH[:STEPS]", "lhs", "sobol", "morris", "examples:"):
        assert word in text
