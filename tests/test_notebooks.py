"""The notebooks in ``notebooks/``: committed clean (no outputs, no execution counts), built on
the public API only (no model logic), and, in the slow test, each executed top to bottom in a
real kernel with ``PXSIM_SMALL=1`` (tiny settings) producing its tables and figures."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
EXPECTED = (
    "01_run_a_scenario.ipynb",
    "02_tweak_parameters.ipynb",
    "03_compare_scenarios.ipynb",
    "04_sweep_and_sensitivity.ipynb",
)

# what a notebook may import: pxsim's public API, the data and plotting stack, the widgets
ALLOWED_TOP = {"sim", "numpy", "pandas", "matplotlib", "ipywidgets", "pathlib", "os", "tempfile"}
ALLOWED_SIM = {
    "sim.results.questions",
    "sim",
    "sim.api",
    "sim.fit.calibration",
    "sim.experiments.comparison",
    "sim.experiments.experiment",
    "sim.fit.forecast",
    "sim.present",
    "sim.present.controls",
    "sim.results.summary",
    "sim.experiments.sweep",
}
# the model's internals: a notebook that imports these is doing the model's work itself
INTERNAL_SIM = {
    "agents",
    "backends",
    "chunks",
    "dists",
    "negotiation",
    "prisoners",
    "runner",
    "schema",
    "simulation",
    "store",
    "strategies",
    "streams",
}
SMALL_SWITCH = 'small = os.environ.get("PXSIM_SMALL") == "1"'
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def python_of(cell: dict[str, Any]) -> str:
    """A code cell's source without IPython magics and shell lines (not Python syntax)."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source(cell).splitlines()
    )


def code_cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_the_four_notebooks_are_there() -> None:
    assert set(EXPECTED) <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean(path: Path) -> None:
    nb = load(path)
    assert nb["nbformat"] == 4
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name}: cell {i} was committed with outputs"
        assert cell.get("execution_count") is None, f"{path.name}: cell {i} has a count"
    assert not nb["metadata"].get("widgets"), f"{path.name}: saved widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_uses_only_the_public_api(path: Path) -> None:
    nb = load(path)
    texts = [source(c) for c in nb["cells"]]
    assert any(c["cell_type"] == "markdown" for c in nb["cells"]), "explain it to analysts"
    assert any(SMALL_SWITCH in t for t in texts), f"{path.name} ignores PXSIM_SMALL"
    imported: list[str] = []
    for i, cell in enumerate(code_cells(nb)):
        tree = ast.parse(python_of(cell), filename=f"{path.name}, cell {i}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0 and node.module, f"{path.name}: relative import"
                imported.append(node.module)
                if node.module == "sim":  # from sim import plots: a submodule by name
                    imported += [f"sim.{a.name}" for a in node.names if a.name in INTERNAL_SIM]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("__import__", "exec", "eval"), path.name
    assert imported, f"{path.name} imports nothing"
    for name in imported:
        top = name.split(".")[0]
        assert top in ALLOWED_TOP, f"{path.name} imports {name}"
        if top == "sim":
            assert name in ALLOWED_SIM, f"{path.name} imports the model internals: {name}"
    assert "sim" in {n.split(".")[0] for n in imported}


# --------------------------------------------------------------------------- execution
def execute(path: Path) -> Any:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("ipywidgets")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(NB_DIR)}},  # the kernel's working directory
    )
    client.execute(env={**os.environ, "PXSIM_SMALL": "1"})  # raises if any cell raises
    return nb


def outputs(nb: Any) -> list[dict[str, Any]]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def text_of(nb: Any) -> str:
    parts = []
    for o in outputs(nb):
        if o["output_type"] == "stream":
            parts.append(o["text"])
        elif "data" in o:
            parts.append(str(o["data"].get("text/plain", "")))
    return "\n".join(parts)


def pngs(nb: Any) -> int:
    return sum(1 for o in outputs(nb) if "image/png" in o.get("data", {}))


# per notebook: words the outputs must contain, and the least number of figures drawn
CHECKS: dict[str, tuple[tuple[str, ...], int]] = {
    "01_run_a_scenario.ipynb": (
        ("repatriated", "95% CI of mean", "5%–95% of runs", "replication 0", "dprk"),
        6,
    ),
    "02_tweak_parameters.ipynb": (
        ("repatriated", "North Korean soldiers sent home", "parties.south_korea.asylum=false"),
        2,
    ),
    "03_compare_scenarios.ipynb": (
        ("clear", "paired 95% CI", "unpaired 95% CI", "DPRK refuses", "median ratio"),
        1,
    ),
    "04_sweep_and_sensitivity.ipynb": (
        ("design points", "mu_star", "most influential first"),
        4,
    ),
}


def leftovers() -> set[str]:
    """What is in notebooks/ besides the notebooks themselves."""
    return {p.name for p in NB_DIR.iterdir() if p.suffix != ".ipynb"}


@pytest.mark.slow
@pytest.mark.parametrize("name", [p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(name: str) -> None:
    before = leftovers()
    nb = execute(NB_DIR / name)
    errors = [o for o in outputs(nb) if o["output_type"] == "error"]
    assert not errors, errors
    assert leftovers() <= before, f"{name} left files in notebooks/: {leftovers() - before}"
    words, figures = CHECKS.get(name, ((), 0))  # a notebook added later: runs without error
    text = text_of(nb)
    for word in words:
        assert word in text, f"{name}: no output mentions {word!r}"
    assert pngs(nb) >= figures, f"{name}: {pngs(nb)} figure(s) drawn, expected {figures}+"
    if name.startswith("02"):  # the controls were built (harmless without a front end)
        assert any(WIDGET_VIEW in o.get("data", {}) for o in outputs(nb))
