"""`pxsim calibrate` end to end: it recovers a parameter from data the model made, resumes,
gives the same answer on any number of workers, and refuses bad input with a clear message."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.api import calibrate_and_draw as calibrate
from sim.cli.main import main
from sim.errors import ScenarioError
from sim.experiments.options import Execution
from sim.fit.plan import plan_calibration
from sim.model.simulation import Simulation
from sim.results.targets import DealHistory
from sim.scenario.loading import load_scenario

MINIMAL = Path(__file__).resolve().parents[2] / "scenarios" / "minimal.yaml"
TRUTH = 30.0  # parties.blue.initiative.mean in minimal.yaml
FIT = ["parties.blue.initiative.mean=5:120"]
DATES = ["2025-03-01", "2025-06-01", "2025-09-01", "2025-12-31"]


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Deals by date and sizes, averaged over 30 runs of the scenario at the true value (seed
    99, not the calibration's seed)."""
    scn = load_scenario(MINIMAL)
    days = [(pd.Timestamp(d).date() - scn.start_date).days for d in DATES]
    counts, sizes = [], []
    for rep in range(30):
        hist = DealHistory.of(Simulation(scn, 99, rep, record_events=False).run())
        counts.append(np.searchsorted(hist.days, days, side="right"))
        sizes.extend(hist.to("blue")[hist.to("blue") > 0].tolist())
    mean = np.mean(counts, axis=0)
    d = tmp_path_factory.mktemp("obs")
    points = "\n".join(
        f"      - {{date: {day}, value: {v:.2f}}}" for day, v in zip(DATES, mean, strict=True)
    )
    (d / "sizes.csv").write_text("date,value\n" + "".join(f"2025-06-01,{s:g}\n" for s in sizes))
    (d / "obs.yaml").write_text(
        "name: synthetic\ntargets:\n  - id: deals\n    kind: cumulative_deals\n    points:\n"
        f"{points}\n  - id: sizes\n    kind: sizes\n    party: blue\n    csv: sizes.csv\n"
    )
    return d / "obs.yaml"


def _plan(observed: Path, **kw):  # type: ignore[no-untyped-def]
    args = dict(points=60, replications=4, check_replications=40, accept=0.1)
    args.update(kw)
    return plan_calibration(MINIMAL, observed, FIT, **args)


