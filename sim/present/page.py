"""The building blocks of an HTML report page: the style sheet, figures embedded as PNG data
URIs, tables that fit the page, and the provenance (a manifest) as a table of key/value rows.

Tables fit a ~1000 px page: numbers are rounded for reading and kept on one line, text cells
and headers wrap (headers also after underscores), and the font is small. The page needs no
network and no scripts except a two-line check that records how many figures the browser
rendered (``data-figures-rendered`` on ``<body>``).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["figure_html", "interval", "page", "png_base64", "provenance", "table"]

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1000px;color:#222;line-height:1.45;padding:0 1rem;box-sizing:border-box}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0;max-width:100%}
td,th{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;overflow-wrap:break-word}
td.num,td.raw,th.num{text-align:right}td.num,.nw{white-space:nowrap}td.raw{overflow-wrap:normal}
th{background:#f4f4f4;overflow-wrap:normal;vertical-align:bottom}
table.provenance th,table.provenance td{text-align:left;vertical-align:top}
table.provenance td{overflow-wrap:anywhere}
table.provenance th{font-weight:600;background:#fafafa;white-space:nowrap}
table.provenance th.group{background:#f0f0f0}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85rem;color:#555}.muted{color:#666;font-size:.9rem}
pre{background:#f7f7f7;padding:.6rem;overflow-x:auto;font-size:.8rem}
"""

CHECK = """<script>
window.addEventListener('load',function(){var n=0;document.querySelectorAll('figure img')
.forEach(function(i){if(i.complete&&i.naturalWidth>0){n++}});
document.body.setAttribute('data-figures-rendered',String(n));});
</script>"""


def interval(low: float, high: float, fmt: Callable[[float], str]) -> str:
    """``[low, high]`` in HTML, that may wrap between the bounds but never inside a number
    (a cell of a ``raw`` column of ``table``)."""
    lo, hi = html.escape(fmt(low)), html.escape(fmt(high))
    return f'<span class="nw">[{lo},</span> <span class="nw">{hi}]</span>'


def breakable(text: str) -> str:
    """Escaped ``text`` that may wrap after its underscores and slashes (identifiers, paths)."""
    return html.escape(text).replace("_", "_<wbr>").replace("/", "/<wbr>")


def png_base64(fig: Figure) -> str:
    """The figure as a base64 PNG (100 dpi, trimmed to its content)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(fig: Figure | str, caption: str) -> str:
    """A ``<figure>`` with the figure (or an already encoded base64 PNG) and its caption."""
    data = fig if isinstance(fig, str) else png_base64(fig)
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _cell(v: Any, fmt: Callable[[float], str], raw: bool) -> str:
    if raw:
        return f'<td class="raw">{v}</td>'
    if isinstance(v, float):
        return '<td class="num">' + ("—" if v != v else html.escape(fmt(v))) + "</td>"
    if isinstance(v, int | np.integer) and not isinstance(v, bool):
        return f'<td class="num">{v}</td>'
    if isinstance(v, list | tuple):
        v = "; ".join(str(x) for x in v) or "—"
    return f"<td>{breakable(str(v))}</td>"


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def table(
    df: pd.DataFrame,
    floatfmt: str | Callable[[float], str] = "{:,.2f}",
    css_class: str = "",
    raw: Collection[str] = (),
) -> str:
    """An HTML table of ``df`` (no index): text left, numbers right, floats by ``floatfmt``
    (a format string or a function), missing as —, lists joined by semicolons; the cells of
    the ``raw`` columns are HTML already (right-aligned, like numbers)."""
    fmt = floatfmt.format if isinstance(floatfmt, str) else floatfmt
    is_raw = [str(c) in raw for c in df.columns]
    right = [r or _numeric(df[c]) for c, r in zip(df.columns, is_raw, strict=True)]
    head = "".join(
        ("<th class='num'>" if n else "<th>") + breakable(str(c)) + "</th>"
        for c, n in zip(df.columns, right, strict=True)
    )
    body = "".join(
        "<tr>" + "".join(_cell(v, fmt, r) for v, r in zip(row, is_raw, strict=True)) + "</tr>"
        for row in df.itertuples(index=False)
    )
    cls = f' class="{css_class}"' if css_class else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, sections: Sequence[str]) -> str:
    """A complete page: title, style sheet, the sections in order, the figure check."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        + "".join(sections)
        + CHECK
        + "</body></html>\n"
    )


# --------------------------------------------------------------------------- provenance
def _indent(depth: int) -> str:
    return f' style="padding-left:{0.4 + 1.2 * depth:.1f}rem"'


def _scalar(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return html.escape(str(v))


def _item_name(item: Any, i: int) -> str:
    if isinstance(item, Mapping):
        for key in ("label", "name", "id", "path", "parameter"):
            if isinstance(item.get(key), str | int | float):
                return str(item[key])
    return f"#{i + 1}"


def _value_rows(key: str, value: Any, depth: int) -> list[str]:
    """The rows of one entry: a key/value row; a list of plain values as one row each (the
    key spanning them); a mapping or a list of mappings as a group heading over sub-rows."""
    k = html.escape(str(key))
    if isinstance(value, Mapping):
        head = f'<tr><th class="group" colspan="2"{_indent(depth)}>{k}</th></tr>'
        return [head, *_rows(value, depth + 1)]
    if isinstance(value, list | tuple) and any(isinstance(v, Mapping | list) for v in value):
        head = f'<tr><th class="group" colspan="2"{_indent(depth)}>{k} ({len(value)})</th></tr>'
        rows = [head]
        for i, item in enumerate(value):
            rows += _value_rows(_item_name(item, i), item, depth + 1)
        return rows
    if isinstance(value, list | tuple) and len(value) > 1:
        span = f' rowspan="{len(value)}"'
        first = f"<tr><th{span}{_indent(depth)}>{k}</th><td>{_scalar(value[0])}</td></tr>"
        return [first, *(f"<tr><td>{_scalar(v)}</td></tr>" for v in value[1:])]
    if isinstance(value, list | tuple):
        value = value[0] if value else "—"
    return [f"<tr><th{_indent(depth)}>{k}</th><td>{_scalar(value)}</td></tr>"]


def _rows(mapping: Mapping[str, Any], depth: int) -> list[str]:
    return [row for key, value in mapping.items() for row in _value_rows(key, value, depth)]


def provenance(manifest: Mapping[str, Any], title: str = "Provenance") -> str:
    """The manifest as a two-column table: a row per key and value; nested mappings and
    lists of them as indented sub-rows under a heading row, lists of values one per row."""
    body = "".join(_rows(manifest, 0))
    return f'<h2>{html.escape(title)}</h2><table class="provenance"><tbody>{body}</tbody></table>'
