"""Sweep parameters and designs (sim.experiments.params, .designs): parsing, typing, shapes."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from sim.experiments.designs import analyse, make_design
from sim.experiments.params import (
    DesignError,
    ParamSpec,
    get_path,
    parse_param,
    parse_params,
    type_params,
)

RESOLVED = {
    "negotiation": {"collapse": 0.05, "max_rounds": 60, "frozen": False},
    "parties": [{"id": "blue", "strategy": {"name": "linear"}, "reservation": 0.5}],
    "intermediaries": [{"id": "uae", "capacity": 1}],
}


def typed(*texts: str) -> list[ParamSpec]:
    return type_params(parse_params(list(texts)), RESOLVED)


# --------------------------------------------------------------------------- parsing
def test_parse_a_range() -> None:
    s = parse_param("negotiation.collapse=0:0.3")
    assert (s.path, s.kind, s.low, s.high, s.steps) == (
        "negotiation.collapse",
        "range",
        0,
        0.3,
        None,
    )
    s = parse_param(" parties.blue.reservation = -1.5:2e-1:4 ")
    assert (s.path, s.low, s.high, s.steps) == ("parties.blue.reservation", -1.5, 0.2, 4)


def test_parse_a_list_reads_yaml_scalars() -> None:
    s = parse_param("x.y=true, 3, 0.5,boulware")
    assert s.kind == "values"
    assert s.values == (True, 3, 0.5, "boulware")
    assert s.labels == ("true", "3", "0.5", "boulware")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("negotiation.collapse", "expected PATH=LOW:HIGH"),
        ("negotiation.collapse=", "nothing after"),
        ("negotiation.collapse=0.3", "use --set negotiation.collapse=0.3"),
        ("negotiation.collapse=1:0", "LOW < HIGH"),
        ("negotiation.collapse=0.2:0.2", "LOW < HIGH"),
        ("negotiation.collapse=a:1", "LOW 'a' is not a number"),
        ("negotiation.collapse=0:inf", "finite"),
        ("negotiation.collapse=0:1:x", "STEPS 'x' is not a whole number"),
        ("negotiation.collapse=0:1:1", "STEPS >= 2"),
        ("negotiation.collapse=0:1:2:3", "too many"),
        ("negotiation.collapse=a,,b", "empty value"),
        ("negotiation.collapse=[1],2", "not a plain value"),
        ("negotiation..collapse=0:1", "malformed path"),
        ("seed=1:5", "set by the sweep itself"),
        ("replications=1:5", "set by the sweep itself"),
    ],
)
def test_bad_params_name_the_param(text: str, message: str) -> None:
    with pytest.raises(DesignError) as err:
        parse_param(text)
    assert str(err.value).startswith(f"--param {text}: ")
    assert message in str(err.value)


def test_dict_form_and_duplicates() -> None:
    specs = parse_params({"a.b": (0, 1), "a.c": (1, 3, 3), "a.d": [True, False], "a.e": "0:2"})
    assert [(s.path, s.kind) for s in specs] == [
        ("a.b", "range"),
        ("a.c", "range"),
        ("a.d", "values"),
        ("a.e", "range"),
    ]
    assert specs[1].steps == 3 and specs[2].labels == ("true", "false")
    with pytest.raises(DesignError, match="swept twice"):
        parse_params(["a.b=0:1", "a.b=1,2"])
    with pytest.raises(DesignError, match="at least one"):
        parse_params([])
    with pytest.raises(DesignError, match="expected \\(low, high\\)"):
        parse_params({"a.b": 3})


# --------------------------------------------------------------------------- typing
def test_whole_number_fields_are_detected_from_the_scenario() -> None:
    rounds, capacity, collapse = typed(
        "negotiation.max_rounds=1:10", "intermediaries.uae.capacity=1:4", "negotiation.collapse=0:1"
    )
    assert rounds.integer and capacity.integer and not collapse.integer
    assert get_path(RESOLVED, "parties.blue.strategy.name") == "linear"
    assert get_path(RESOLVED, "parties.0.reservation") == 0.5


def test_ranges_at_yes_no_or_text_fields_are_refused() -> None:
    with pytest.raises(DesignError, match="frozen=true,false"):
        typed("negotiation.frozen=0:1")
    with pytest.raises(DesignError, match="is text"):
        typed("parties.blue.strategy.name=0:1")
    with pytest.raises(DesignError, match="none between"):
        typed("negotiation.max_rounds=1.2:1.8")


# --------------------------------------------------------------------------- designs
def test_grid_is_the_product_in_order() -> None:
    d = make_design(typed("negotiation.collapse=0:1:3", "x.flag=true,false"), "grid", None, 1)
    assert d.points == 6 and d.k is None
    assert [tuple(v.values()) for v in d.values] == [
        (0.0, True),
        (0.0, False),
        (0.5, True),
        (0.5, False),
        (1.0, True),
        (1.0, False),
    ]
    assert d.columns[1] == {"negotiation.collapse": 0.0, "x.flag": "false"}


def test_grid_defaults_to_five_steps_and_dedupes_whole_numbers() -> None:
    d = make_design(typed("negotiation.collapse=0:1"), "grid", None, 1)
    assert [v["negotiation.collapse"] for v in d.values] == [0, 0.25, 0.5, 0.75, 1]
    d = make_design(typed("negotiation.max_rounds=1:3:5"), "grid", None, 1)
    rounds = [v["negotiation.max_rounds"] for v in d.values]
    assert rounds == [1, 2, 3] and all(type(r) is int for r in rounds)
    assert any("3 distinct values" in n for n in d.notes)


def test_lhs_hits_each_stratum_once_per_parameter() -> None:
    k = 12
    specs = typed("negotiation.collapse=0:0.5", "parties.blue.reservation=-1:3")
    d = make_design(specs, "lhs", k, seed=7)
    assert d.matrix.shape == (k, 2) and d.points == k
    for s in specs:
        x = np.array([v[s.path] for v in d.values])
        assert np.all((x >= s.low) & (x <= s.high))
        strata = np.floor((x - s.low) / (s.high - s.low) * k).astype(int)
        assert sorted(strata) == list(range(k))
    # the design follows the sweep seed, and only it
    again = make_design(specs, "lhs", k, seed=7)
    assert np.array_equal(again.matrix, d.matrix)
    assert not np.array_equal(make_design(specs, "lhs", k, seed=8).matrix, d.matrix)


def test_lhs_whole_numbers_and_values_are_spread_evenly() -> None:
    d = make_design(typed("negotiation.max_rounds=1:3", "x.mode=a,b,c"), "lhs", 6, seed=3)
    rounds = [v["negotiation.max_rounds"] for v in d.values]
    assert all(type(r) is int for r in rounds)
    assert sorted(rounds) == [1, 1, 2, 2, 3, 3]  # 6 strata over 3 whole numbers
    assert sorted(v["x.mode"] for v in d.values) == ["a", "a", "b", "b", "c", "c"]


def test_sobol_shape_bounds_and_whole_numbers() -> None:
    specs = typed("negotiation.collapse=0.1:0.4", "negotiation.max_rounds=2:9", "a.b=-3:-1")
    d = make_design(specs, "sobol", 8, seed=1)
    assert d.points == 8 * (2 * 3 + 2) and d.k == 8
    vals = np.array([[v[s.path] for s in specs] for v in d.values], dtype=float)
    assert vals[:, 0].min() >= 0.1 and vals[:, 0].max() <= 0.4
    assert set(vals[:, 1]) <= set(range(2, 10)) and len(set(vals[:, 1])) > 4
    assert vals[:, 2].min() >= -3 and vals[:, 2].max() <= -1
    assert not d.notes
    assert "power of 2" in make_design(specs, "sobol", 6, seed=1).notes[0]


def test_morris_shape_and_bounds() -> None:
    specs = typed("negotiation.collapse=0:0.4", "a.b=10:20")
    d = make_design(specs, "morris", 5, seed=2)
    assert d.points == 5 * (2 + 1)
    vals = np.array([[v[s.path] for s in specs] for v in d.values])
    assert vals[:, 0].min() >= 0 and vals[:, 0].max() <= 0.4
    assert vals[:, 1].min() >= 10 and vals[:, 1].max() <= 20


@pytest.mark.parametrize("design", ["sobol", "morris"])
def test_lists_of_values_need_grid_or_lhs(design: str) -> None:
    with pytest.raises(DesignError, match=f"--design {design} needs numeric ranges") as err:
        make_design(typed("a.b=0:1", "x.mode=a,b"), design, 4, seed=1)
    assert str(err.value).startswith("--param x.mode=a,b: ")


def test_missing_salib_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "SALib", None)
    with pytest.raises(DesignError, match=r"pip install 'pxsim\[sensitivity\]'"):
        make_design(typed("a.b=0:1"), "sobol", 4, seed=1)
    # grid and lhs do not need it
    assert make_design(typed("a.b=0:1"), "lhs", 4, seed=1).points == 4


def test_unknown_design_and_bad_points() -> None:
    with pytest.raises(DesignError, match="unknown design"):
        make_design(typed("a.b=0:1"), "halton", 4, seed=1)
    with pytest.raises(DesignError, match="--points >= 1"):
        make_design(typed("a.b=0:1"), "lhs", 0, seed=1)


def test_values_are_rounded_to_what_the_files_show() -> None:
    (s,) = typed("a.b=0:1")
    v, shown = s.at(1 / 3)
    assert v == shown == 0.3333333333
    assert s.at(1.0000000000001)[0] == 1.0  # never outside the range


# --------------------------------------------------------------------------- analysis
def test_sobol_indices_find_the_parameter_that_matters() -> None:
    d = make_design(typed("a.x=0:1", "a.y=0:1"), "sobol", 64, seed=4)
    x = d.matrix
    rows, skipped = analyse(
        d,
        {
            "f": 5 * x[:, 0] + x[:, 0] ** 2,
            "flat": np.ones(len(x)),
            "gap": np.where(x[:, 1] > 0.5, np.nan, 1.0),
        },
        seed=4,
    )
    by = {(r["metric"], r["parameter"]): r for r in rows}
    assert set(by) == {("f", "a.x"), ("f", "a.y")}
    assert by[("f", "a.x")]["ST"] > 0.8 and abs(by[("f", "a.y")]["ST"]) < 1e-12
    assert skipped == {
        "flat": "constant across points",
        "gap": f"undefined at {int((x[:, 1] > 0.5).sum())} of {len(x)} points",
    }
    # the bootstrap is seeded: the same inputs give the same confidence intervals
    again, _ = analyse(d, {"f": 5 * x[:, 0] + x[:, 0] ** 2}, seed=4)
    assert again == rows[:2]


def test_morris_indices_find_the_parameter_that_matters() -> None:
    d = make_design(typed("a.x=0:1", "a.y=0:1"), "morris", 10, seed=4)
    rows, _ = analyse(d, {"f": 3 * d.matrix[:, 1]}, seed=4)
    by = {r["parameter"]: r for r in rows}
    assert list(rows[0]) == ["metric", "parameter", "mu", "mu_star", "mu_star_conf", "sigma"]
    assert by["a.y"]["mu_star"] == pytest.approx(3.0)
    assert by["a.x"]["mu_star"] == 0.0
