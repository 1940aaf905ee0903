"""The `pxsim` command line: run, validate, trace, schema; outputs, exit codes, help."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli.main import main
from sim.version import __version__

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = str(ROOT / "scenarios" / "minimal.yaml")
KURSK = str(ROOT / "scenarios" / "kursk_2025.yaml")


def test_run_prints_table_and_writes_the_output_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["run", MINIMAL, "-n", "6", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "minimal: 6 replications, seed 3" in printed
    for metric in ("repatriated", "deals", "died", "first_deal_day", "95% CI"):
        assert metric in printed
    names = {p.name for p in out.iterdir()}
    assert names == {
        "runs.csv",
        "parties.csv",
        "timeseries.csv",
        "summary.csv",
        "manifest.json",
        "scenario.resolved.yaml",
        # captivity survival curves, median days held, talks and deals per channel
        "survival.csv",
        "captivity.csv",
        "channels.csv",
        # the Parquet parts (streamed as chunks finish) and the run's identity (--resume)
        "runs",
        "parties",
        "series",
        "run.json",
    }
    runs = pd.read_csv(out / "runs.csv")
    parquet = pd.read_parquet(out / "runs")
    assert parquet["repatriated"].tolist() == runs["repatriated"].tolist()
    assert list(runs["replication"]) == list(range(6))
    assert set(runs["seed"]) == {3}
    summary = pd.read_csv(out / "summary.csv").set_index("metric")
    assert summary.loc["repatriated", "mean"] == pytest.approx(runs["repatriated"].mean())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["replications"] == 6
    assert manifest["scenario"] == "minimal" and len(manifest["scenario_hash"]) == 16
    # the resolved scenario reproduces the run
    again = tmp_path / "again"
    assert (
        main(
            [
                "run",
                str(out / "scenario.resolved.yaml"),
                "-n",
                "6",
                "--seed",
                "3",
                "--out",
                str(again),
            ]
        )
        == 0
    )
    assert (again / "runs.csv").read_bytes() == (out / "runs.csv").read_bytes()


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    for d in ("a", "b"):
        assert main(["run", KURSK, "-n", "4", "--seed", "9", "--out", str(tmp_path / d)]) == 0
    for name in (
        "runs.csv",
        "parties.csv",
        "timeseries.csv",
        "summary.csv",
        "manifest.json",
        "scenario.resolved.yaml",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert main(["run", KURSK, "-n", "4", "--seed", "10", "--out", str(tmp_path / "c")]) == 0
    assert (tmp_path / "a" / "runs.csv").read_bytes() != (tmp_path / "c" / "runs.csv").read_bytes()


def test_set_overrides_change_the_run(tmp_path: Path) -> None:
    base, frozen = tmp_path / "base", tmp_path / "frozen"
    assert main(["run", MINIMAL, "-n", "5", "--out", str(base)]) == 0
    assert (
        main(["run", MINIMAL, "-n", "5", "--out", str(frozen), "--set", "negotiation.frozen=true"])
        == 0
    )
    assert pd.read_csv(base / "runs.csv")["deals"].sum() > 0
    assert pd.read_csv(frozen / "runs.csv")["deals"].sum() == 0
    manifest = json.loads((frozen / "manifest.json").read_text())
    assert manifest["overrides"] == ["negotiation.frozen=true"]


def test_validate_reports_each_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(MINIMAL).read_text().replace("rate: 0.5", "rate: -1", 1))
    assert main(["validate", MINIMAL, str(bad)]) == 2
    captured = capsys.readouterr()
    assert f"{MINIMAL}: OK" in captured.out
    assert f"{bad}:" in captured.err and "rate" in captured.err and ">= 0" in captured.err
    assert "Traceback" not in captured.err


def test_validate_all_good_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    scenarios = sorted(str(p) for p in (ROOT / "scenarios").glob("*.yaml"))
    assert main(["validate", *scenarios]) == 0
    assert capsys.readouterr().out.count(": OK") == len(scenarios)


def test_trace_tells_a_dated_story(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", KURSK, "--replication", "0"]) == 0
    text = capsys.readouterr().out
    assert "kursk_2025: replication 0" in text
    assert "2025-01-" in text  # dates from the scenario's start
    assert "opens talks" in text and "deal #" in text
    assert "captures" in text and "ukraine" in text
    assert "refuses talks" in text  # russia does not acknowledge dprk prisoners
    assert "-- at the horizon:" in text


def test_trace_without_captures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", KURSK, "--no-captures", "--limit", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    story = [ln for ln in lines if ln[:4].isdigit()]
    assert len(story) == 5
    assert not any("captures" in ln for ln in story)


def test_schema_prints_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    text = capsys.readouterr().out
    assert text == (ROOT / "docs" / "scenario-format.md").read_text()


@pytest.mark.parametrize("command", ["run", "validate", "trace", "schema"])
def test_help_of_every_command(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert f"pxsim {command}" in text
    assert len(text.splitlines()) >= 5


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "run" in capsys.readouterr().out


def test_bad_option_values_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", MINIMAL, "-n", "0"])
    assert exc.value.code == 2
    assert "expected at least 1" in capsys.readouterr().err


def test_out_path_that_is_a_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["run", MINIMAL, "-n", "2", "--out", str(f)]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert f.read_text() == "x"


def _pxsim_executable() -> str:
    """The installed ``pxsim`` console script: next to this Python, else on the PATH."""
    here = Path(sys.executable).parent / ("pxsim.exe" if sys.platform == "win32" else "pxsim")
    found = str(here) if here.exists() else shutil.which("pxsim")
    if found is None:
        pytest.fail("the pxsim console script is not installed (pip install -e .)")
    return found


def test_console_script(tmp_path: Path) -> None:
    pxsim = _pxsim_executable()

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pxsim, *argv], capture_output=True, text=True, cwd=tmp_path, check=False
        )

    proc = run("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"pxsim {__version__}\n"
    proc = run("validate", MINIMAL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{MINIMAL}: OK (minimal: ")
    assert proc.stderr == ""
    proc = run("validate", str(tmp_path / "missing.yaml"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr
    proc = run("run", MINIMAL, "-n", "0")
    assert proc.returncode == 2
    assert "pxsim run: error: argument -n/--replications: expected at least 1" in proc.stderr


def test_module_entry_point(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", MINIMAL, "-n", "3"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "minimal: 3 replications" in proc.stdout


def test_a_bad_scheduler_address_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("dask.distributed")
    code = main(["run", MINIMAL, "-n", "2", "--backend", "dask", "--scheduler", "no-port"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: cannot reach the Dask scheduler at no-port")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
