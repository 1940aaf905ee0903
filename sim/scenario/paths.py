"""Dotted paths into scenario data and ``--set PATH=VALUE`` overrides.

One addressing scheme serves ``--set``, the timeline, sweeps and calibration: dotted field
names, list items addressed by ``id`` (or index), timeline changes by their date, and the
dotted keys of a timeline ``set:`` continuing the path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml


# --------------------------------------------------------------------------- paths & overrides
def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += ("." if out else "") + str(seg)
    return out


PathT = tuple[str | int, ...]


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
                    f"no item with id {seg!r} in {format_path(walked) or 'the list'}"
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
            raise ValueError(f"{format_path(walked)} is a single value, so it has no field {seg!r}")
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
