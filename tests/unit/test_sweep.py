"""Sweeps (sim.experiments.sweep): common random numbers, files, parallel identity, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim import SweepResult
from sim import sweep as api_sweep
from sim.errors import ScenarioError
from sim.experiments.options import Execution
from sim.experiments.store import OutputDirError
from sim.experiments.sweep import plan_sweep, run_sweep
from sim.model.records import OUTCOME_COLUMNS
from sim.results.summary import MAIN_METRICS
from sim.scenario.loading import loads_scenario

TOY = """\
name: toy
start_date: 2025-01-01
horizon: 150
seed: 5
replications: 3
parties:
  - id: blue
    direct_channels: [red]
    norms: {one_for_one: true}
    initiative: {dist: exponential, mean: 15}
  - id: red
    norms: {one_for_one: true}
    initiative: {dist: exponential, mean: 20}
holdings:
  - {holder: red, nationality: blue, count: 40}
  - {holder: blue, nationality: red, count: 40}
capture_streams:
  - {id: b_takes_r, captor: blue, nationality: red, rate: 0.4, batch: {dist: geometric, mean: 2}}
  - {id: r_takes_b, captor: red, nationality: blue, rate: 0.3}
captivity:
  death_hazard: {healthy: 0.0005}
negotiation:
  collapse: 0.2
