"""Loading scenarios: safe YAML → overrides → validated, frozen ``Scenario``.

Owns everything between a file on disk and a ``sim.schema.Scenario``: refusing hostile YAML
(tags, alias bombs, huge or non-UTF-8 files), applying ``--set PATH=VALUE`` overrides (dotted
paths, list items addressed by ``id``), resolving the timeline into validated phases, checking
cross-references, and turning every problem into one ``ScenarioError`` that names the file,
the line, the field path and what was expected.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.schema import Scenario

MAX_BYTES = 2_000_000
MAX_NODES = 200_000
MAX_DEPTH = 40

PathT = tuple[str | int, ...]


# --------------------------------------------------------------------------- YAML reading
class _Loader(yaml.SafeLoader):
    """SafeLoader whose impossible dates (2025-02-30) stay text, so validation can name the
    field instead of the YAML library failing without one."""

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:
        try:
            return super().construct_yaml_timestamp(node)  # type: ignore[arg-type]
        except ValueError:
            return self.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int = 0) -> int:
    if depth > MAX_DEPTH:
        raise ScenarioError(f"nesting deeper than {MAX_DEPTH} levels")
    key = id(node)
    if key in memo:
        return memo[key]
    size = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            size += _expanded_size(child, memo, depth + 1)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            size += _expanded_size(k, memo, depth + 1) + _expanded_size(v, memo, depth + 1)
    memo[key] = size
    if size > MAX_NODES:
        raise ScenarioError(
            f"document expands to more than {MAX_NODES} values (alias bomb?); refused"
        )
    return size


def _line_map(node: yaml.Node, path: PathT, out: dict[PathT, int], source: str) -> None:
    """Record the line of every value; list items with an ``id`` are addressed by it."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                continue
            name = k.value
            if name in seen and name != "<<":
                raise ScenarioError(
                    f"duplicate key {name!r}",
                    source=source,
                    line=k.start_mark.line + 1,
                    field=_fmt_path((*path, name)),
                )
            seen.add(name)
            out.setdefault((*path, name), k.start_mark.line + 1)
            _line_map(v, (*path, name), out, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.setdefault((*path, i), item.start_mark.line + 1)
            ident = _node_id(item)
            _line_map(item, (*path, ident if ident is not None else i), out, source)


def _node_id(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if (
                isinstance(k, yaml.ScalarNode)
                and k.value == "id"
                and isinstance(v, yaml.ScalarNode)
            ):
                return str(v.value)
    return None


def read_yaml(text_or_bytes: str | bytes, source: str) -> tuple[Any, dict[PathT, int]]:
    """Parse YAML safely; return (data, path → line map). Raises ScenarioError."""
    if isinstance(text_or_bytes, bytes):
        if len(text_or_bytes) > MAX_BYTES:
            raise ScenarioError(
                f"file is {len(text_or_bytes)} bytes; scenarios are limited to {MAX_BYTES}",
                source=source,
            )
        try:
            text = text_or_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad_line = text_or_bytes[: exc.start].count(b"\n") + 1
            raise ScenarioError(
                f"not valid UTF-8 text (byte {exc.start}); save the file as UTF-8",
                source=source,
                line=bad_line,
            ) from None
    else:
        text = text_or_bytes
        if len(text) > MAX_BYTES:
            raise ScenarioError(f"text longer than {MAX_BYTES} characters", source=source)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise ScenarioError(
                    "the file is empty; expected a mapping of scenario fields", source=source
                )
            _expanded_size(node, {})
            lines: dict[PathT, int] = {}
            _line_map(node, (), lines, source)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except ScenarioError as exc:
        if exc.source is None:
            exc.source = source
            exc.args = (exc.format(),)
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in problem:
            problem = f"{problem}; only plain YAML values are allowed (no tags)"
        raise ScenarioError(f"YAML error: {problem}", source=source, line=line) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"YAML error: {exc}", source=source) from None
    except RecursionError:
        raise ScenarioError("document nested too deeply", source=source) from None
    return data, lines


# --------------------------------------------------------------------------- paths & overrides
def _fmt_path(path: Iterable[str | int]) -> str:
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += ("." if out else "") + str(seg)
    return out


def split_path(path: str) -> list[str]:
    parts = path.strip().split(".")
    if not path.strip() or any(p == "" for p in parts):
        raise ValueError(
            f"malformed path {path!r}; expected dotted names like parties.russia.reservation"
        )
    return parts


def find_item(items: list[Any], seg: str) -> int | None:
    """A list item by ``id`` (timeline changes by their ``at`` date), else by index."""
    for i, item in enumerate(items):
        if isinstance(item, Mapping) and str(item.get("id")) == seg:
            return i
    for i, item in enumerate(items):
        if isinstance(item, Mapping) and "id" not in item and str(item.get("at")) == seg:
            return i
    if seg.isdigit() and int(seg) < len(items):
        return int(seg)
    return None


def dotted_key(node: Any, parts: list[str], i: int) -> tuple[int, str]:
    """The key of mapping ``node`` that ``parts[i:]`` starts with: the longest existing key made
    of several segments (a timeline ``set`` has keys like ``parties.ukraine.initiative``),
    else ``parts[i]``. Returns (index of the key's last segment, key)."""
    if isinstance(node, Mapping):
        for j in range(len(parts), i + 1, -1):
            key = ".".join(parts[i:j])
            if key in node:
                return j - 1, key
    return i, parts[i]


def set_path(data: dict[str, Any], path: str, value: Any) -> PathT:
    """Set ``value`` at dotted ``path`` in raw scenario ``data`` (in place); list items by id.

    Returns the resolved path (ids kept as names). Raises ValueError with what is wrong.
    """
    parts = split_path(path)
    node: Any = data
    walked: list[str | int] = []
    i = 0
    while i < len(parts):
        i, seg = dotted_key(node, parts, i)
        last = i == len(parts) - 1
        i += 1
        if isinstance(node, list):
            idx = find_item(node, seg)
            if idx is None:
                ids = [str(x.get("id")) for x in node if isinstance(x, Mapping) and "id" in x]
                raise ValueError(
                    f"no item with id {seg!r} in {_fmt_path(walked) or 'the list'}"
                    + (f"; ids are: {', '.join(ids)}" if ids else "")
                )
            walked.append(seg)
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            walked.append(seg)
            if last:
                node[seg] = value
            else:
                if node.get(seg) is None:
                    node[seg] = {}
                node = node[seg]
        else:
            raise ValueError(f"{_fmt_path(walked)} is a single value, so it has no field {seg!r}")
    return tuple(walked)


def parse_override(text: str) -> tuple[str, Any]:
    """``'a.b=1'`` → ``('a.b', 1)``; the value is read as a YAML value (number, bool, list…)."""
    if "=" not in text:
        raise ValueError("expected PATH=VALUE, e.g. parties.russia.reservation=0.4")
    path, raw = text.split("=", 1)
    split_path(path)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path.strip(), value


# --------------------------------------------------------------------------- validation
def _loc_to_path(loc: Sequence[str | int], data: Any) -> PathT:
    """Pydantic loc (indices) → path with list items named by id where they have one."""
    out: list[str | int] = []
    node = data
    for seg in loc:
        if isinstance(seg, int) and isinstance(node, list):
            item = node[seg] if seg < len(node) else None
            ident = item.get("id") if isinstance(item, Mapping) else None
            out.append(str(ident) if ident is not None else seg)
            node = item
        else:
            if (isinstance(seg, str) and seg.startswith("function-")) or seg in (
                "tagged-union[Fixed,Exponential,Lognormal,Gamma,Uniform,Poisson,Geometric,Empirical]",
            ):
                continue
            out.append(seg)
            node = node.get(seg) if isinstance(node, Mapping) else None
    return tuple(_clean_loc(out))


def _clean_loc(path: list[str | int]) -> list[str | int]:
    dist_tags = {
        "fixed",
        "exponential",
        "lognormal",
        "gamma",
        "uniform",
        "poisson",
        "geometric",
        "empirical",
    }
    out: list[str | int] = []
    for i, seg in enumerate(path):
        if seg in dist_tags and i > 0:
            continue  # discriminator branch name inside a path
        if seg in ("StrategySpec",):
            continue
        out.append(seg)
    return out


def _describe_error(err: Mapping[str, Any], path: PathT = ()) -> str:
    typ = err.get("type", "")
    msg = str(err.get("msg", "invalid"))
    got = err.get("input")
    ctx = err.get("ctx") or {}
    if typ == "extra_forbidden":
        return "unknown field; check the spelling (see docs/scenario-format.md for the fields)"
    if typ == "missing":
        return "required field is missing"
    if typ == "union_tag_invalid" or typ == "union_tag_not_found":
        from sim.dists import DIST_NAMES

        return f"expected a distribution with `dist:` one of {', '.join(DIST_NAMES)}; got {got!r}"
    if typ in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bounds = {
            "greater_than_equal": ">=",
            "less_than_equal": "<=",
            "greater_than": ">",
            "less_than": "<",
        }[typ]
        limit = next(iter(ctx.values()), "?")
        if path == ("horizon",) and isinstance(got, int | float) and got <= 0:
            return (
                f"expected a horizon after start_date; got {got:g} days (an end date must "
                f"come after start_date)"
            )
        return f"expected a value {bounds} {limit}, got {got!r}"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if typ in (
        "float_parsing",
        "float_type",
        "int_parsing",
        "int_type",
        "bool_parsing",
        "bool_type",
        "string_type",
        "list_type",
        "dict_type",
        "model_type",
        "date_from_datetime_parsing",
        "date_parsing",
        "date_type",
        "int_from_float",
    ):
        return f"{msg[0].lower()}{msg[1:]}, got {got!r}"
    if typ == "string_pattern_mismatch":
        return f"expected a lower-case identifier (letters, digits, _), got {got!r}"
    return f"{msg[0].lower()}{msg[1:]}" if msg else "invalid"


class _Origins:
    """Where each raw path came from: file lines, or a --set / timeline override."""

    def __init__(self, source: str, lines: dict[PathT, int]) -> None:
        self.source = source
        self.lines = lines
        # path -> (source, line, field prefix)
        self.overrides: dict[PathT, tuple[str, int | None, str]] = {}

    def locate(self, path: PathT) -> tuple[str, int | None, str]:
        """(source, line, field prefix) of the value at ``path``: the override that set it or
        a value beneath it, else the nearest line of the file."""
        for opath, origin in self.overrides.items():
            if opath[: len(path)] == path:
                return origin
        for n in range(len(path), -1, -1):
            pre = path[:n]
            if pre in self.overrides:
                return self.overrides[pre]
            if pre in self.lines:
                return self.source, self.lines[pre], ""
        return self.source, None, ""

    def error(self, path: PathT, message: str) -> ScenarioError:
        src, line, prefix = self.locate(path)
        return ScenarioError(message, source=src, line=line, field=prefix + _fmt_path(path) or None)


def _start_date(data: Mapping[str, Any]) -> dt.date | None:
    value = data.get("start_date")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _validate(data: Any, origins: _Origins) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(
            f"expected a mapping of scenario fields at the top level, got {type(data).__name__}",
            source=origins.source,
            line=1,
        )
    try:
        return Scenario.model_validate(data, context={"start_date": _start_date(data)})
    except ValidationError as exc:
        errs = exc.errors()
        err = errs[0]
        path = _loc_to_path(err["loc"], data)
        more = f" (and {len(errs) - 1} more problem(s))" if len(errs) > 1 else ""
        raise origins.error(path, _describe_error(err, path) + more) from None


def check_references(scn: Scenario) -> list[tuple[PathT, str]]:
    """Cross-field problems a schema cannot see: undefined ids, impossible combinations."""
    problems: list[tuple[PathT, str]] = []
    ids = scn.party_ids
    known = set(ids)
    listing = ", ".join(ids)

    def need(pid: str, path: PathT, what: str = "party") -> None:
        if pid not in known:
            problems.append((path, f"{what} {pid!r} is not defined; parties are: {listing}"))

    seen: set[str] = set()
    for p in scn.parties:
        if p.id in seen:
            problems.append((("parties", p.id, "id"), f"party id {p.id!r} is used twice"))
        seen.add(p.id)
    for p in scn.parties:
        base: PathT = ("parties", p.id)
        for a in p.allies:
            need(a, (*base, "allies"))
            if a == p.id:
                problems.append(((*base, "allies"), "a party cannot be its own ally"))
        for c in p.direct_channels:
            need(c, (*base, "direct_channels"))
            if c == p.id:
                problems.append(((*base, "direct_channels"), "a party cannot talk to itself"))
        for n in p.acknowledges:
            need(n, (*base, "acknowledges", n), "nationality")
        if p.norms.one_for_one and p.norms.all_for_all:
            problems.append(((*base, "norms"), "one_for_one and all_for_all cannot both be true"))
    asylum = {p.id for p in scn.parties if p.asylum}

    def check_prefs(prefs: Mapping[str, float], path: PathT, holder: str | None) -> None:
        total = 0.0
        for key, share in prefs.items():
            total += share
            if key in ("return", "stay"):
                if key == "stay" and holder is not None and holder not in asylum:
                    pass  # allowed: they stay held (the holder offers no asylum)
                continue
            if key.startswith("resettle:"):
                target = key.split(":", 1)[1]
                if target not in known:
                    problems.append(
                        ((*path, key), f"party {target!r} is not defined; parties are: {listing}")
                    )
                elif target not in asylum:
                    problems.append(
                        (
                            (*path, key),
                            f"prisoners cannot resettle to {target!r}: that party offers "
                            f"no asylum (set parties.{target}.asylum: true)",
                        )
                    )
                continue
            problems.append(((*path, key), "expected a wish of return, stay or resettle:PARTY"))
        if prefs and abs(total - 1.0) > 1e-6:
            problems.append((path, f"shares must sum to 1, they sum to {total:g}"))

    def check_shares(shares: Mapping[str, float], path: PathT) -> None:
        total = sum(shares.values())
        if not shares:
            problems.append((path, "expected at least one category"))
        elif abs(total - 1.0) > 1e-6:
            problems.append((path, f"shares must sum to 1, they sum to {total:g}"))

    for i, h in enumerate(scn.holdings):
        base = ("holdings", i)
        need(h.holder, (*base, "holder"))
        need(h.nationality, (*base, "nationality"), "nationality")
        if h.holder == h.nationality:
            problems.append(
                ((*base, "nationality"), f"a party cannot hold its own nationals ({h.holder!r})")
            )
        check_prefs(h.preferences, (*base, "preferences"), h.holder)
        if h.preference_drift is not None:
            check_prefs(h.preference_drift.to, (*base, "preference_drift", "to"), h.holder)
        check_shares(h.categories, (*base, "categories"))
    for s in scn.capture_streams:
        base = ("capture_streams", s.id)
        need(s.captor, (*base, "captor"))
        need(s.nationality, (*base, "nationality"), "nationality")
        if s.captor == s.nationality:
            problems.append(
                (
                    (*base, "nationality"),
                    f"a capture stream's captor cannot capture its own nationals ({s.captor!r})",
                )
            )
        check_prefs(s.preferences, (*base, "preferences"), s.captor)
        if s.preference_drift is not None:
            check_prefs(s.preference_drift.to, (*base, "preference_drift", "to"), s.captor)
        check_shares(s.categories, (*base, "categories"))
    check_prefs(scn.captivity.preference_drift.to, ("captivity", "preference_drift", "to"), None)
    ids_seen: set[str] = set()
    for s in scn.capture_streams:
        if s.id in ids_seen:
            problems.append((("capture_streams", s.id, "id"), f"stream id {s.id!r} is used twice"))
        ids_seen.add(s.id)
    iseen: set[str] = set()
    for m in scn.intermediaries:
        base = ("intermediaries", m.id)
        if m.id in iseen:
            problems.append(((*base, "id"), f"intermediary id {m.id!r} is used twice"))
        if m.id in known:
            problems.append(((*base, "id"), f"{m.id!r} is already a party id"))
        iseen.add(m.id)
        for c in m.connects:
            need(c, (*base, "connects"))
        if len(set(m.connects)) < 2:
            problems.append(((*base, "connects"), "expected at least two different parties"))
    if scn.horizon <= 0:
        problems.append((("horizon",), "expected a horizon after the start date"))
    return problems


# --------------------------------------------------------------------------- public API
def loads_scenario(
    text: str | bytes,
    overrides: Sequence[str] | Mapping[str, Any] = (),
    source: str = "<string>",
) -> Scenario:
    """Load a scenario from YAML text. ``overrides``: ``['a.b=1']`` or ``{'a.b': 1}``."""
    data, lines = read_yaml(text, source)
    origins = _Origins(source, lines)
    if isinstance(data, dict):
        pairs: list[tuple[str, Any, str]] = []
        if isinstance(overrides, Mapping):
            pairs = [(k, v, f"--set {k}") for k, v in overrides.items()]
        else:
            for text_ov in overrides:
                try:
                    k, v = parse_override(text_ov)
                except ValueError as exc:
                    raise ScenarioError(str(exc), source=f"--set {text_ov}") from None
                pairs.append((k, v, f"--set {text_ov}"))
        for k, v, label in pairs:
            try:
                resolved = set_path(data, k, copy.deepcopy(v))
            except ValueError as exc:
                raise ScenarioError(str(exc), source=label) from None
            origins.overrides[resolved] = (label, None, "")
    scn = _validate(data, origins)
    _raise_first(check_references(scn), origins)
    scn._phases = _resolve_timeline(scn, data, origins)
    return scn


def load_scenario(path: str | Path, overrides: Sequence[str] | Mapping[str, Any] = ()) -> Scenario:
    """Load and validate a scenario file, applying ``--set``-style overrides."""
    p = Path(path)
    source = str(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise ScenarioError("file not found", source=source) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror}", source=source) from None
    if p.is_dir():
        raise ScenarioError("is a directory; expected a YAML scenario file", source=source)
    if size > MAX_BYTES:
        raise ScenarioError(
            f"file is {size} bytes; scenarios are limited to {MAX_BYTES}", source=source
        )
    return loads_scenario(p.read_bytes(), overrides, source)


def _raise_first(problems: list[tuple[PathT, str]], origins: _Origins) -> None:
    if problems:
        path, msg = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise origins.error(path, msg + more)


def _resolve_timeline(
    scn: Scenario, data: dict[str, Any], origins: _Origins
) -> list[tuple[float, Scenario]]:
    """Validate the scenario as it stands after each timeline change, in date order."""
    phases: list[tuple[float, Scenario]] = []
    if not scn.timeline:
        return phases
    order = sorted(range(len(scn.timeline)), key=lambda i: (scn.timeline[i].at, i))
    current = copy.deepcopy(data)
    current.pop("timeline", None)
    for i in order:
        change = scn.timeline[i]
        if change.at < 0 or change.at > scn.horizon:
            src, line, _ = origins.locate(("timeline", i, "at"))
            raise ScenarioError(
                f"expected a day between 0 and the horizon ({scn.horizon:g}), got {change.at:g}",
                source=src,
                line=line,
                field=f"timeline[{i}].at",
            )
        for key, value in change.set.items():
            label_path: PathT = ("timeline", i, "set", key)
            try:
                if split_path(key)[0] in (
                    "timeline",
                    "start_date",
                    "horizon",
                    "seed",
                    "replications",
                    "name",
                    "holdings",
                ):
                    raise ValueError(f"{split_path(key)[0]} cannot change during a run")
                resolved = set_path(current, key, copy.deepcopy(value))
            except ValueError as exc:
                src, line, _ = origins.locate(label_path)
                raise ScenarioError(
                    str(exc), source=src, line=line, field=f"timeline[{i}].set.{key}"
                ) from None
            # errors at this path are reported at the timeline entry's line
            origins.overrides.pop(resolved, None)
            line = origins.lines.get(label_path) or origins.lines.get(("timeline", i))
            origins.overrides[resolved] = (origins.source, line, f"timeline[{i}].set.")
        state = _validate({**current, "timeline": []}, origins)
        _raise_first(check_references(state), origins)
        phases.append((change.at, state))
    return phases


def timeline_phases(scn: Scenario) -> list[tuple[float, Scenario]]:
    """The validated scenario after each timeline change, ordered by day."""
    if scn._phases is None:
        data = scn.model_dump(mode="json", by_alias=True)
        scn._phases = _resolve_timeline(scn, data, _Origins("<scenario>", {}))
    return scn._phases


def resolved_dict(scn: Scenario) -> dict[str, Any]:
    """The scenario with every default filled in, dates as ISO strings, days as numbers."""
    return scn.model_dump(mode="json", by_alias=True)


def resolved_yaml(scn: Scenario) -> str:
    return yaml.safe_dump(resolved_dict(scn), sort_keys=False, allow_unicode=True, width=100)


def scenario_hash(scn: Scenario) -> str:
    """A stable digest of the resolved scenario (changes whenever any value does)."""
    blob = json.dumps(resolved_dict(scn), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
