"""Atomic file writes: a reader never sees half a file (a leaf: imports nothing of sim).

Every file pxsim publishes is written to a private temporary file in the same directory and
renamed into place (``os.replace`` is atomic on one file system), so an interrupted run leaves
either the old file or the new one, never a truncated one. Temporary files are created private
(0600 by ``mkstemp``); published files get the usual mode under the user's umask.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _publishable(tmp: str) -> None:
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)


def atomic_write_via(path: str | Path, writer: Callable[[str], object]) -> None:
    """Let ``writer(tmp_path)`` write the file, then move it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        writer(tmp)
        _publishable(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write_via(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    if not isinstance(text, str):
        raise TypeError(f"expected text, got {type(text).__name__}")
    atomic_write_bytes(path, text.encode("utf-8"))
