"""pxsim compare (paired intervals under common random numbers) and the HTML report, checked
in a real headless browser."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli.main import main
from sim.experiments.comparison import paired_differences
from sim.present import report

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = str(ROOT / "scenarios" / "minimal.yaml")
KURSK = str(ROOT / "scenarios" / "kursk_2025.yaml")


def test_paired_interval_is_much_narrower_on_a_shared_stream_variant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp"
    code = main(
        [
            "compare",
            MINIMAL,
            "--variant",
            "deadlier",
            "captivity.death_hazard.healthy=0.0004",
            "-n",
            "40",
            "--seed",
            "2",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "paired 95% CI" in printed and "clear" in printed
    table = pd.read_csv(out / "comparison.csv").set_index("metric")
    rep = table.loc["repatriated"]
    paired = rep["ci_high"] - rep["ci_low"]
    unpaired = rep["unpaired_ci_high"] - rep["unpaired_ci_low"]
    assert paired < 0.25 * unpaired  # common random numbers pay off
    # captures do not depend on the negotiation: identical in every replication
    cap = table.loc["captured"]
    assert cap["diff"] == 0 and cap["ci_low"] == 0 and cap["ci_high"] == 0
    assert bool(table.loc["died", "clear"]) and table.loc["died", "diff"] > 0
    for name in ("comparison.png", "comparison.svg"):
        assert (out / name).stat().st_size > 10_000
    manifest = json.loads((out / "comparison.json").read_text())
    assert [a["label"] for a in manifest["arms"]] == ["minimal", "deadlier"]
    assert (out / "arms" / "deadlier" / "runs.csv").exists()


def test_paired_differences_by_hand() -> None:
    base = pd.DataFrame({"replication": range(5), "m": [1.0, 2, 3, 4, np.nan]})
    other = pd.DataFrame({"replication": range(5), "m": [2.0, 3, 4, 6, 5]})
    row = paired_differences(base, other, "m")
    assert row["n_paired"] == 4
    assert row["diff"] == pytest.approx(1.25)
    from scipy import stats

    d = np.array([1.0, 1, 1, 2])
    lo, hi = stats.t.interval(0.95, 3, loc=d.mean(), scale=d.std(ddof=1) / 2)
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert row["clear"]


def test_compare_two_files_and_bad_variant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "compare",
                MINIMAL,
                "--variant",
                "negotiation.collapse=0.3",
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "expected a name and then PATH=VALUE" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert main(["compare", MINIMAL, "--out", str(tmp_path / "y")]) == 2
    assert "nothing to compare" in capsys.readouterr().err


def test_python_api_compare() -> None:
    import sim

    c = sim.compare(MINIMAL, {"frozen": {"negotiation.frozen": True}}, 6, seed=1, workers=1)
    deals = c.table.set_index("metric").loc["deals"]
    assert deals["mean_variant"] == 0 and deals["diff"] < 0
    assert c.out is None and set(c.runs) == {"minimal", "frozen"}


# after load: the page's width, how far it scrolls sideways, and each table's right edge
MEASURE = """<script>
window.addEventListener('load',function(){var b=document.body,d=document.documentElement;
b.setAttribute('data-page-width',String(d.clientWidth));
b.setAttribute('data-scroll-width',String(d.scrollWidth));
var r=[];document.querySelectorAll('table').forEach(function(t){
r.push((t.className||'-')+':'+Math.ceil(t.getBoundingClientRect().right))});
b.setAttribute('data-table-rights',r.join(' '));});
</script>"""


def _measure(
    render_page: Callable[..., str], page: Path, profile: Path, width: int = 1000
) -> dict[str, str]:
    """Render ``page`` (with the measuring script) in a ``width`` px wide window; the
    attributes the script and the report set on ``<body>``."""
    measured = page.with_name("measured.html")
    measured.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    dom = render_page(measured, profile, f"--window-size={width},1400")
    body = re.search(r"<body([^>]*)>", dom)
    assert body is not None, dom[:500]
    return dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', body.group(1)))


@pytest.mark.slow
def test_run_report_renders_in_a_browser(tmp_path: Path, render_page: Callable[..., str]) -> None:
    out = tmp_path / "run"
    assert main(["run", KURSK, "-n", "12", "--workers", "1", "--out", str(out), "--quiet"]) == 0
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "pxsim report: kursk_2025" in page and "Provenance" in page
    assert "Per-party accounting" in page and "Median days held" in page
    n_figures = page.count("data:image/png;base64,")
    assert n_figures >= 5
    dom = render_page(out / "report.html", tmp_path / "profile")
    assert f'data-figures-rendered="{n_figures}"' in dom  # every figure decoded and laid out


LONG = "deadlier_captivity_for_every_prisoner_of_either_side"


@pytest.mark.slow
def test_compare_report_renders_in_a_browser(
    tmp_path: Path, render_page: Callable[..., str]
) -> None:
    out = tmp_path / "cmp"
    code = main(
        [
            "compare",
            MINIMAL,
            "--variant",
            "frozen",
            "negotiation.frozen=true",
            "--variant",
            LONG,
            "captivity.death_hazard.healthy=0.0004",
            "-n",
            "8",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
            "--report",
        ]
    )
    assert code == 0
    arm_figures = ("arms_over_time", "arms_survival", "arms_outcomes")
    for name in ("comparison", *arm_figures):
        for fmt in ("png", "svg"):
            assert (out / f"{name}.{fmt}").stat().st_size > 10_000
    page = (out / "report.html").read_text()
    assert "pxsim comparison" in page and "frozen" in page
    # the arms' own results overlaid, besides the differences
    for caption in report.COMPARISON_CAPTIONS.values():
        assert f'alt="{html.escape(caption)}"' in page
    assert page.count("data:image/png;base64,") == 4
    # the provenance as a table of key/value rows, the arms as sub-rows; no JSON dump
    assert '<table class="provenance">' in page and "<pre>{" not in page
    assert '"kind": "compare"' not in page
    prov = page[page.index('<table class="provenance">') :]
    assert re.search(r"<th[^>]*>seed</th><td>\d+</td>", prov)
    assert re.search(r'<th class="group"[^>]*>arms \(3\)</th>', prov)
    assert re.search(r"<th[^>]*>label</th><td>frozen</td>", prov)
    body = _measure(render_page, out / "report.html", tmp_path / "profile")
    assert body["data-figures-rendered"] == "4"  # every figure decoded and laid out
    page_width = int(body["data-page-width"])
    assert 900 <= page_width <= 1000
    assert int(body["data-scroll-width"]) <= page_width  # nothing scrolls sideways
    rights = dict(item.rsplit(":", 1) for item in body["data-table-rights"].split())
    assert 0 < int(rights["differences"]) <= page_width  # the comparison table fits
    assert int(rights["provenance"]) <= page_width


def test_report_of_a_directory_without_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "no pxsim run, comparison, sweep or calibration here" in capsys.readouterr().err


@pytest.mark.slow
def test_sweep_report_renders_in_a_browser(tmp_path: Path, render_page: Callable[..., str]) -> None:
    out = tmp_path / "sweep"
    code = main(
        [
            "sweep",
            MINIMAL,
            "--param",
            "negotiation.collapse=0:0.5",
            "--param",
            "capture_streams.blue_takes_red.rate=0.1:2",
            "--design",
            "lhs",
            "--points",
            "5",
            "-n",
            "4",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
            "--report",
        ]
    )
    assert code == 0
    page = (out / "report.html").read_text()
    assert "pxsim sweep" in page and "negotiation.collapse" in page
    n_figures = page.count("data:image/png;base64,")
    assert n_figures == 2  # repatriated against each numeric parameter
    dom = render_page(out / "report.html", tmp_path / "profile")
    assert f'data-figures-rendered="{n_figures}"' in dom
