"""Writing figures to files: ``save`` writes one figure in several formats, each atomically
(a reader never sees half a file)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from sim.atomic import atomic_write_via

__all__ = ["save"]


def save(
    fig: Figure,
    path_without_suffix: str | Path,
    formats: Sequence[str] = ("png", "svg"),
    *,
    dpi: int = 150,
) -> list[Path]:
    """Write ``fig`` as ``PATH.png``, ``PATH.svg``, … (each to a temporary file in the same
    directory, then renamed, so a reader never sees half a file). Returns the paths written."""
    base = Path(path_without_suffix)
    written: list[Path] = []
    for fmt in formats:
        fmt = fmt.lstrip(".").lower()
        final = base.with_name(f"{base.name}.{fmt}")
        atomic_write_via(final, _writer(fig, fmt, dpi))
        written.append(final)
    return written


def _writer(fig: Figure, fmt: str, dpi: int) -> Callable[[str], None]:
    """A writer of ``fig`` whose output depends on the figure only: no creation date, and SVG
    element ids from a fixed salt (matplotlib's are random), so the same figure is the same
    bytes."""

    def write(tmp: str) -> None:
        import matplotlib as mpl

        meta = {"Date": None} if fmt in ("svg", "pdf") else None
        with mpl.rc_context({"svg.hashsalt": "pxsim"}):
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=meta)

    return write
