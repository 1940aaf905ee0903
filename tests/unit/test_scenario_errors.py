"""Malformed scenarios: every problem is one ScenarioError naming file, line, field and what
was expected; the CLI turns it into one ``error: ...`` line and exit code 2, writes nothing.

Line numbers below refer to BASE (a valid scenario):

     1  name: t
     2  start_date: 2025-01-01
     3  horizon: 365
     4  parties:
     5    - id: blue
     6      direct_channels: [red]
     7    - id: red
     8  capture_streams:
     9    - id: blue_takes_red
    10      captor: blue
    11      nationality: red
    12      rate: 0.5

Text appended to BASE starts at line 13.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli.main import main
from sim.errors import ScenarioError
from sim.scenario.loading import load_scenario, loads_scenario
from sim.scenario.reading import MAX_BYTES

REPO = Path(__file__).resolve().parents[2]

BASE = """\
name: t
start_date: 2025-01-01
horizon: 365
parties:
  - id: blue
    direct_channels: [red]
  - id: red
capture_streams:
  - id: blue_takes_red
    captor: blue
    nationality: red
    rate: 0.5
"""

STREAM = "capture_streams.blue_takes_red"
UNKNOWN_FIELD = "unknown field; check the spelling"
INTERMEDIARY = "intermediaries:\n  - id: uae\n    connects: [blue, red]\n"  # lines 13-15


def edit(old: str, new: str, text: str = BASE) -> str:
    """BASE with exactly one occurrence of ``old`` replaced."""
    assert text.count(old) == 1, f"{old!r} must occur once in the base scenario"
    return text.replace(old, new)


def red_has(field_lines: str) -> str:
    """BASE with lines added to party red (they start at line 8)."""
    return edit("  - id: red\n", "  - id: red\n" + field_lines)


def load_error(text: str | bytes, overrides=(), source: str = "x.yaml") -> ScenarioError:
    """The ScenarioError raised by loading ``text``; fails clearly on anything else."""
    try:
        loads_scenario(text, overrides, source=source)
    except ScenarioError as exc:
        return exc
    except Exception as exc:  # a traceback would reach the user
        pytest.fail(f"expected a ScenarioError, got {type(exc).__name__}: {exc}")
    pytest.fail("expected a ScenarioError, but the scenario was accepted")


def check(
    exc: ScenarioError, line: int | None, field: str | None, *expected: str, source: str = "x.yaml"
) -> None:
    """Assert where the error points (file, line, field) and what it says was expected."""
    msg = str(exc)
    where = source + (f":{line}" if line is not None else "")
    prefix = f"{where}: {field}: " if field else f"{where}: "
    assert msg.startswith(prefix), f"message {msg!r} should start with {prefix!r}"
    assert exc.source == source, msg
    assert exc.line == line, msg
    assert exc.field == field, msg
    for part in expected:
        assert part in exc.detail, f"{part!r} missing from {msg!r}"
    assert "Traceback" not in msg


def test_base_scenario_is_valid() -> None:
    scn = loads_scenario(BASE, source="x.yaml")
    assert scn.party_ids == ["blue", "red"]


# --------------------------------------------------------------------------- unknown keys
def test_unknown_top_level_key() -> None:
    exc = load_error(BASE + "colour: red\n")
    check(exc, 13, "colour", UNKNOWN_FIELD, "docs/scenario-format.md")


def test_unknown_key_in_party_is_named_by_party_id() -> None:
    exc = load_error(red_has("    resrvation: 0.3\n"))
    check(exc, 8, "parties.red.resrvation", UNKNOWN_FIELD)


def test_unknown_key_inside_distribution() -> None:
    exc = load_error(BASE + "    batch: {dist: fixed, value: 1, sd: 2}\n")
    check(exc, 13, f"{STREAM}.batch.sd", UNKNOWN_FIELD)


def test_unknown_key_inside_party_initiative_distribution() -> None:
    exc = load_error(
        edit(
            "    direct_channels: [red]\n",
            "    direct_channels: [red]\n    initiative: {dist: exponential, mean: 3, sd: 1}\n",
        )
    )
    check(exc, 7, "parties.blue.initiative.sd", UNKNOWN_FIELD)


# --------------------------------------------------------------------------- wrong types
def test_string_for_number() -> None:
    exc = load_error(edit("horizon: 365", "horizon: lots"))
    check(exc, 3, "horizon", "valid number", "'lots'")


def test_string_for_integer_in_holding() -> None:
    exc = load_error(BASE + "holdings:\n  - holder: red\n    nationality: blue\n    count: many\n")
    check(exc, 16, "holdings[0].count", "valid integer", "'many'")


def test_fraction_for_integer_count() -> None:
    exc = load_error(BASE + "holdings:\n  - holder: red\n    nationality: blue\n    count: 3.5\n")
    check(exc, 16, "holdings[0].count", "valid integer", "fractional", "3.5")


def test_list_for_mapping_top_level_section() -> None:
    exc = load_error(BASE + "captivity: [1, 2]\n")
    check(exc, 13, "captivity", "valid dictionary", "[1, 2]")


def test_list_for_mapping_in_party() -> None:
    exc = load_error(red_has("    values: [1, 2]\n"))
    check(exc, 8, "parties.red.values", "valid dictionary", "[1, 2]")


def test_string_for_list() -> None:
    exc = load_error(BASE + "holdings: lots\n")
    check(exc, 13, "holdings", "valid list", "'lots'")


def test_yes_is_not_a_number() -> None:
    # YAML 1.1 reads `yes` as true; a reservation of "yes" is a mistake, not 1.0.
    exc = load_error(red_has("    reservation: yes\n"))
    check(exc, 8, "parties.red.reservation", "number")


def test_upper_case_party_id() -> None:
    exc = load_error(edit("id: red", "id: Red"))
    check(exc, 7, "parties.Red.id", "lower-case identifier", "'Red'")


# --------------------------------------------------------------------------- out of range
def test_reservation_above_one() -> None:
    exc = load_error(red_has("    reservation: 1.5\n"))
    check(exc, 8, "parties.red.reservation", "<= 1", "1.5")


def test_reservation_nan() -> None:
    exc = load_error(red_has("    reservation: .nan\n"))
    check(exc, 8, "parties.red.reservation", "<= 1", "nan")


def test_negative_capture_rate_shorthand() -> None:
    exc = load_error(edit("rate: 0.5", "rate: -0.5"))
    check(exc, 12, f"{STREAM}.rate[0].per_day", ">= 0", "-0.5")


def test_negative_capture_rate_in_phase() -> None:
    exc = load_error(
        edit("rate: 0.5", "rate:\n      - {from: 0, per_day: 1}\n      - {from: 30, per_day: -1}")
    )
    check(exc, 14, f"{STREAM}.rate[1].per_day", ">= 0", "-1")


def test_rate_phases_out_of_order() -> None:
    exc = load_error(
        edit("rate: 0.5", "rate:\n      - {from: 10, per_day: 1}\n      - {from: 5, per_day: 2}")
    )
    check(exc, 12, f"{STREAM}.rate", "increasing order of `from`")


def test_share_above_one() -> None:
    exc = load_error(BASE + "    wounded_share: 1.2\n")
    check(exc, 13, f"{STREAM}.wounded_share", "<= 1", "1.2")


def test_intermediary_reliability_zero() -> None:
    exc = load_error(BASE + INTERMEDIARY + "    reliability: 0\n")
    check(exc, 16, "intermediaries.uae.reliability", "> 0", "got 0")


def test_horizon_date_before_start_date_says_so() -> None:
    # horizon given as an end date before start_date: "got -31.0" alone is a puzzle.
    exc = load_error(edit("horizon: 365", "horizon: 2024-12-01"))
    check(exc, 3, "horizon")
    assert "start_date" in exc.detail or "2024-12-01" in exc.detail, str(exc)


# --------------------------------------------------------------------------- missing fields
def test_missing_name() -> None:
    exc = load_error(edit("name: t\n", ""))
    check(exc, 1, "name", "required field is missing")


def test_empty_name() -> None:
    exc = load_error(edit("name: t", "name: ''"))
    check(exc, 1, "name", "at least 1 character")


def test_missing_start_date() -> None:
    exc = load_error(edit("start_date: 2025-01-01\n", ""))
    check(exc, 1, "start_date", "required field is missing")


def test_missing_horizon() -> None:
    exc = load_error(edit("horizon: 365\n", ""))
    check(exc, 1, "horizon", "required field is missing")


@pytest.mark.parametrize(("parties", "n"), [("  - id: blue\n", 1), ("  []\n", 0)])
def test_fewer_than_two_parties(parties: str, n: int) -> None:
    text = "name: t\nstart_date: 2025-01-01\nhorizon: 10\nparties:\n" + parties
    exc = load_error(text)
    check(exc, 4, "parties", "at least 2 items", f"not {n}")


def test_capture_stream_without_captor() -> None:
    exc = load_error(edit("    captor: blue\n", ""))
    check(exc, 9, f"{STREAM}.captor", "required field is missing")


# --------------------------------------------------------------------------- distributions
def test_bad_distribution_tag() -> None:
    exc = load_error(BASE + "    batch: {dist: normal, mean: 2}\n")
    check(exc, 13, f"{STREAM}.batch", "`dist:` one of", "lognormal", "empirical", "'normal'")


def test_lognormal_without_sd() -> None:
    exc = load_error(BASE + "    batch: {dist: lognormal, mean: 2}\n")
    check(exc, 13, f"{STREAM}.batch.sd", "required field is missing")


def test_uniform_high_below_low() -> None:
    exc = load_error(BASE + "    batch: {dist: uniform, low: 5, high: 2}\n")
    assert exc.field in (f"{STREAM}.batch", f"{STREAM}.batch.high"), str(exc)
    check(exc, 13, exc.field, "high (2.0) must be at least low (5.0)")


def test_empirical_weights_length_mismatch() -> None:
    exc = load_error(BASE + "    batch: {dist: empirical, values: [1, 2, 3], weights: [1, 2]}\n")
    assert exc.field in (f"{STREAM}.batch", f"{STREAM}.batch.weights"), str(exc)
    check(exc, 13, exc.field, "weights has 2 entries but values has 3")


# --------------------------------------------------------------------------- references
PARTIES_ARE = "parties are: blue, red"


def test_capture_stream_captor_undefined() -> None:
    exc = load_error(edit("captor: blue", "captor: green"))
    check(exc, 10, f"{STREAM}.captor", "party 'green' is not defined", PARTIES_ARE)


def test_intermediary_connects_undefined_party() -> None:
    exc = load_error(BASE + INTERMEDIARY.replace("[blue, red]", "[blue, green]"))
    check(exc, 15, "intermediaries.uae.connects", "party 'green' is not defined", PARTIES_ARE)


def test_direct_channel_to_undefined_party() -> None:
    exc = load_error(edit("direct_channels: [red]", "direct_channels: [green]"))
    check(exc, 6, "parties.blue.direct_channels", "party 'green' is not defined", PARTIES_ARE)


def test_ally_undefined() -> None:
    exc = load_error(edit("direct_channels: [red]", "allies: [green]"))
    check(exc, 6, "parties.blue.allies", "party 'green' is not defined", PARTIES_ARE)


def test_acknowledges_undefined_nationality() -> None:
    exc = load_error(edit("direct_channels: [red]", "acknowledges: {green: false}"))
    check(
        exc, 6, "parties.blue.acknowledges.green", "nationality 'green' is not defined", PARTIES_ARE
    )


def test_holding_holder_undefined() -> None:
    exc = load_error(BASE + "holdings:\n  - holder: green\n    nationality: red\n    count: 3\n")
    check(exc, 14, "holdings[0].holder", "party 'green' is not defined", PARTIES_ARE)


def test_resettle_to_undefined_party() -> None:
    exc = load_error(BASE + "    preferences: {'resettle:green': 1}\n")
    check(exc, 13, f"{STREAM}.preferences.resettle:green", "party 'green' is not defined")


# --------------------------------------------------------------------------- impossible combos
def test_captor_capturing_own_nationals() -> None:
    exc = load_error(edit("nationality: red", "nationality: blue"))
    check(exc, 11, f"{STREAM}.nationality", "cannot capture its own nationals", "'blue'")


def test_holding_of_own_nationals() -> None:
    exc = load_error(BASE + "holdings:\n  - holder: red\n    nationality: red\n    count: 3\n")
    check(exc, 15, "holdings[0].nationality", "cannot hold its own nationals", "'red'")


def test_resettle_to_party_without_asylum() -> None:
    exc = load_error(BASE + "    preferences: {return: 0.5, 'resettle:red': 0.5}\n")
    check(
        exc,
        13,
        f"{STREAM}.preferences.resettle:red",
        "cannot resettle to 'red'",
        "no asylum",
        "parties.red.asylum: true",
    )


def test_unknown_wish_in_preferences() -> None:
    exc = load_error(BASE + "    preferences: {home: 1}\n")
    check(exc, 13, f"{STREAM}.preferences.home", "return, stay or resettle:PARTY")


def test_one_for_one_and_all_for_all() -> None:
    exc = load_error(red_has("    norms: {one_for_one: true, all_for_all: true}\n"))
    check(exc, 8, "parties.red.norms", "one_for_one and all_for_all cannot both be true")


def test_category_shares_not_summing_to_one() -> None:
    exc = load_error(BASE + "    categories: {soldier: 0.5, officer: 0.3}\n")
    check(exc, 13, f"{STREAM}.categories", "shares must sum to 1", "0.8")


def test_preference_shares_not_summing_to_one() -> None:
    exc = load_error(BASE + "    preferences: {return: 0.5, stay: 0.2}\n")
    check(exc, 13, f"{STREAM}.preferences", "shares must sum to 1", "0.7")


def test_duplicate_party_ids() -> None:
    exc = load_error(edit("  - id: red\n", "  - id: red\n  - id: red\n"))
    check(exc, 7, "parties.red.id", "party id 'red' is used twice")


def test_duplicate_stream_ids() -> None:
    exc = load_error(
        BASE + "  - id: blue_takes_red\n    captor: red\n    nationality: blue\n    rate: 1\n"
    )
    assert exc.line in (9, 13), str(exc)
    check(exc, exc.line, f"{STREAM}.id", "stream id 'blue_takes_red' is used twice")


def test_intermediary_id_equal_to_party_id() -> None:
    exc = load_error(BASE + INTERMEDIARY.replace("id: uae", "id: red"))
    check(exc, 14, "intermediaries.red.id", "'red' is already a party id")


def test_intermediary_connecting_one_party() -> None:
    exc = load_error(BASE + INTERMEDIARY.replace("[blue, red]", "[blue, blue]"))
    check(exc, 15, "intermediaries.uae.connects", "at least two different parties")


# --------------------------------------------------------------------------- dates
def test_impossible_date_unquoted() -> None:
    # 2025-13-45 looks like a YAML timestamp; building it fails inside the YAML reader.
    exc = load_error(edit("2025-01-01", "2025-13-45"))
    check(exc, 2, "start_date")
    assert "2025-13-45" in exc.detail or "month" in exc.detail, str(exc)


def test_impossible_date_quoted() -> None:
    exc = load_error(edit("2025-01-01", "'2025-13-45'"))
    check(exc, 2, "start_date", "valid date", "'2025-13-45'")


def test_impossible_day_of_month_in_holding_captured() -> None:
    exc = load_error(
        BASE + "holdings:\n  - holder: red\n    nationality: blue\n    count: 3\n"
        "    captured: 2024-02-30\n"
    )
    check(exc, 17, "holdings[0].captured")
    assert "2024-02-30" in exc.detail or "day" in exc.detail, str(exc)


# --------------------------------------------------------------------------- timeline
TIMELINE = "timeline:\n  - at: 30\n    note: x\n    set:\n"  # lines 13-16; entries from 17


def test_timeline_value_out_of_range_points_to_the_entry() -> None:
    exc = load_error(BASE + TIMELINE + "      parties.blue.reservation: 1.5\n")
    msg = str(exc)
    # the entry starts on line 14; the offending key is on line 17: either is fine
    assert msg.startswith(("x.yaml:17", "x.yaml:14")), msg
    assert "timeline[0]" in msg, msg
    assert "parties.blue.reservation" in msg and "<= 1" in msg and "1.5" in msg, msg
    assert exc.source == "x.yaml", f"source should be the file, got {exc.source!r}"
    assert exc.line in (14, 17), f"line should be the timeline entry's, got {exc.line!r}"


def test_timeline_error_in_second_entry_points_to_that_entry() -> None:
    text = (
        BASE + "timeline:\n  - at: 30\n    set: {negotiation.frozen: true}\n"
        "  - at: 20\n    set:\n      negotiation.collapse: 2\n"
    )
    exc = load_error(text)
    msg = str(exc)
    assert msg.startswith(("x.yaml:18", "x.yaml:16")), msg
    assert "timeline[1]" in msg and "negotiation.collapse" in msg and "<= 1" in msg, msg
    assert exc.source == "x.yaml" and exc.line in (16, 18), msg


def test_timeline_unknown_field_path() -> None:
    exc = load_error(BASE + TIMELINE + "      parties.blue.colour: 1\n")
    msg = str(exc)
    assert msg.startswith(("x.yaml:17", "x.yaml:14")), msg
    assert "timeline[0]" in msg and "parties.blue.colour" in msg and UNKNOWN_FIELD in msg, msg
    assert exc.source == "x.yaml" and exc.line in (14, 17), msg


def test_timeline_unknown_party_id() -> None:
    exc = load_error(BASE + TIMELINE + "      parties.green.reservation: 0.2\n")
    check(
        exc,
        17,
        "timeline[0].set.parties.green.reservation",
        "no item with id 'green' in parties",
        "ids are: blue, red",
    )


def test_timeline_path_below_a_single_value_blames_the_timeline() -> None:
    # negotiation.collapse is a number; setting negotiation.collapse.x is the timeline's fault,
    # not line 1 of the file.
    exc = load_error(BASE + TIMELINE + "      negotiation.collapse.x: 1\n")
    msg = str(exc)
    assert msg.startswith(("x.yaml:17", "x.yaml:14")), msg
    assert "timeline[0]" in msg and "negotiation.collapse" in msg, msg


def test_timeline_at_after_horizon() -> None:
    exc = load_error(BASE + "timeline:\n  - at: 400\n    set: {negotiation.frozen: true}\n")
    check(exc, 14, "timeline[0].at", "between 0 and the horizon (365)", "got 400")


def test_timeline_at_date_after_horizon() -> None:
    exc = load_error(BASE + "timeline:\n  - at: 2027-01-01\n    set: {negotiation.frozen: true}\n")
    check(exc, 14, "timeline[0].at", "between 0 and the horizon (365)")


def test_timeline_cannot_change_start_date() -> None:
    exc = load_error(BASE + TIMELINE + "      start_date: 2025-02-01\n")
    check(exc, 17, "timeline[0].set.start_date", "start_date cannot change during a run")


def test_timeline_cannot_change_horizon() -> None:
    exc = load_error(BASE + "timeline:\n  - at: 3\n    set: {horizon: 10}\n")
    check(exc, 15, "timeline[0].set.horizon", "horizon cannot change during a run")


def test_timeline_empty_set() -> None:
    exc = load_error(BASE + "timeline:\n  - at: 3\n    set: {}\n")
    check(exc, 15, "timeline[0].set", "at least 1 item")


# --------------------------------------------------------------------------- --set overrides
def test_set_without_equals() -> None:
    exc = load_error(BASE, ["foo"])
    msg = str(exc)
    assert msg.startswith("--set"), msg
    assert "foo" in msg and "expected PATH=VALUE" in msg, msg
    assert "parties.russia.reservation=0.4" in msg, msg  # an example of the right form
    assert msg.count("--set") == 1, f"message stutters: {msg!r}"


def test_set_empty_path() -> None:
    exc = load_error(BASE, ["=3"])
    msg = str(exc)
    assert msg.startswith("--set"), msg
    assert "malformed path" in msg and "dotted names" in msg, msg


def test_set_unknown_party_id() -> None:
    exc = load_error(BASE, ["parties.nobody.reservation=1"])
    check(
        exc,
        None,
        None,
        "no item with id 'nobody' in parties",
        "ids are: blue, red",
        source="--set parties.nobody.reservation=1",
    )


def test_set_out_of_range_names_the_set() -> None:
    exc = load_error(BASE, ["parties.blue.reservation=1.5"])
    check(
        exc,
        None,
        "parties.blue.reservation",
        "<= 1",
        "1.5",
        source="--set parties.blue.reservation=1.5",
    )


def test_set_out_of_range_mapping_overrides() -> None:
    exc = load_error(BASE, {"negotiation.collapse": 2})
    check(exc, None, "negotiation.collapse", "<= 1", "got 2", source="--set negotiation.collapse")


def test_set_of_a_whole_value_names_the_set_not_the_old_line() -> None:
    """An error inside a value replaced by --set is the --set's, not the file line of the
    value it replaced (the file has a ``batch`` of its own, with a ``mean``, on line 13)."""
    text = "capture_streams.blue_takes_red.batch={dist: exponential, mean: -1}"
    exc = load_error(BASE + "    batch: {dist: exponential, mean: 3}\n", [text])
    check(exc, None, f"{STREAM}.batch.mean", "> 0", "got -1", source=f"--set {text}")


def test_set_unknown_field() -> None:
    exc = load_error(BASE, ["parties.blue.colour=1"])
    check(exc, None, "parties.blue.colour", UNKNOWN_FIELD, source="--set parties.blue.colour=1")


def test_set_wrong_type() -> None:
    exc = load_error(BASE, ["horizon=lots"])
    check(exc, None, "horizon", "valid number", "'lots'", source="--set horizon=lots")


def test_set_undefined_reference() -> None:
    exc = load_error(BASE, ["capture_streams.blue_takes_red.captor=green"])
    check(
        exc,
        None,
        f"{STREAM}.captor",
        "party 'green' is not defined",
        source="--set capture_streams.blue_takes_red.captor=green",
    )


def test_set_below_a_single_value_existing() -> None:
    exc = load_error(BASE, ["horizon.x=3"])
    check(exc, None, None, "horizon is a single value", "no field 'x'", source="--set horizon.x=3")


@pytest.mark.parametrize("override", ["negotiation.collapse.x=1", "parties.blue.values.own.x=1"])
def test_set_below_a_default_value_names_the_set(override: str) -> None:
    # the value at the path is not written in the file (a default), so the file is not at fault
    exc = load_error(BASE, [override])
    msg = str(exc)
    assert msg.startswith(f"--set {override}"), msg
    assert exc.source == f"--set {override}", msg


# --------------------------------------------------------------------------- strategies
@pytest.mark.parametrize("spec", ["stubborn", "{name: stubborn, e: 0.2}"])
def test_unknown_strategy(spec: str) -> None:
    exc = load_error(red_has(f"    strategy: {spec}\n"))
    assert exc.field in ("parties.red.strategy", "parties.red.strategy.name"), str(exc)
    check(
        exc,
        8,
        exc.field,
        "unknown strategy 'stubborn'",
        "attrition, boulware, conceder, hardliner, linear, rubinstein, tit_for_tat",
    )


# --------------------------------------------------------------------------- hostile YAML
@pytest.mark.parametrize(
    "tag",
    [
        '!!python/object/apply:os.system ["echo hi"]',
        "!!python/name:os.system",
        "!include other.yaml",
    ],
)
def test_yaml_tags_refused(tag: str, capfd: pytest.CaptureFixture[str]) -> None:
    start = time.perf_counter()
    exc = load_error(edit("name: t", f"name: {tag}"))
    assert time.perf_counter() - start < 1.0
    check(exc, 1, None, "YAML error", "could not determine a constructor", "no tags")
    assert "hi" not in capfd.readouterr().out


def _alias_bomb() -> str:
    text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    prev = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return text


def test_alias_bomb_refused_quickly() -> None:
    start = time.perf_counter()
    exc = load_error(_alias_bomb())
    assert time.perf_counter() - start < 2.0
    check(exc, None, None, "alias bomb", "refused", "200000")


def test_alias_bomb_inside_a_valid_scenario_refused_quickly() -> None:
    start = time.perf_counter()
    exc = load_error(BASE + _alias_bomb() + "description: *i\n")
    assert time.perf_counter() - start < 2.0
    check(exc, None, None, "alias bomb", "refused")


def test_deep_nesting_refused() -> None:
    exc = load_error("name: " + "[" * 100 + "]" * 100 + "\n")
    check(exc, None, None, "nesting deeper than 40 levels")


def test_file_over_2mb_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(BASE.encode() + b"#" * (MAX_BYTES + 10) + b"\n")
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert time.perf_counter() - start < 1.0
    check(info.value, None, None, "bytes", "limited to 2000000", source=str(path))


def test_bytes_over_2mb_refused() -> None:
    exc = load_error(BASE.encode() + b"#" * (MAX_BYTES + 10))
    check(exc, None, None, "limited to 2000000")


def test_non_utf8_bytes_refused_with_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(edit("horizon: 365", "horizon: 365 # caf\xe9").encode("latin-1"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    exc = info.value
    assert str(exc).startswith(f"{path}:3"), f"should name line 3: {exc}"
    assert "UTF-8" in exc.detail and exc.line == 3, str(exc)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    check(info.value, None, None, "file not found", source=str(path))


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(text: str) -> None:
    exc = load_error(text)
    check(exc, None, None, "empty", "expected a mapping of scenario fields")


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("hello\n", "str")])
def test_top_level_not_a_mapping(text: str, kind: str) -> None:
    exc = load_error(text)
    check(exc, 1, None, "expected a mapping of scenario fields at the top level", f"got {kind}")


def test_duplicate_top_level_key() -> None:
    exc = load_error(edit("horizon: 365\n", "horizon: 365\nhorizon: 200\n"))
    check(exc, 4, "horizon", "duplicate key 'horizon'")


def test_duplicate_key_in_party_named_by_id() -> None:
    exc = load_error(
        edit(
            "    direct_channels: [red]\n",
            "    direct_channels: [red]\n    direct_channels: [red]\n",
        )
    )
    check(exc, 7, "parties.blue.direct_channels", "duplicate key 'direct_channels'")


def test_yaml_syntax_error_line() -> None:
    exc = load_error(red_has("   bad indent: 1\n"))
    check(exc, 8, None, "YAML error", "expected <block end>")


def test_yaml_tab_indentation_line() -> None:
    exc = load_error(edit("    rate: 0.5", "\trate: 0.5"))
    check(exc, 12, None, "YAML error", "'\\t'")


def test_error_is_single_line() -> None:
    exc = load_error(red_has("   bad indent: 1\n"))
    assert "\n" not in str(exc)


# --------------------------------------------------------------------------- CLI
def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse
        rc = int(exc.code or 0)
    except Exception as exc:
        pytest.fail(f"a traceback escaped the CLI: {type(exc).__name__}: {exc}")
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_error_line(err: str, starts: str, *expected: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one error line, got {err!r}"
    assert lines[0].startswith(f"error: {starts}"), lines[0]
    for part in expected:
        assert part in lines[0], f"{part!r} missing from {lines[0]!r}"


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(red_has("    reservation: 1.5\n"), encoding="utf-8")
    return path


def test_cli_validate_bad_file(bad_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_cli(["validate", str(bad_file)], capsys)
    assert rc == 2
    assert out == ""
    assert_one_error_line(err, f"{bad_file}:8: parties.red.reservation: ", "<= 1", "1.5")


def test_cli_validate_good_and_bad(
    tmp_path: Path, bad_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(BASE, encoding="utf-8")
    rc, out, err = run_cli(["validate", str(good), str(bad_file)], capsys)
    assert rc == 2
    assert out.startswith(f"{good}: OK")
    assert_one_error_line(err, f"{bad_file}:8: parties.red.reservation: ")


def test_cli_validate_bad_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(BASE, encoding="utf-8")
    rc, _, err = run_cli(["validate", str(good), "--set", "parties.nobody.reservation=1"], capsys)
    assert rc == 2
    assert_one_error_line(err, "--set parties.nobody.reservation=1: ", "'nobody'")


def test_cli_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nope.yaml"
    rc, _, err = run_cli(["validate", str(path)], capsys)
    assert rc == 2
    assert_one_error_line(err, f"{path}: file not found")


def test_cli_validate_hostile_tag(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text(
        edit("name: t", 'name: !!python/object/apply:os.system ["echo hi"]'), encoding="utf-8"
    )
    rc, out, err = run_cli(["validate", str(path)], capfd)
    assert rc == 2
    assert "hi" not in out
    assert_one_error_line(err, f"{path}:1: YAML error", "no tags")


def test_cli_validate_impossible_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "date.yaml"
    path.write_text(edit("2025-01-01", "2025-13-45"), encoding="utf-8")
    rc, _, err = run_cli(["validate", str(path)], capsys)
    assert rc == 2
    assert_one_error_line(err, f"{path}:2: start_date: ")


@pytest.mark.parametrize("make_dir", [False, True])
def test_cli_run_bad_file_writes_nothing(
    tmp_path: Path, bad_file: Path, make_dir: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    if make_dir:
        out_dir.mkdir()
    rc, out, err = run_cli(["run", str(bad_file), "--out", str(out_dir), "-n", "2"], capsys)
    assert rc == 2
    assert out == ""
    assert_one_error_line(err, f"{bad_file}:8: parties.red.reservation: ", "<= 1")
    if make_dir:
        assert list(out_dir.iterdir()) == []
    else:
        assert not out_dir.exists()


def test_cli_run_bad_set_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(BASE, encoding="utf-8")
    out_dir = tmp_path / "out"
    rc, out, err = run_cli(
        ["run", str(good), "--out", str(out_dir), "-n", "2", "--set", "negotiation.collapse=2"],
        capsys,
    )
    assert rc == 2
    assert out == ""
    assert_one_error_line(err, "--set negotiation.collapse=2: negotiation.collapse: ", "<= 1")
    assert not out_dir.exists()


def _subprocess(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_subprocess_validate_bad_file(bad_file: Path) -> None:
    proc = _subprocess(["validate", str(bad_file)])
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert_one_error_line(proc.stderr, f"{bad_file}:8: parties.red.reservation: ", "1.5")


def test_subprocess_run_bad_file_writes_nothing(tmp_path: Path, bad_file: Path) -> None:
    out_dir = tmp_path / "out"
    proc = _subprocess(["run", str(bad_file), "--out", str(out_dir)])
    assert proc.returncode == 2, proc.stderr
    assert_one_error_line(proc.stderr, f"{bad_file}:8: parties.red.reservation: ")
    assert not out_dir.exists()
