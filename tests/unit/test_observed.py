"""Observations files: parsing, filtering, and errors that name file, line and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.fit.observed import load_observations

START = dt.date(2022, 2, 24)
PARTIES = ["ukraine", "russia"]
CSV = """date,returned,count,kind
2022-03-01,5,1,pow
2022-03-24,10,2,pow
2022-03-24,19,3,civilian
2022-04-01,86,,body
2022-04-09,,4,pow
2022-05-01,40,5,pow
"""


def _write(tmp_path: Path, body: str, csv: str = CSV) -> Path:
    (tmp_path / "data.csv").write_text(csv)
    p = tmp_path / "obs.yaml"
    p.write_text(body)
    return p


def _load(tmp_path: Path, body: str, csv: str = CSV):  # type: ignore[no-untyped-def]
    return load_observations(_write(tmp_path, body, csv), START, PARTIES)


def test_duplicate_dates_in_a_cumulative_target_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as e:
        _load(
            tmp_path,
            t(*DEALS, "csv: data.csv", "value: count"),
        )
    assert "2022-03-24 is observed twice" in str(e.value)
    assert str(e.value).startswith(f"{tmp_path / 'obs.yaml'}:2: targets[0]:")


def test_values_windows_and_quantiles(tmp_path: Path) -> None:
    obs = _load(
        tmp_path,
        """\
targets:
  - id: deals
    kind: cumulative_deals
    csv: data.csv
    value: count
    drop: [2022-03-24]
  - id: sizes
    kind: sizes
    party: ukraine
    csv: data.csv
    value: returned
    where: {kind: [pow, civilian]}
    to: 2022-04-30
  - id: gaps
    kind: gaps
    csv: data.csv
    where: {kind: [pow]}
    value: returned
    quantiles: [0.5, 1.0]
  - id: inline
    kind: cumulative_returned
    party: russia
    points:
      - {date: 2022-06-01, value: 7}
      - {date: 2022-05-01, value: 3}
""",
    )
    deals, sizes, gaps, inline = obs.targets
    assert deals.dates == ("2022-03-01", "2022-04-09", "2022-05-01")  # 04-01 has no count
    assert deals.observed == (1.0, 4.0, 5.0)
    assert deals.days == (5.0, 44.0, 66.0)
    # pow and civilian rows up to 2022-04-30 with a value: 5, 10, 19 (04-09 has none)
    assert sorted(sizes.observed) == [5.0, 10.0, 19.0]
    # pow dates 03-01, 03-24, 04-09, 05-01: gaps 23, 16, 22
    assert gaps.observed == (23.0, 16.0, 22.0)
    assert gaps.observed_stats().tolist() == [22.0, 23.0]
    assert gaps.stat_names == ["gaps:q50", "gaps:max"]
    assert inline.dates == ("2022-05-01", "2022-06-01")  # sorted by date
    assert obs.select(["gaps"]) == [gaps]
    assert obs.digest() == load_observations(tmp_path / "obs.yaml", START, PARTIES).digest()


def t(*lines: str) -> str:
    """A file with one target whose fields are ``lines`` (line 2 onwards)."""
    return "targets:\n  - " + "\n    ".join(lines) + "\n"


GAPS = ("id: r", "kind: gaps", "csv: data.csv", "value: returned")
DEALS = ("id: r", "kind: cumulative_deals")
ONE = "points: [{date: 2022-05-01, value: 1}]"
BAD = [
    ("targets: []\n", 1, "targets", "non-empty list"),
    (t("id: r", "kind: total", "csv: data.csv"), 3, "targets[0].kind", "expected one of"),
    (t("id: 1r", "kind: gaps", "csv: data.csv"), 2, "targets[0].id", "letters"),
    (t("id: r", "kind: sizes", "csv: data.csv"), 2, "targets[0].party", "one of ukraine, russia"),
    (
        t("id: r", "kind: gaps", "party: ukraine", "csv: data.csv"),
        4,
        "targets[0].party",
        "no party",
    ),
    (t("id: r", "kind: gaps", "csv: nope.csv"), 4, "targets[0].csv", "not found"),
    (t("id: r", "kind: gaps", "csv: data.csv", "value: size"), 5, "targets[0].value", "no column"),
    (t(*GAPS, "points: []"), 2, "targets[0]", "exactly one of csv"),
    (t(*GAPS, "from: 2022-05-01", "to: 2022-03-01"), 7, "targets[0].to", "on or after"),
    (t(*GAPS, "quantiles: [0.5, 2]"), 6, "targets[0].quantiles", "between 0 and 1"),
    (t(*GAPS, "colour: red"), 6, "targets[0].colour", "unknown field"),
    (t(*GAPS, "drop: [soon]"), 6, "targets[0].drop[0]", "YYYY-MM-DD"),
    (t(*GAPS, "from: 2022-05-01"), 2, "targets[0]", "at least two dates"),
    (
        t(*DEALS, "points:", "  - {date: 2022-05-01, value: many}"),
        5,
        "targets[0].points[0].value",
        "expected a number",
    ),
    (
        t(*DEALS, "points:", "  - {date: 2021-05-01, value: 1}"),
        2,
        "targets[0]",
        "before the scenario's start",
    ),
    (t(*DEALS, ONE) + "  - " + "\n    ".join((*DEALS, ONE)), 5, "targets[1].id", "used twice"),
]


@pytest.mark.parametrize(("body", "line", "field", "message"), BAD)
def test_errors_name_file_line_and_field(
    tmp_path: Path, body: str, line: int, field: str, message: str
) -> None:
    with pytest.raises(ScenarioError) as e:
        _load(tmp_path, body)
    text = str(e.value)
    assert text.startswith(f"{tmp_path / 'obs.yaml'}:{line}: {field}: "), text
    assert message in text


def test_a_bad_csv_cell_names_the_csv_row(tmp_path: Path) -> None:
    csv = CSV.replace("2022-05-01,40", "2022-05-01,forty")
    with pytest.raises(ScenarioError) as e:
        _load(
            tmp_path,
            t("id: s", "kind: sizes", "party: ukraine", "csv: data.csv", "value: returned"),
            csv,
        )
    assert str(e.value) == f"{tmp_path / 'data.csv'}:7: returned: expected a number, got 'forty'"


def test_unknown_target_selection(tmp_path: Path) -> None:
    obs = _load(tmp_path, t(*DEALS, ONE))
    with pytest.raises(ScenarioError, match=r"no target 'x' .* its targets are: r"):
        obs.select(["x"])
