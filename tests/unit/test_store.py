"""sim/experiments/store.py: an output directory is never silently overwritten (identity rules
for resume and force), a chunk counts as finished only once its files are all written, and
what is read back is what was written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.errors import OutputDirError
from sim.experiments.chunks import ChunkData, ChunkTask, run_chunk
from sim.experiments.runner import chunk_frames
from sim.experiments.store import RUN_FILE, RunStore, part_name
from sim.model.records import OUTCOME_COLUMNS
from sim.scenario.schema import Scenario

IDENTITY = {
    "kind": "run",
    "scenario": "toy",
    "scenario_hash": "0123456789abcdef",
    "seed": 1,
    "chunk_size": 4,
    "reservoir": 2000,
    "created_by": "pxsim test",
}


def ident(**changes: Any) -> dict[str, Any]:
    return {**IDENTITY, **changes}


def write(store: RunStore, data: ChunkData) -> None:
    runs, parties = chunk_frames(data)
    store.write_chunk(data, runs, parties)


@pytest.fixture(scope="module")
def chunks(toy_scenario: Scenario) -> list[ChunkData]:
    return [run_chunk(ChunkTask(toy_scenario, 1, a, a + 2)) for a in (0, 2)]


# ---------------------------------------------------------------------- identity
def test_a_fresh_directory_takes_the_identity(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "out")
    assert store.identity() is None
    assert store.open(ident(), resume=False, force=False) == ident()
    assert json.loads((tmp_path / "out" / RUN_FILE).read_text()) == ident()
    assert store.identity() == ident()
    assert store.finished() == [] and store.finished_count() == 0


def test_resume_with_nothing_to_resume_is_a_fresh_start(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    assert store.open(ident(), resume=True, force=False) == ident()
    assert store.identity() == ident()


def test_the_same_run_again_needs_resume_or_force(tmp_path: Path, chunks: list[ChunkData]) -> None:
    store = RunStore(tmp_path)
    store.open(ident(), resume=False, force=False)
    write(store, chunks[0])
    with pytest.raises(OutputDirError, match=r"already holds this run \(1 chunk\(s\) done\)"):
        store.open(ident(), resume=False, force=False)
    assert store.finished_count() == 1  # refused: nothing touched


def test_resume_keeps_the_stored_identity_and_chunks(
    tmp_path: Path, chunks: list[ChunkData]
) -> None:
    store = RunStore(tmp_path)
    store.open(ident(), resume=False, force=False)
    write(store, chunks[0])
    # more replications, another chunk size, another pxsim: still the same run
    grown = ident(replications=100, chunk_size=9, created_by="pxsim later")
    assert store.open(grown, resume=True, force=False) == ident()  # the stored one
    assert store.identity() == ident()
    assert [c.start for c in store.finished()] == [0]


def test_a_different_run_needs_force_which_replaces_it(
    tmp_path: Path, chunks: list[ChunkData]
) -> None:
    store = RunStore(tmp_path)
    store.open(ident(), resume=False, force=False)
    write(store, chunks[0])
    (tmp_path / "runs.csv").write_text("old\n")
    (tmp_path / "formats.csv").write_text("old\n")  # written only for scenarios with formats
    for other in (ident(seed=2), ident(scenario_hash="fedcba9876543210"), ident(kind="sweep")):
        with pytest.raises(OutputDirError, match="holds a different run"):
            store.open(other, resume=True, force=False)  # resume does not help
        assert store.identity() == ident()
    assert store.open(ident(seed=2), resume=False, force=True) == ident(seed=2)
    assert store.identity() == ident(seed=2)
    assert store.finished() == [] and not (tmp_path / "runs.csv").exists()
    assert not (tmp_path / "formats.csv").exists()  # no stale file from the replaced run


def test_force_replaces_the_same_run_too(tmp_path: Path, chunks: list[ChunkData]) -> None:
    store = RunStore(tmp_path)
    store.open(ident(), resume=False, force=False)
    write(store, chunks[0])
    store.open(ident(), resume=False, force=True)
    assert store.finished() == []


def test_a_directory_of_other_files_is_refused_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    store = RunStore(tmp_path)
    with pytest.raises(OutputDirError, match="is not empty and holds no pxsim run"):
        store.open(ident(), resume=True, force=False)
    assert store.identity() is None
    store.open(ident(), resume=False, force=True)
    assert store.identity() == ident()
    assert (tmp_path / "notes.txt").read_text() == "mine"  # force removes only pxsim's files


def test_a_file_is_not_an_output_directory(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")
    with pytest.raises(OutputDirError, match="exists and is not a directory"):
        RunStore(tmp_path / "out").open(ident(), resume=False, force=True)


# ---------------------------------------------------------------------- chunks
def test_part_names_sort_in_replication_order() -> None:
    assert part_name(-1, 42) == "part-0000000042"
    assert part_name(3, 42) == "part-p000003-0000000042"
    names = [part_name(-1, s) for s in (0, 7, 10, 200)]
    assert names == sorted(names)


def test_written_chunks_are_finished_in_order_and_read_back(
    tmp_path: Path, chunks: list[ChunkData]
) -> None:
    store = RunStore(tmp_path)
    store.open(ident(), resume=False, force=False)
    write(store, chunks[1])  # finishing out of order
    write(store, chunks[0])
    done = store.finished()
    assert [(c.point, c.start, c.stop) for c in done] == [(-1, 0, 2), (-1, 2, 4)]
    assert all(c.runs.exists() and c.parties.exists() and c.series.exists() for c in done)
    assert store.finished_count() == 2
    deals = OUTCOME_COLUMNS.index("deals")
    expected = np.concatenate([c.outcomes[:, deals] for c in chunks])
    np.testing.assert_array_equal(store.column("deals"), expected)
    frames = list(store.iter_frames("runs"))
    assert [f["replication"].tolist() for f in frames] == [[0, 1], [2, 3]]
    with np.load(done[0].series) as z:
        assert z["meta"].tolist() == [0, 2, chunks[0].kept]
        np.testing.assert_array_equal(z["sum|held|a|b"], chunks[0].series_sum[("held", "a", "b")])


def test_sweep_points_are_kept_apart(tmp_path: Path, toy_scenario: Scenario) -> None:
    store = RunStore(tmp_path)
    store.open(ident(kind="sweep"), resume=False, force=False)
    for point in (0, 1):
        write(store, run_chunk(ChunkTask(toy_scenario, 1, 0, 2, point=point)))
    assert [(c.point, c.start) for c in store.finished()] == [(0, 0), (1, 0)]
    assert [c.point for c in store.finished(point=1)] == [1]
    assert store.finished(point=-1) == []


def test_a_chunk_without_its_runs_file_is_not_finished(
    tmp_path: Path, chunks: list[ChunkData]
) -> None:
    store = RunStore(tmp_path)
    store.open(ident(), resume=False, force=False)
    write(store, chunks[0])
    write(store, chunks[1])
    store.finished()[1].runs.unlink()  # killed before the runs file, written last, was in place
    assert [c.start for c in store.finished()] == [0]


def test_clean_temporaries_removes_only_temporary_files(
    tmp_path: Path, chunks: list[ChunkData]
) -> None:
    store = RunStore(tmp_path)
    store.open(ident(), resume=False, force=False)
    write(store, chunks[0])
    stray = [tmp_path / ".runs.csv.abc.tmp", tmp_path / "runs" / ".part-0000000002.parquet.x.tmp"]
    for path in stray:
        path.write_text("half a file")
    kept = {p for p in tmp_path.rglob("*") if p not in stray}
    store.clean_temporaries()
    assert not any(p.exists() for p in stray)
    assert set(tmp_path.rglob("*")) == kept
    assert store.finished_count() == 1
