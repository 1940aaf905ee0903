"""sim.present.backtest_figures and backtest_report: the fan figure and the HTML page of a
backtest, from a synthetic scored table and record."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.fit.backtest_tables import COLUMNS, summary_table, verdict
from sim.fit.record import Record
from sim.fit.windows import quantity_names, record_quantities, window
from sim.present.backtest_figures import (
    backtest_figure,
    coverage_by_method,
    draw_backtest,
    fan_quantities,
)
from sim.present.backtest_report import write_backtest_report

START = dt.date(2022, 2, 24)
PARTIES = ("ukraine", "russia")
QUANTITIES = (
    "returned_ukraine",
    "returned_russia",
    "deals",
    "stages",
    "largest_ukraine",
    "largest_russia",
    "longest_gap",
)
METHODS = ("pxsim", "persistence", "climatology")
ORIGINS = ("2023-03-01", "2023-09-01")
HORIZONS = (3, 6)


def make_record() -> Record:
    days = np.array([40.0, 100.0, 180.0, 260.0, 330.0, 420.0, 500.0, 580.0, 650.0])
    sizes = np.array(
        [
            [20, 20],
            [50, 50],
            [60, 60],
            [100, 100],
            [64, 64],
            [np.nan, 90],  # Ukraine's number withheld (inside the first origin's windows)
            [45, 45],
            [120, 120],
            [80, 80],
        ],
        dtype=float,
    )
    return Record(
        source="seeds/synthetic_exchanges.csv",
        start=START,
        parties=PARTIES,
        stage_days=days,
        stage_sizes=sizes,
        deal_days=days.copy(),
        deal_sizes=sizes.copy(),
        until=700.0,  # 2024-01-25: the 6-month window of the second origin is not covered
    )


def make_scored() -> pd.DataFrame:
    """The record's own values per window (``record_quantities``), forecast by three methods
    with quantiles around them (pxsim biased upward on deals, so it misses there)."""
    record = make_record()
    rows = []
    for origin in ORIGINS:
        for horizon in HORIZONS:
            truth, why = record_quantities(
                record, window(START, dt.date.fromisoformat(origin), horizon)
            )
            for q, quantity in enumerate(quantity_names(PARTIES)):
                assert quantity == QUANTITIES[q]
                for m, method in enumerate(METHODS):
                    known = bool(np.isfinite(truth[q]))
                    unknown = 3.0 if quantity in ("deals", "stages") else 100.0
                    centre = float(truth[q]) if known else unknown * horizon / 3
                    if method == "pxsim" and quantity == "deals":
                        centre += 4.0
                    spread = (1.0 + m) * max(1.0, 0.1 * centre)
                    q05, q25, q50, q75, q95 = (
                        max(0.0, centre + spread * d) for d in (-2.0, -1.0, 0.0, 1.0, 2.0)
                    )
                    x = float(truth[q])
                    rows.append(
                        {
                            "origin": origin,
                            "horizon_months": horizon,
                            "quantity": quantity,
                            "method": method,
                            "observed": x if known else np.nan,
                            "scored": known,
                            "q05": q05,
                            "q25": q25,
                            "q50": q50,
                            "q75": q75,
                            "q95": q95,
                            "inside50": float(q25 <= x <= q75) if known else np.nan,
                            "inside90": float(q05 <= x <= q95) if known else np.nan,
                            "interval50": (q75 - q25) if known else np.nan,
                            "interval90": (q95 - q05) if known else np.nan,
                            "crps": (1.0 + m + q) if known else np.nan,
                            "not_scored_because": why[q],
                        }
                    )
    return pd.DataFrame(rows)[list(COLUMNS)]


def make_facts(summary: pd.DataFrame) -> dict[str, object]:
    return {
        "pxsim": "0.0.test",
        "scenario_hash": "abc123def",
        "observations": "seeds/observed_synthetic.yaml",
        "record": "seeds/synthetic_exchanges.csv",
        "record_until": 700.0,
        "fit": ["parties.0.reservation=0.1:0.5", "timeline.2023-06-01.rate=0.1:1"],
        "origins": list(ORIGINS),
        "horizons": list(HORIZONS),
        "points": 40,
        "replications": 2,
        "accept": 0.1,
        "seed": 7,
        "targets": None,
        "verdict": verdict(summary),
        "origins_run": [
            {
                "origin": o,
                "fit": ["parties.0.reservation=0.1:0.5"],
                "fit_dropped": ["timeline.2023-06-01.rate=0.1:1"] if i == 0 else [],
                "targets": ["returned", "deals"],
                "effective_runs": 12.5 + i,
            }
            for i, o in enumerate(ORIGINS)
        ],
    }


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    scored = make_scored()
    return scored, summary_table(scored)


@pytest.fixture(scope="module")
def drawn(
    tmp_path_factory: pytest.TempPathFactory, tables: tuple[pd.DataFrame, pd.DataFrame]
) -> tuple[Path, list[str]]:
    """The figure drawn once into a directory, for the tests of its files and of the page."""
    out = tmp_path_factory.mktemp("backtest")
    return out, draw_backtest(tables[0], make_record(), out)


def test_the_synthetic_table_is_a_backtest_table(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    scored, summary = tables
    assert len(scored) == len(ORIGINS) * len(HORIZONS) * len(QUANTITIES) * len(METHODS)
    assert set(summary["method"]) == set(METHODS)
    assert (scored["not_scored_because"] != "").any()


def test_fan_figure_files_and_titles(drawn: tuple[Path, list[str]]) -> None:
    tmp_path, names = drawn
    assert names == ["fan.png", "fan.svg"]
    for name in names:
        assert (tmp_path / name).stat().st_size > 1000
    assert (tmp_path / "fan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "fan.svg").read_text(encoding="utf-8")
    assert (
        "people returned to Ukraine, cumulative: record (line) and forecasts made at each "
        "origin (fans)" in svg
    )
    assert "deals carried out, cumulative" in svg
    assert "coverage: share of scored windows whose 90% interval held the record" in svg
    assert "handover with numbers withheld (counted as 0)" in svg


def test_fan_figure_content(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    scored, _ = tables
    record = make_record()
    assert fan_quantities(scored, record) == ["returned_ukraine", "deals", "stages"]
    fig = backtest_figure(scored, record)
    fans, deals, stages, cover = fig.axes
    assert fans.get_shared_x_axes().joined(fans, stages)  # one calendar axis
    assert not fans.get_shared_x_axes().joined(fans, cover)
    # the record's cumulative people, withheld counted as 0: 20 + 50 + … + 0 + … = 539
    record_line = fans.lines[0]
    assert float(np.asarray(record_line.get_ydata())[-1]) == pytest.approx(539.0)
    assert float(np.asarray(deals.lines[0].get_ydata())[-1]) == 9.0
    # pxsim's fans: two bands per origin, starting at the record's value at the origin
    assert len(fans.collections) == 2 * len(ORIGINS)
    first_band = np.asarray(fans.collections[0].get_paths()[0].vertices, dtype=float)
    at_first_origin = 20 + 50 + 60 + 100 + 64  # handovers before 2023-03-01 (day 370)
    assert first_band[:, 1].min() == pytest.approx(at_first_origin)
    # the record at each scored window's end, on the record line; a cross where pxsim missed
    px_deals = scored[(scored["method"] == "pxsim") & (scored["quantity"] == "deals")]
    missed = px_deals[px_deals["scored"] & (px_deals["inside90"] == 0)]
    crosses = [line for line in deals.lines if line.get_marker() == "X"]
    assert len(missed) == len(crosses) > 0
    on_line = {float(y) for line in crosses for y in np.asarray(line.get_ydata())}
    assert on_line <= set(np.asarray(deals.lines[0].get_ydata(), dtype=float).tolist())
    assert all(float(v).is_integer() for v in deals.get_yticks())  # whole deals
    # coverage per method, as drawn
    cov = coverage_by_method(scored)
    assert cov["method"].tolist() == list(METHODS)
    texts = [t.get_text() for t in cover.texts]
    px = cov.iloc[0]
    assert f"{px['share']:.0%} ({px['held']} of {px['scored']})" in texts
    assert any("80" in t.get_text() for t in cover.get_xticklabels())


def test_report_page(
    drawn: tuple[Path, list[str]], tables: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    tmp_path, _ = drawn
    scored, summary = tables
    facts = make_facts(summary)
    assert write_backtest_report(tmp_path, scored, summary, facts) == "report.html"
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    v = verdict(summary)
    assert f"{v['coverage90']:.0%}" in page  # the verdict in figures
    assert "abc123def" in page and "synthetic_exchanges.csv" in page
    # the summary table: pxsim's 90% coverage on deals
    px_deals = summary[(summary["method"] == "pxsim") & (summary["quantity"] == "deals")]
    assert f"{float(px_deals['coverage90'].iloc[0]):.0%}" in page
    # the fan figure, embedded
    assert re.search(r'<img alt="[^"]*" src="data:image/png;base64,iVBORw0KGgo', page)
    # the per-origin table: one row per scored origin × horizon × quantity
    scored_windows = scored[scored["scored"]].drop_duplicates(
        ["origin", "horizon_months", "quantity"]
    )
    per_origin = page.split("Forecast by forecast", 1)[1].split("</table>", 1)[0]
    assert per_origin.count("<tr>") - 1 == len(scored_windows)
    # what is not scored, and why
    assert "record ends before the window" in page
    assert "withheld its numbers" in page


def test_report_without_the_figure_says_so(
    tmp_path: Path, tables: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    scored, summary = tables
    write_backtest_report(tmp_path, scored, summary, make_facts(summary))
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "data:image/png" not in page
    assert "fan.png" in page
