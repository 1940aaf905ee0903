"""sim/scenario/reference.py: the committed reference is the generated one and covers the schema."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from sim.scenario import formats, parties, schema
from sim.scenario.reference import DIST_CLASSES, SECTIONS, reference_markdown
from sim.scenario.strategies import STRATEGIES

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "scenario-format.md"

SCHEMA_MODELS = [
    cls
    for module in (schema, parties, formats)
    for _, cls in inspect.getmembers(module, inspect.isclass)
    if issubclass(cls, BaseModel) and cls.__module__ == module.__name__ and cls.model_fields
]


def sections(md: str) -> dict[str, str]:
    """Heading text -> body, for '## ' and '### ' headings."""
    parts = re.split(r"^(#{2,3} .+)$", md, flags=re.MULTILINE)
    return {parts[i].lstrip("# ").strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def table_keys(body: str) -> list[str]:
    return re.findall(r"^\| `([^`]+)` \|", body, flags=re.MULTILINE)


def test_committed_doc_equals_generated() -> None:
    committed = DOC.read_text(encoding="utf-8")
    generated = reference_markdown()
    assert committed == generated, "docs/scenario-format.md is stale: regenerate with pxsim schema"


def test_every_schema_model_has_a_section() -> None:
    documented = {model for _, model in SECTIONS}
    assert set(SCHEMA_MODELS) <= documented, set(SCHEMA_MODELS) - documented
    assert len(SCHEMA_MODELS) >= 14


@pytest.mark.parametrize(("title", "model"), SECTIONS, ids=[t for t, _ in SECTIONS])
def test_every_field_in_its_section(title: str, model: type[BaseModel]) -> None:
    secs = sections(reference_markdown())
    assert title in secs
    keys = table_keys(secs[title])
    expected = [f.alias or name for name, f in model.model_fields.items()]
    assert keys == expected
    doc = DOC.read_text(encoding="utf-8")
    for key in expected:
        assert f"| `{key}` |" in doc, key


@pytest.mark.parametrize("cls", DIST_CLASSES, ids=[c.__name__ for c in DIST_CLASSES])
def test_every_distribution_documented(cls: type[BaseModel]) -> None:
    secs = sections(reference_markdown())
    tag = cls.model_fields["dist"].annotation.__args__[0]
    title = f"`{tag}`"
    assert title in secs
    assert table_keys(secs[title]) == [f.alias or n for n, f in cls.model_fields.items()]


def test_every_distribution_class_listed() -> None:
    from sim.scenario import dists

    tags = {c.model_fields["dist"].annotation.__args__[0] for c in DIST_CLASSES}
    assert tags == set(dists.DIST_NAMES)


def test_strategies_listed() -> None:
    md = reference_markdown()
    strat = sections(md)["Strategies"]
    for name in STRATEGIES:
        assert f"`{name}`" in strat


def test_defaults_ranges_and_types_rendered() -> None:
    secs = sections(reference_markdown())
    party = secs["parties[]: Party"]
    # reservation: a share with default 0.5 and range 0..1
    row = next(ln for ln in party.splitlines() if ln.startswith("| `reservation` |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "number"
    assert cells[2] == "`0.5`"
    assert "≥ 0" in cells[3] and "≤ 1" in cells[3]
    # a required field
    row = next(ln for ln in party.splitlines() if ln.startswith("| `id` |"))
    assert "**required**" in row
    # a distribution default
    row = next(ln for ln in party.splitlines() if ln.startswith("| `initiative` |"))
    assert "distribution" in row and "exponential" in row and "30" in row
    # a field that takes a date
    top = secs["Scenario (top level)"]
    row = next(ln for ln in top.splitlines() if ln.startswith("| `horizon` |"))
    assert "| day |" in row
    # the alias, not the python name
    rate = secs["capture_streams[].rate[]: RatePhase"]
    assert "| `from` |" in rate and "from_" not in rate
