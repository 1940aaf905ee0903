"""sim.present.page and report_tables: tables that fit the page, provenance as a table."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sim.present.page import breakable, interval, provenance, table
from sim.present.report_tables import DIFFERENCE_HTML, differences_table
from sim.text import format_number


def test_provenance_is_a_table_of_key_value_rows_with_sub_rows() -> None:
    manifest = {
        "seed": 7,
        "frozen": True,
        "arms": [{"label": "base", "overrides": []}, {"label": "slow", "overrides": ["a=1"]}],
        "files": ["x.csv", "y.csv", "z.json"],
        "parquet": {"runs": "runs/"},
        "note": "<b>&</b>",
    }
    out = provenance(manifest)
    assert out.startswith('<h2>Provenance</h2><table class="provenance">')
    assert "<pre>" not in out and '"seed"' not in out  # no JSON dump
    assert re.search(r"<th[^>]*>seed</th><td>7</td>", out)
    assert re.search(r"<th[^>]*>frozen</th><td>yes</td>", out)
    # a list of mappings: a heading row, then each item (named by its label) over its rows
    assert re.search(r'<th class="group" colspan="2"[^>]*>arms \(2\)</th>', out)
    assert re.search(r'<th class="group" colspan="2"[^>]*>slow</th>', out)
    assert re.search(r"<th[^>]*>overrides</th><td>a=1</td>", out)
    assert re.search(r"<th[^>]*>overrides</th><td>—</td>", out)
    # a list of values: one row each, the key spanning them
    assert re.search(r'<th rowspan="3"[^>]*>files</th><td>x.csv</td></tr><tr><td>y.csv', out)
    assert re.search(r'<th class="group"[^>]*>parquet</th>.*<th[^>]*>runs</th><td>runs/</td>', out)
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in out  # escaped
    deeper = re.search(r'padding-left:(\d\.\d)rem"[^>]*>label</th><td>slow', out)
    assert deeper is not None and float(deeper.group(1)) > 1.0  # indented under its arm


def test_table_aligns_numbers_right_and_keeps_raw_cells() -> None:
    df = pd.DataFrame(
        {"name": ["a_b", "c/d"], "x": [1.5, np.nan], "n": [3, 4], "ci": ["<i>1</i>", "<i>2</i>"]}
    )
    out = table(df, format_number, css_class="t", raw=["ci"])
    assert out.startswith('<table class="t"><thead><tr><th>name</th>')
    assert "<th class='num'>x</th><th class='num'>n</th><th class='num'>ci</th>" in out
    assert '<td>a_<wbr>b</td><td class="num">1.50</td><td class="num">3</td>' in out
    assert '<td>c/<wbr>d</td><td class="num">—</td>' in out
    assert '<td class="raw"><i>1</i></td>' in out
    assert breakable("x_y/z") == "x_<wbr>y/<wbr>z"
    assert interval(-1234.5, 0.5, format_number) == (
        '<span class="nw">[-1,234,</span> <span class="nw">0.50]</span>'
    )


def test_differences_table_is_narrow_and_ordered_by_metric() -> None:
    row = {
        "baseline": "base",
        "n_paired": 40,
        "mean_baseline": 1000.0,
        "mean_variant": 900.0,
        "diff": -100.0,
        "ci_low": -120.0,
        "ci_high": -80.0,
        "unpaired_ci_low": -150.0,
        "unpaired_ci_high": -50.0,
        "clear": True,
    }
    full = pd.DataFrame(
        [
            {"metric": "deals", "variant": "v", **row},
            {"metric": "offers", "variant": "v", **row},  # not a main metric
            {"metric": "repatriated", "variant": "v", **row, "clear": False},
        ]
    )
    shown = differences_table(full)
    assert list(shown["metric"]) == ["repatriated (people)", "deals executed (deals)"]
    assert list(shown.columns) == [
        "metric",
        "variant",
        "baseline mean",
        "variant mean",
        "difference",
        "paired 95% CI",
        "unpaired 95% CI",
        "clear",
        "pairs",
    ]
    assert len(shown.columns) < len(full.columns)
    assert shown["clear"].tolist() == ["no", "yes"]
    assert shown.loc[0, "paired 95% CI"] == interval(-120.0, -80.0, format_number)
    assert set(DIFFERENCE_HTML) <= set(shown.columns)
