"""Safe YAML reading: refuse hostile input (tags, alias bombs, huge or non-UTF-8 files) and map
every field path to the line it came from, so errors can name it.
"""

from __future__ import annotations

from typing import Any

import yaml

from sim.errors import ScenarioError
from sim.scenario.paths import PathT, format_path

MAX_BYTES = 2_000_000
MAX_NODES = 200_000
MAX_DEPTH = 40


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
                    field=format_path((*path, name)),
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
