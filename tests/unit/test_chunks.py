"""sim/experiments/chunks.py: work units cover the replications exactly, and a chunk holds the
same numbers as running its replications one by one, however the work is cut."""

from __future__ import annotations

import numpy as np
import pytest

from sim.experiments.chunks import (
    PARTY_VALUES,
    ChunkBuilder,
    ChunkTask,
    add_padded,
    plan_chunks,
    run_chunk,
)
from sim.experiments.experiment import run_one
from sim.model.records import OUTCOME_COLUMNS
from sim.scenario.schema import Scenario

SEED = 7


# ---------------------------------------------------------------------- planning
def test_plan_chunks_example() -> None:
    assert plan_chunks(0, 10, 3) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert plan_chunks(4, 8, 4) == [(4, 8)]
    assert plan_chunks(5, 5, 3) == []


@pytest.mark.parametrize("start", [0, 1, 17])
@pytest.mark.parametrize("n", [0, 1, 2, 9, 10, 64, 101])
@pytest.mark.parametrize("size", [1, 2, 3, 10, 500])
def test_plan_chunks_covers_the_range_exactly(start: int, n: int, size: int) -> None:
    chunks = plan_chunks(start, start + n, size)
    covered = [r for a, b in chunks for r in range(a, b)]
    assert covered == list(range(start, start + n))  # each replication once, in order
    assert all(0 < b - a <= size for a, b in chunks)
    assert all(b - a == size for a, b in chunks[:-1])  # only the last may be short
    assert len(chunks) == -(-n // size)


# ---------------------------------------------------------------------- running
def one_by_one(scn: Scenario, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    runs = [run_one(scn, SEED, r) for r in range(start, stop)]
    outcomes = np.array([[res.outcomes[c] for c in OUTCOME_COLUMNS] for res in runs])
    parties = np.array([[[row[c] for c in PARTY_VALUES] for row in res.parties] for res in runs])
    return outcomes, parties


def test_a_chunk_holds_what_its_replications_give_one_by_one(toy_scenario: Scenario) -> None:
    data = run_chunk(ChunkTask(toy_scenario, SEED, 2, 5))
    outcomes, parties = one_by_one(toy_scenario, 2, 5)
    assert (data.start, data.stop, data.n, data.seed, data.point) == (2, 5, 3, SEED, -1)
    assert data.scenario == "toy" and data.party_ids == ["a", "b"]
    np.testing.assert_array_equal(data.outcomes, outcomes)  # NaN == NaN here
    np.testing.assert_array_equal(data.parties, parties)
    assert data.outcomes[:, OUTCOME_COLUMNS.index("deals")].min() >= 1  # real work in it
    # time series: exact integer sums over the chunk's replications
    runs = [run_one(toy_scenario, SEED, r) for r in range(2, 5)]
    for (holder, nat), _ in runs[0].held_series.items():
        expected = sum(r.held_series[(holder, nat)] for r in runs)
        np.testing.assert_array_equal(data.series_sum[("held", holder, nat)], expected)
        assert data.series_sum[("held", holder, nat)].dtype == np.int64


def test_chunks_do_not_depend_on_how_the_work_is_cut(toy_scenario: Scenario) -> None:
    whole = run_chunk(ChunkTask(toy_scenario, SEED, 0, 4))
    parts = [run_chunk(ChunkTask(toy_scenario, SEED, a, b)) for a, b in plan_chunks(0, 4, 3)]
    np.testing.assert_array_equal(np.concatenate([p.outcomes for p in parts]), whole.outcomes)
    for key, values in whole.series_sum.items():
        np.testing.assert_array_equal(sum(p.series_sum[key] for p in parts), values)
    for channel, counts in whole.channels.items():
        np.testing.assert_array_equal(sum(p.channels[channel] for p in parts), counts)


def test_the_reservoir_keeps_the_first_replications_only(toy_scenario: Scenario) -> None:
    first = run_chunk(ChunkTask(toy_scenario, SEED, 0, 3, reservoir=2))
    assert first.kept == 2
    key = ("held", "a", "b")
    one = run_one(toy_scenario, SEED, 1).held_series[("a", "b")]
    np.testing.assert_array_equal(first.series_kept[key][1], one)
    assert first.series_kept[key].shape == (2, len(first.grid))
    later = run_chunk(ChunkTask(toy_scenario, SEED, 2, 4, reservoir=2))
    assert later.kept == 0 and later.series_kept == {}


def test_a_sweep_point_labels_its_chunks(toy_scenario: Scenario) -> None:
    task = ChunkTask(toy_scenario, SEED, 3, 4, point=5)
    assert task.key == (5, 3)
    assert run_chunk(task).point == 5


def test_an_unfinished_chunk_cannot_be_built(toy_scenario: Scenario) -> None:
    builder = ChunkBuilder(toy_scenario, SEED, 0, 2, reservoir=10)
    builder.add(run_one(toy_scenario, SEED, 0))
    with pytest.raises(ValueError, match="chunk has 1 of 2 replications"):
        builder.build()


def test_add_padded_sums_tables_of_different_lengths() -> None:
    a = np.array([[1, 2], [3, 4]])
    b = np.array([[10, 10, 10], [1, 1, 1]])
    first = add_padded(None, a)
    assert first.dtype == np.int64 and first.tolist() == a.tolist()
    assert add_padded(first, b).tolist() == [[11, 12, 10], [4, 5, 1]]
    assert add_padded(b, a).tolist() == [[11, 12, 10], [4, 5, 1]]
