"""Errors the user can cause and fix: each names where (file, line, field) and what was expected."""

from __future__ import annotations


class ScenarioError(Exception):
    """A scenario file or override is wrong. `str()` is the full, user-facing message."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.detail = message
        super().__init__(self.format())

    def format(self) -> str:
        where = self.source or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.detail}"
        return f"{where}: {self.detail}"


class OutputDirError(Exception):
    """An output directory cannot be used as asked (holds another run, is a file, …)."""
