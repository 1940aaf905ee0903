"""Change values in a YAML file's text while keeping its comments, order and layout.

``edit_yaml(text, {"parties.russia.reservation": 0.4, ...})`` sets each dotted path (the same
paths as ``--set``: list items by id, timeline changes by their date) with ruamel.yaml's
round-trip loader and dumps the document again, so a fitted scenario reads like the original.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from sim.scenario.paths import set_path


def edit_yaml(text: str, values: Mapping[str, Any]) -> str:
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 100
    y.indent(mapping=2, sequence=4, offset=2)
    data = y.load(text)
    for path, value in values.items():
        set_path(data, path, value)
    buf = io.StringIO()
    y.dump(data, buf)
    return buf.getvalue()
