"""Per-party and per-channel accounting reconciles with the run totals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.experiments.options import Execution
from sim.experiments.runner import run_to_dir
from sim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_parties_and_channels_reconcile(tmp_path: Path) -> None:
    scn = load_scenario(ROOT / "scenarios" / "kursk_2025.yaml")
    run_to_dir(scn, tmp_path, seed=3, replications=6, execution=Execution(workers=1))
    runs = pd.read_csv(tmp_path / "runs.csv").set_index("replication")
    parties = pd.read_csv(tmp_path / "parties.csv")
    per_rep = parties.groupby("replication").sum(numeric_only=True)
    # every prisoner handed over in a deal was given by one party and received by another
    assert (per_rep["given"] == runs["exchanged"]).all()
    assert (per_rep["received"] == runs["exchanged"]).all()
    # holders' and nationalities' views of who is still held and who died agree
    assert (per_rep["held"] == runs["held_at_end"]).all()
    assert (per_rep["own_still_held"] == runs["held_at_end"]).all()
    assert (per_rep["died_in_custody"] == runs["died"]).all()
    assert (per_rep["own_died"] == runs["died"]).all()
    assert (per_rep["repatriated_home"] == runs["repatriated"]).all()
    assert (per_rep["released_humanitarian"] == runs["humanitarian_released"]).all()
    # ratios achieved are received / given
    some = parties[parties["given"] > 0]
    assert ((some["received"] / some["given"]) - some["ratio"]).abs().max() < 1e-9
    # deals and prisoners moved by channel add up to the run totals
    channels = pd.read_csv(tmp_path / "channels.csv").set_index("channel")
    assert channels["deals_total"].sum() == runs["deals"].sum()
    assert channels["collapsed_total"].sum() == runs["deals_collapsed"].sum()
    assert channels["moved_total"].sum() == runs["exchanged"].sum()
    assert channels["talks_total"].sum() == runs["negotiations"].sum()
    assert set(channels.index) <= {"uae", "turkey", "trilateral_relay", "direct"}