"""


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    path = tmp_path / "toy.yaml"
    path.write_text(TOY)
    return path


def test_common_random_numbers(toy: Path, tmp_path: Path) -> None:
    n = 4
    res = api_sweep(
        toy,
        ["negotiation.collapse=0.1,0.1,0.9"],
        design="grid",
        replications=n,
        workers=1,
        out=tmp_path / "crn",
    )
    t = res.table
    assert list(t.columns) == [
        "point",
        "negotiation.collapse",
        "scenario",
        "replication",
        "seed",
        *OUTCOME_COLUMNS,
    ]
    assert t["point"].tolist() == [0] * n + [1] * n + [2] * n
    assert t["replication"].tolist() == list(range(n)) * 3
    assert set(t["seed"]) == {5}
    p = [t[t["point"] == i].reset_index(drop=True) for i in range(3)]
    # the same parameter values: the same outcomes, replication by replication
    pd.testing.assert_frame_equal(p[0].drop(columns="point"), p[1].drop(columns="point"))
    # a negotiation parameter leaves the capture draws alone...
    assert p[2]["captured"].tolist() == p[0]["captured"].tolist()
    # ...but changes what negotiation does
    assert p[2]["deals_collapsed"].sum() > p[0]["deals_collapsed"].sum()


def test_files_columns_and_rows(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "lhs"
    res = api_sweep(
        toy,
        {"negotiation.max_rounds": (2, 30), "parties.blue.reservation": (0.1, 0.9)},
        design="lhs",
        points=5,
        replications=3,
        workers=1,
        out=out,
    )
    assert isinstance(res, SweepResult) and res.out == out and res.indices is None
    names = {p.name for p in out.iterdir()}
    assert {"sweep.csv", "points.csv", "sweep.json", "scenario.resolved.yaml"} <= names
    assert "indices.csv" not in names
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 5 * 3
    assert table["negotiation.max_rounds"].dtype.kind == "i"
    pd.testing.assert_frame_equal(table, res.table)
    points = pd.read_csv(out / "points.csv")
    stats = [f"{m}_{k}" for m in MAIN_METRICS for k in ("mean", "ci_low", "ci_high")]
    assert list(points.columns) == [
        "point",
        "negotiation.max_rounds",
        "parties.blue.reservation",
        *stats,
    ]
    assert len(points) == 5
    first = table[table["point"] == 2]
    assert points.loc[2, "repatriated_mean"] == pytest.approx(first["repatriated"].mean())
    assert points.loc[2, "negotiation.max_rounds"] == first["negotiation.max_rounds"].iloc[0]
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["design"] == "lhs" and manifest["points"] == 5
    assert manifest["replications"] == 3 and manifest["seed"] == 5
    assert [p["path"] for p in manifest["params"]] == [
        "negotiation.max_rounds",
        "parties.blue.reservation",
    ]
    assert manifest["params"][0]["integer"] is True
    assert len(manifest["scenario_hash"]) == 16 and manifest["version"]
    assert manifest["files"] == ["sweep.csv", "points.csv", "sweep.json", "scenario.resolved.yaml"]


SOBOL = ["capture_streams.b_takes_r.rate=0.05:1.5", "parties.blue.initiative.mean=5:60"]


def test_sobol_indices_on_a_toy_where_one_parameter_cannot_matter(toy: Path) -> None:
    # talks are frozen: a party's initiative cannot matter, the capture rate does
    res = api_sweep(
        toy,
        SOBOL,
        design="sobol",
        points=8,
        replications=2,
        workers=1,
        overrides=["negotiation.frozen=true"],
    )
    assert res.out is None  # a temporary directory, removed
    assert len(res.table) == 8 * (2 * 2 + 2) * 2
    idx = res.indices
    assert idx is not None
    assert list(idx.columns) == ["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    st = idx.set_index(["metric", "parameter"])["ST"]
    for metric in ("captured", "held_at_end"):
        assert st[(metric, "capture_streams.b_takes_r.rate")] > 0.3
        assert abs(st[(metric, "parties.blue.initiative.mean")]) < 1e-9
    # nothing is negotiated: those metrics are left out, with the reason
    assert res.skipped["deals"] == "constant across points"
    assert "deals" not in set(idx["metric"])


def test_morris_indices(toy: Path, tmp_path: Path) -> None:
    res = api_sweep(
        toy,
        SOBOL,
        design="morris",
        points=4,
        replications=2,
        workers=1,
        out=tmp_path / "m",
        overrides=["negotiation.frozen=true"],
    )
    assert res.indices is not None
    mu = res.indices.set_index(["metric", "parameter"])["mu_star"]
    assert mu[("captured", "capture_streams.b_takes_r.rate")] > 1
    assert mu[("captured", "parties.blue.initiative.mean")] == 0
    on_disk = pd.read_csv(tmp_path / "m" / "indices.csv")
    assert list(on_disk.columns) == [
        "metric",
        "parameter",
        "mu",
        "mu_star",
        "mu_star_conf",
        "sigma",
    ]
    manifest = json.loads((tmp_path / "m" / "sweep.json").read_text())
    assert manifest["indices"]["skipped"]["deals"] == "constant across points"
    assert "indices.csv" in manifest["files"]


FILES = ("sweep.csv", "points.csv", "indices.csv", "sweep.json")


def test_byte_identical_whatever_the_worker_count(toy: Path, tmp_path: Path) -> None:
    plan = plan_sweep(
        toy, ["negotiation.collapse=0:0.6", "negotiation.max_rounds=2:20"], design="sobol", points=2
    )
    for w in (1, 2):
        run_sweep(
            plan, tmp_path / f"w{w}", replications=3, execution=Execution(workers=w, chunk_size=2)
        )
    for name in FILES:
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes()


def test_resume_after_losing_chunks_gives_identical_files(toy: Path, tmp_path: Path) -> None:
    plan = plan_sweep(toy, ["negotiation.collapse=0:0.6:3"], design="grid")
    first = run_sweep(
        plan, tmp_path / "a", replications=4, execution=Execution(workers=1, chunk_size=2)
    )
    assert (first.chunks_run, first.chunks_reused) == (6, 0)
    before = {n: (tmp_path / "a" / n).read_bytes() for n in ("sweep.csv", "points.csv")}
    parts = sorted((tmp_path / "a" / "runs").glob("part-*.parquet"))
    assert parts[1].name == "part-p000000-0000000002.parquet"
    for lost in (parts[1], parts[4]):
        lost.unlink()
    (tmp_path / "a" / "sweep.csv").unlink()
    with pytest.raises(OutputDirError, match="--resume"):
        run_sweep(
            plan, tmp_path / "a", replications=4, execution=Execution(workers=1, chunk_size=2)
        )
    again = run_sweep(
        plan,
        tmp_path / "a",
        replications=4,
        execution=Execution(workers=1, chunk_size=2, resume=True),
    )
    assert (again.chunks_run, again.chunks_reused) == (2, 4)
    for name, data in before.items():
        assert (tmp_path / "a" / name).read_bytes() == data
    # another sweep in the same directory needs --force
    other = plan_sweep(toy, ["negotiation.collapse=0:0.5:3"], design="grid")
    with pytest.raises(OutputDirError, match="different run"):
        run_sweep(
            other, tmp_path / "a", replications=4, execution=Execution(workers=1, resume=True)
        )
    forced = run_sweep(
        other, tmp_path / "a", replications=4, execution=Execution(workers=1, force=True)
    )
    assert forced.chunks_reused == 0
    table = pd.read_csv(tmp_path / "a" / "sweep.csv")
    assert sorted(set(table["negotiation.collapse"])) == [0, 0.25, 0.5]


def test_every_point_is_validated_before_anything_runs(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "never"
    with pytest.raises(ScenarioError) as err:
        api_sweep(toy, ["negotiation.collapse=0:1.4"], points=4, workers=1, out=out)
    assert str(err.value).startswith("--param negotiation.collapse=0:1.4: negotiation.collapse")
    assert "1.4" in str(err.value)
    # a combination that is only wrong together with the file's values
    with pytest.raises(ScenarioError, match="at sweep point"):
        api_sweep(
            toy,
            [
                "parties.blue.norms.one_for_one=false,true",
                "parties.blue.norms.all_for_all=false,true",
            ],
            design="grid",
            workers=1,
            out=out,
            overrides=["parties.blue.norms={}"],  # each value alone is fine
        )
    assert not out.exists()


def test_a_scenario_object_and_overrides(toy: Path) -> None:
    scn = loads_scenario(TOY)
    res = api_sweep(
        scn,
        {"negotiation.max_rounds": [3, 40]},
        design="grid",
        replications=2,
        workers=1,
        overrides={"negotiation.collapse": 0.5},
        seed=11,
    )
    assert res.table["negotiation.max_rounds"].tolist() == [3, 3, 40, 40]
    assert set(res.table["seed"]) == {11}
    from_file = api_sweep(
        toy,
        ["negotiation.max_rounds=3,40"],
        design="grid",
        replications=2,
        workers=1,
        overrides=["negotiation.collapse=0.5"],
        seed=11,
    )
    pd.testing.assert_frame_equal(res.table, from_file.table)
