"""sim/experiments/runner.py: how the work is cut, what identifies a run, the rows a chunk
becomes, resuming, and adding replications until a metric is precise enough."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments.chunks import ChunkTask, default_chunk_size, run_chunk
from sim.experiments.options import Execution
from sim.experiments.runner import RESERVOIR, Precision, chunk_frames, identity_of, run_to_dir
from sim.model.records import OUTCOME_COLUMNS
from sim.results.summary import summarise
from sim.scenario.loading import loads_scenario, scenario_hash
from sim.scenario.schema import Scenario
from sim.version import __version__

SERIAL = Execution(backend="serial")


# ---------------------------------------------------------------------- chunk size
@pytest.mark.parametrize(
    ("replications", "size"),
    [(0, 1), (1, 1), (32, 1), (33, 2), (64, 2), (320, 10), (1000, 32), (16_000, 500), (10**7, 500)],
)
def test_default_chunk_size(replications: int, size: int) -> None:
    assert default_chunk_size(replications) == size


def test_default_chunk_size_bounds() -> None:
    sizes = [default_chunk_size(n) for n in range(0, 40_000, 7)]
    assert min(sizes) == 1 and max(sizes) == 500
    assert sizes == sorted(sizes)  # more replications, never smaller chunks
    for n in range(1, 16_001, 13):  # about 32 chunks, never more, until the cap
        assert -(-n // default_chunk_size(n)) <= 32


# ---------------------------------------------------------------------- identity
def test_identity_records_what_makes_the_run(toy_scenario: Scenario) -> None:
    ident = identity_of(toy_scenario, 5, 8)
    assert ident == {
        "kind": "run",
        "scenario": "toy",
        "scenario_hash": scenario_hash(toy_scenario),
        "seed": 5,
        "chunk_size": 8,
        "reservoir": RESERVOIR,
        "created_by": f"pxsim {__version__}",
    }
    assert identity_of(toy_scenario, 5, 8) == ident  # the same inputs, the same identity
    assert identity_of(toy_scenario, 5, 8, kind="sweep", extra={"points": 3})["points"] == 3


def test_identity_changes_with_the_seed_and_the_scenario(
    toy_scenario: Scenario, toy_scenario_text: str
) -> None:
    base = identity_of(toy_scenario, 5, 8)
    assert identity_of(toy_scenario, 6, 8)["seed"] == 6
    changed = loads_scenario(toy_scenario_text, ["negotiation.collapse=0.5"])
    other = identity_of(changed, 5, 8)
    assert other["scenario"] == base["scenario"]  # same name,
    assert other["scenario_hash"] != base["scenario_hash"]  # different world
    same = loads_scenario(toy_scenario_text, ["negotiation.collapse=0.0"])
    assert identity_of(same, 5, 8) == base  # an override to the value it had changes nothing


# ---------------------------------------------------------------------- rows
def test_chunk_frames_put_the_replications_in_rows(toy_scenario: Scenario) -> None:
    data = run_chunk(ChunkTask(toy_scenario, 4, 3, 6))
    runs, parties = chunk_frames(data, extra={"point": 2})
    assert list(runs.columns) == ["scenario", "replication", "seed", "point", *OUTCOME_COLUMNS]
    assert runs["replication"].tolist() == [3, 4, 5]
    assert (runs["scenario"] == "toy").all() and (runs["seed"] == 4).all()
    np.testing.assert_array_equal(runs[list(OUTCOME_COLUMNS)].to_numpy(), data.outcomes)
    assert parties["replication"].tolist() == [3, 3, 4, 4, 5, 5]
    assert parties["party"].tolist() == ["a", "b"] * 3
    assert (parties["point"] == 2).all()
    held = parties.set_index(["replication", "party"])["held"]
    assert held[(4, "b")] == data.parties[1, 1, 0]


# ---------------------------------------------------------------------- running
def test_resume_reuses_finished_chunks_and_grows(tmp_path: Path, toy_scenario: Scenario) -> None:
    first = run_to_dir(
        toy_scenario, tmp_path, seed=2, replications=6, execution=SERIAL.but(chunk_size=2)
    )
    assert (first.replications, first.chunks_run, first.chunks_reused) == (6, 3, 0)
    more = run_to_dir(
        toy_scenario, tmp_path, seed=2, replications=10, execution=SERIAL.but(resume=True)
    )
    assert (more.replications, more.chunks_run, more.chunks_reused) == (10, 2, 3)
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert runs["replication"].tolist() == list(range(10))
    assert json.loads((tmp_path / "run.json").read_text())["chunk_size"] == 2  # kept


def test_precision_already_reached_stops_at_once(tmp_path: Path, toy_scenario: Scenario) -> None:
    report = run_to_dir(
        toy_scenario,
        tmp_path,
        seed=1,
        replications=8,
        until=Precision("deals", 100.0),
        execution=SERIAL,
    )
    assert report.replications == 8 and report.chunks_run == 8
    p = report.precision
    assert p is not None and p["reached"] and p["replications"] == 8
    stats = summarise(pd.read_csv(tmp_path / "runs.csv")["deals"].to_numpy())
    assert p["halfwidth"] == pytest.approx((stats["ci_high"] - stats["ci_low"]) / 2)
    assert json.loads((tmp_path / "manifest.json").read_text())["precision"] == p


def test_precision_adds_replications_until_narrow(tmp_path: Path, toy_scenario: Scenario) -> None:
    report = run_to_dir(
        toy_scenario,
        tmp_path,
        seed=1,
        replications=4,
        until=Precision("repatriated", 8.0),
        execution=SERIAL.but(chunk_size=4),
    )
    p = report.precision
    assert p is not None and p["reached"] and p["halfwidth"] <= 8.0
    assert report.replications > 4 and report.replications % 4 == 0  # whole chunks added
    assert p["replications"] == report.replications
    values = pd.read_csv(tmp_path / "runs.csv")["repatriated"].to_numpy()
    assert len(values) == report.replications
    stats = summarise(values)
    assert (stats["ci_high"] - stats["ci_low"]) / 2 == pytest.approx(p["halfwidth"])


def test_precision_out_of_reach_stops_at_the_maximum(
    tmp_path: Path, toy_scenario: Scenario
) -> None:
    report = run_to_dir(
        toy_scenario,
        tmp_path,
        seed=1,
        replications=4,
        until=Precision("repatriated", 1e-6),
        max_replications=12,
        execution=SERIAL.but(chunk_size=4),
    )
    assert report.replications == 12
    assert report.precision is not None and not report.precision["reached"]
    assert report.precision["halfwidth"] > 1e-6
