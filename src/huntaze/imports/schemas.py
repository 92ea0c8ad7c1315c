"""Import response shapes (camelCase JSON)."""

from __future__ import annotations

from huntaze.kit.schema import CamelModel


class RowErrorOut(CamelModel):
    """A rejected row: 1-based line where it starts, the column at fault, the reason."""

    line: int
    column: str | None
    reason: str


class ImportReportOut(CamelModel):
    """``{"format", "encoding", "inserted", "updated", "unchanged", "rejected",
    "errors": [...]}``; ``encoding`` is the text encoding the file was read in (``utf-8``,
    ``utf-8-sig``, ``utf-16-le``, ``cp1252``…, see docs/importing.md)."""

    format: str
    encoding: str | None
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[RowErrorOut]
