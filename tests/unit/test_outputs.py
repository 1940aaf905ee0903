"""sim/outputs.py: the output contract (six files, their columns), reproducibility, atomicity."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from sim.atomic import atomic_write_text
from sim.experiments.experiment import run_replications
from sim.experiments.outputs import OUTPUT_FILES, write_outputs
from sim.scenario.loading import loads_scenario, scenario_hash
from sim.version import __version__

STORE_EXTRAS = ("runs", "parties", "series", "run.json")

SCENARIO = """\
name: outputs_test
start_date: 2025-01-01
horizon: 60
parties:
  - id: blue
    direct_channels: [red]
    strategy: conceder
    reservation: 0.2
    initiative: {dist: exponential, mean: 10}
  - id: red
    strategy: conceder
    reservation: 0.2
holdings:
  - {holder: red, nationality: blue, count: 25}
capture_streams:
  - id: blue_takes_red
    captor: blue
    nationality: red
    rate: 0.4
    batch: {dist: geometric, mean: 2}
captivity:
  death_hazard: {healthy: 0.001}
"""

RUNS_COLUMNS = [
    "scenario",
    "replication",
    "seed",
    "initial_held",
    "captured",
    "repatriated",
    "resettled",
    "died",
    "held_at_end",
    "died_avoiding_capture",
    "negotiations",
    "deals",
    "deals_collapsed",
    "offers",
    "first_deal_day",
    "mean_days_held",
]
RUNS_EXTRA = [
    "exchanged",
    "humanitarian_released",
    "asylum_resettled",
    "talks_refused",
    "talks_no_channel",
    "talks_channel_busy",
    "breakdowns",
    "deadlines",
    "rounds_lost",
    "stages",
    "stages_slipped",
    "deals_cut_short",
    "handed_to_custody",
    "custody_returned_home",
    "custody_stayed",
    "custody_resettled",
    "custody_died",
    "in_custody_at_end",
    "remains_initial",
    "remains_added",
    "remains_repatriated",
    "remains_held_at_end",
    "remains_handovers",
]
SUMMARY_COLUMNS = ["metric", "mean", "sd", "ci_low", "ci_high", "p05", "p50", "p95", "n"]
PARTY_COLUMNS = [
    "held",
    "taken",
    "repatriated_home",
    "given",
    "received",
    "ratio",
    "released_humanitarian",
    "died_in_custody",
    "own_died",
    "own_still_held",
    "handed_to_custody",
    "own_in_custody",
    "remains_given",
    "remains_received",
]
TIMESERIES_COLUMNS = [
    "day",
    "date",
    "series",
    "holder",
    "nationality",
    "mean",
    "p05",
    "p25",
    "p50",
    "p75",
    "p95",
]


@pytest.fixture(scope="module")
def scn():
    return loads_scenario(SCENARIO)


def write(scn, out: Path, seed: int = 4, n: int = 3, **kw) -> dict:
    return write_outputs(out, run_replications(scn, seed=seed, replications=n), **kw)


def test_writes_all_six_files(scn, tmp_path: Path) -> None:
    write(scn, tmp_path / "out", source="scenarios/x.yaml", overrides=["seed=4"])
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    # the contract, the Parquet parts and the run's identity (for --resume)
    assert names == sorted([*OUTPUT_FILES, *STORE_EXTRAS])
    assert set(OUTPUT_FILES) == {
        "runs.csv",
        "parties.csv",
        "timeseries.csv",
        "summary.csv",
        "manifest.json",
        "scenario.resolved.yaml",
        "survival.csv",
        "captivity.csv",
        "channels.csv",
    }


def test_runs_csv_columns(scn, tmp_path: Path) -> None:
    write(scn, tmp_path)
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert list(runs.columns[: len(RUNS_COLUMNS)]) == RUNS_COLUMNS
    assert list(runs.columns) == RUNS_COLUMNS + RUNS_EXTRA
    assert list(runs["replication"]) == [0, 1, 2]
    assert set(runs["seed"]) == {4}
    assert set(runs["scenario"]) == {"outputs_test"}
    assert (runs["initial_held"] == 25).all()


def test_summary_csv_columns(scn, tmp_path: Path) -> None:
    write(scn, tmp_path)
    summ = pd.read_csv(tmp_path / "summary.csv")
    assert list(summ.columns) == SUMMARY_COLUMNS
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert list(summ["metric"]) == RUNS_COLUMNS[3:] + RUNS_EXTRA
    row = summ.set_index("metric").loc["captured"]
    assert row["mean"] == pytest.approx(runs["captured"].mean())
    assert row["n"] == 3


def test_parties_and_timeseries_columns(scn, tmp_path: Path) -> None:
    write(scn, tmp_path)
    parties = pd.read_csv(tmp_path / "parties.csv")
    assert set(["replication", "party", *PARTY_COLUMNS]) <= set(parties.columns)
    assert len(parties) == 3 * 2
    ts = pd.read_csv(tmp_path / "timeseries.csv")
    assert list(ts.columns) == TIMESERIES_COLUMNS
    assert set(ts["series"]) == {"held", "repatriated_cumulative"}


def test_manifest_and_resolved_scenario(scn, tmp_path: Path) -> None:
    write(scn, tmp_path, source="scenarios/x.yaml", overrides=["seed=4"])
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert man["version"] == __version__
    assert man["scenario"] == "outputs_test"
    assert man["scenario_file"] == "scenarios/x.yaml"
    assert man["scenario_hash"] == scenario_hash(scn)
    assert man["overrides"] == ["seed=4"]
    assert man["seed"] == 4
    assert man["replications"] == 3
    for lib in ("python", "numpy", "simpy"):
        assert man[lib]
    # the resolved scenario reproduces the scenario exactly
    again = loads_scenario((tmp_path / "scenario.resolved.yaml").read_text())
    assert scenario_hash(again) == scenario_hash(scn)
    assert again.model_dump() == scn.model_dump()


def test_same_seed_byte_identical(scn, tmp_path: Path) -> None:
    write(scn, tmp_path / "a")
    write(scn, tmp_path / "b")
    for name in OUTPUT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_different_seed_differs(scn, tmp_path: Path) -> None:
    write(scn, tmp_path / "a", seed=4)
    write(scn, tmp_path / "b", seed=5)
    for name in ("runs.csv", "timeseries.csv", "summary.csv", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes(), name
    # the scenario itself did not change
    assert (tmp_path / "a" / "scenario.resolved.yaml").read_bytes() == (
        tmp_path / "b" / "scenario.resolved.yaml"
    ).read_bytes()


def test_returned_frames_match_files(scn, tmp_path: Path) -> None:
    frames = write(scn, tmp_path)
    assert set(frames) == {"runs", "parties", "timeseries", "summary"}
    for key in frames:
        on_disk = pd.read_csv(tmp_path / f"{key}.csv")
        if "holder" in on_disk:  # empty holder (repatriated series) reads back as NaN
            on_disk["holder"] = on_disk["holder"].fillna("")
        pd.testing.assert_frame_equal(
            on_disk, frames[key].reset_index(drop=True), check_dtype=False, rtol=1e-9
        )


def test_overwrites_existing_outputs_without_temp_files(scn, tmp_path: Path) -> None:
    write(scn, tmp_path, seed=4)
    write(scn, tmp_path, seed=5)
    assert sorted(os.listdir(tmp_path)) == sorted([*OUTPUT_FILES, *STORE_EXTRAS])
    assert len(os.listdir(tmp_path / "runs")) == 1  # the first run's parts were replaced
    assert set(pd.read_csv(tmp_path / "runs.csv")["seed"]) == {5}


# ------------------------------------------------------------------------- atomic_write_text
def test_atomic_write_writes_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.txt"
    atomic_write_text(target, "hello\nworld\n")
    assert target.read_bytes() == b"hello\nworld\n"
    assert os.listdir(target.parent) == ["f.txt"]


def test_atomic_write_failure_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old contents\n")
    with pytest.raises(TypeError):
        atomic_write_text(target, 12345)  # type: ignore[arg-type]  # writing raises
    assert target.read_text() == "old contents\n"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_atomic_write_failure_at_rename_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old contents\n")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr("sim.atomic.os.replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        atomic_write_text(target, "new contents\n")
    assert target.read_text() == "old contents\n"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_atomic_write_interrupt_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old\n")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("sim.atomic.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "new\n")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["f.txt"]