@pytest.fixture(scope="module")
def fitted(observed: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("cal") / "out"
    report = calibrate(_plan(observed), out, execution=Execution(workers=1))
    return out, report


def test_recovers_the_true_value(fitted) -> None:  # type: ignore[no-untyped-def]
    _, report = fitted
    row = report.fit.iloc[0]
    assert row["parameter"] == "parties.blue.initiative.mean"
    assert row["credible_05"] <= TRUTH <= row["credible_95"]
    assert row["credible_95"] - row["credible_05"] < 0.5 * (120 - 5)  # the data are informative
    assert abs(row["fitted"] - TRUTH) < 15
    assert row["before"] == 30


def test_writes_every_file_consistently(fitted) -> None:  # type: ignore[no-untyped-def]
    out, report = fitted
    for name in ("fitted.yaml", "fit.csv", "posterior.csv", "targets.csv", "fit.png", "fit.svg"):
        assert (out / name).stat().st_size > 0, name
    post = pd.read_csv(out / "posterior.csv")
    assert len(post) == 60
    assert post["weight"].sum() == pytest.approx(1.0)
    assert ((post["accepted"] >= 0) & (post["accepted"] <= 1)).all()
    summary = json.loads((out / "calibration.json").read_text())
    assert summary["fitted"]["parties.blue.initiative.mean"] == report.fit.iloc[0]["fitted"]
    assert 1 <= summary["effective_sample_size"] <= 60
    targets = pd.read_csv(out / "targets.csv")
    assert list(targets["statistic"]) == [f"deals@{d}" for d in DATES] + [
        "sizes:q25",
        "sizes:q50",
        "sizes:q75",
    ]
    assert (targets["simulated_05"] <= targets["simulated_95"]).all()
    assert targets["inside_90"].sum() >= 5  # a model fitted to its own output fits
    fitted_scn = load_scenario(out / "fitted.yaml")
    fitted_mean = summary["fitted"]["parties.blue.initiative.mean"]
    assert fitted_scn.parties[0].initiative.mean_ == fitted_mean
    text = (out / "fitted.yaml").read_text()
    assert text.startswith("# Calibrated by pxsim")
    assert "# tries to open talks every" in text  # the original comments are kept


def test_resume_and_workers_give_the_same_answer(observed: Path, fitted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, _ = fitted
    again = tmp_path / "again"
    shutil.copytree(out, again)
    parts = sorted((again / "sims" / "r0").glob("part-*.npz"))
    assert len(parts) == 60  # one point per task (60 points: ~64 tasks)
    for p in parts[::3]:
        p.unlink()
    rep = calibrate(_plan(observed), again, execution=Execution(workers=2, resume=True))
    assert rep.tasks_run == 20 and rep.tasks_reused == 40
    for name in ("posterior.csv", "fit.csv", "targets.csv", "fitted.yaml"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_sequential_rounds_concentrate_the_posterior(
    observed: Path, fitted, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _, one = fitted
    rep = calibrate(_plan(observed, rounds=3), tmp_path / "pmc", execution=Execution(workers=2))
    post = pd.read_csv(tmp_path / "pmc" / "posterior.csv")
    assert sorted(post["round"].unique()) == [0, 1, 2]
    assert post.groupby("round")["weight"].sum().tolist() == pytest.approx([1, 1, 1])
    inside = post["parties.blue.initiative.mean"].between(5, 120)
    assert inside.all()  # proposals stay in the prior box
    row = rep.fit.iloc[0]
    assert row["credible_05"] <= TRUTH <= row["credible_95"]
    # later rounds draw near the previous posterior: the population concentrates
    spread = post.groupby("round")["parties.blue.initiative.mean"].std()
    assert spread[2] < 0.75 * spread[0]
    eps = [r["epsilon"] for r in rep.summary["rounds"]]
    assert eps[0] > eps[1] >= eps[2]
    # round 0 is the same prior sample with the same seed as the one-round fit
    assert post[post["round"] == 0]["weight"].to_numpy() == pytest.approx(
        one.posterior["weight"].to_numpy()
    )


def test_mean_matching_recovers_the_true_value(observed: Path, tmp_path: Path) -> None:
    rep = calibrate(
        _plan(observed, match="mean", accept=0.15),
        tmp_path / "mean",
        execution=Execution(workers=2),
    )
    row = rep.fit.iloc[0]
    assert row["credible_05"] <= TRUTH <= row["credible_95"]
    assert abs(row["fitted"] - TRUTH) < 12
    post = rep.posterior
    # one distance per point: every replication of a point is accepted or none is
    assert set(post["accepted"].unique()) <= {0.0, 1.0}


def test_predictions_are_conditioned_on_the_record(observed: Path, tmp_path: Path) -> None:
    plan = _plan(
        observed,
        predict=["y2025=2025-01-01:2025-12-31", "h1=2026-01-01:2026-06-30"],
        overrides=["horizon=2026-06-30"],
    )
    rep = calibrate(plan, tmp_path / "pred", execution=Execution(workers=2))
    pred = pd.read_csv(tmp_path / "pred" / "prediction.csv")
    assert list(pred["quantity"]) == ["deals", "returned_blue", "returned_red"] * 2
    assert (pred["p05"] <= pred["median"]).all() and (pred["median"] <= pred["p95"]).all()
    y = pred[(pred["period"] == "y2025") & (pred["quantity"] == "deals")].iloc[0]
    observed_deals = float(rep.targets.set_index("statistic").loc["deals@2025-12-31", "observed"])
    # deals in 2025 were observed: runs that matched the record bracket the observed value
    # and are more certain about it than the prior predictive
    assert y["p05"] <= observed_deals <= y["p95"]
    assert y["p95"] - y["p05"] < 0.7 * (y["prior_p95"] - y["prior_p05"])
    assert rep.summary["prediction"][0]["period"] == "y2025"
    fitted = load_scenario(tmp_path / "pred" / "fitted.yaml")
    assert fitted.horizon == 545  # the --set horizon is part of the fitted scenario


def test_a_prediction_beyond_the_horizon_is_refused(observed: Path) -> None:
    with pytest.raises(ScenarioError, match=r"extend the horizon, e\.g\. --set horizon=2026-06-30"):
        _plan(observed, predict=["h1=2026-01-01:2026-06-30"])


def test_cli_prints_the_fit_and_refuses_to_overwrite(
    observed: Path, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "cli"
    args = ["calibrate", str(MINIMAL), "--observed", str(observed), "--fit", FIT[0]]
    args += ["--points", "12", "-n", "2", "--check-replications", "10", "--out", str(out)]
    assert main([*args, "--workers", "1", "--target", "deals"]) == 0
    text = capsys.readouterr().out
    assert "parties.blue.initiative.mean" in text and "5–120" in text
    assert "deals   fit" in text and "sizes   compared" in text
    assert main([*args, "--workers", "1", "--target", "deals"]) == 2
    assert "already holds this run" in capsys.readouterr().err
    assert main([*args, "--workers", "1"]) == 2  # other targets: another fit
    assert "holds a different run" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--fit", "parties.blue.initiative.mean=5"], "--fit parties.blue.initiative.mean=5: "),
        (["--fit", "parties.blue.initiative.mean=1,2"], "calibrate fits numeric ranges"),
        (
            ["--fit", "parties.blue.initiative.mean=5:120", "--target", "nope"],
            "--target: no target 'nope'",
        ),
        (
            ["--fit", "parties.blue.initiative.mean=5:120", "--accept", "1.5"],
            "--accept: expected a share",
        ),
        (["--fit", "negotiation.nothing=1:2"], "negotiation.nothing"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    observed: Path, tmp_path: Path, capsys, extra, message
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "bad"
    code = main(["calibrate", str(MINIMAL), "--observed", str(observed), *extra, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err, err
    assert "Traceback" not in err
    assert not out.exists()  # nothing written


def test_observations_after_the_horizon_are_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    obs = tmp_path / "late.yaml"
    obs.write_text(
        "targets:\n  - id: d\n    kind: cumulative_deals\n"
        "    points: [{date: 2026-06-01, value: 3}]\n"
    )
    out = str(tmp_path / "o")
    code = main(["calibrate", str(MINIMAL), "--observed", str(obs), "--fit", FIT[0], "--out", out])
    assert code == 2
    assert "observed on 2026-06-01, after the scenario's horizon" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_then_resume_gives_the_uninterrupted_fit(observed: Path, tmp_path: Path) -> None:
    """A real `pxsim calibrate` process, interrupted (Ctrl-C to its process group) once some
    tasks are on disk, then resumed, writes the same files as a fit run in one go."""
    import os
    import signal
    import subprocess
    import sys
    import time

    def args(out: Path) -> list[str]:
        return [
            sys.executable, "-m", "sim", "calibrate", str(MINIMAL), "--observed", str(observed),
            "--fit", FIT[0], "--points", "128", "-n", "4", "--rounds", "2",
            "--check-replications", "20", "--workers", "2", "--quiet", "--out", str(out),
        ]  # fmt: skip

    whole = tmp_path / "whole"
    assert subprocess.run(args(whole), capture_output=True, check=False).returncode == 0
    out = tmp_path / "cut"
    proc = subprocess.Popen(args(out), stderr=subprocess.PIPE, text=True, start_new_session=True)
    t0 = time.time()
    while len(list(out.glob("sims/r0/part-*.npz"))) < 10:
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t0 < 120
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted: finished simulations are kept in" in stderr and "Traceback" not in stderr
    assert not (out / "posterior.csv").exists()
    resumed = subprocess.run([*args(out), "--resume"], capture_output=True, text=True, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert "reused" in resumed.stdout
    for name in ("posterior.csv", "fit.csv", "targets.csv"):
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name


def test_python_api_in_a_temporary_directory(observed: Path) -> None:
    import sim

    rep = sim.calibrate(
        MINIMAL,
        observed,
        {"parties.blue.initiative.mean": (5, 120)},
        points=12,
        replications=2,
        check_replications=10,
        workers=1,
    )
    assert rep.out is None
    assert list(rep.fit["parameter"]) == ["parties.blue.initiative.mean"]
    assert len(rep.posterior) == 12 and rep.posterior["weight"].sum() == pytest.approx(1)


@pytest.mark.slow
def test_calibration_report_renders_in_a_browser(
    observed: Path, tmp_path: Path, render_page: Callable[..., str]
) -> None:
    out = tmp_path / "cal"
    args = ["calibrate", str(MINIMAL), "--observed", str(observed), "--fit", FIT[0]]
    args += ["--points", "12", "-n", "2", "--check-replications", "10", "--workers", "1"]
    assert main([*args, "--out", str(out), "--quiet", "--report"]) == 0
    page = (out / "report.html").read_text()
    assert "pxsim calibration: minimal" in page and "Fitted parameters" in page
    assert page.count("data:image/png;base64,") == 1
    dom = render_page(out / "report.html", tmp_path / "profile")
    assert 'data-figures-rendered="1"' in dom


@pytest.mark.slow
def test_dask_gives_the_same_fit(observed: Path, tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    plan = _plan(observed, points=16, replications=2, check_replications=8, rounds=2)
    calibrate(plan, tmp_path / "dask", execution=Execution(backend="dask", workers=2))
    calibrate(plan, tmp_path / "serial", execution=Execution(backend="serial"))
    for name in ("posterior.csv", "targets.csv", "fit.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "serial" / name).read_bytes()


def test_one_pool_of_workers_serves_every_round_and_the_check(
    observed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes start once per fit, not once per round: one backend is made for the
    three rounds and the check, and the summary says how fast the fit simulated."""
    import sim.experiments.backends as backends

    made: list[str] = []
    real = backends.make_backend

    def counting(*args: object, **kw: object) -> backends.Backend:
        engine = real(*args, **kw)  # type: ignore[arg-type]
        made.append(engine.name)
        return engine

    monkeypatch.setattr(backends, "make_backend", counting)
    plan = _plan(observed, points=20, replications=2, check_replications=10, rounds=3)
    rep = calibrate(plan, tmp_path / "one", execution=Execution(workers=2))
    assert made == ["local"]
    assert rep.summary["simulations_run"] == 3 * 20 * 2 + 10
    assert rep.summary["simulations_per_second"] > 0
