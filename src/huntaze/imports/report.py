"""The import report: what happened to each row of a file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from huntaze.imports.records import RowError

#: At most this many rejected rows are listed one by one; ``rejected`` always counts them all.
MAX_LISTED_ERRORS = 10_000


@dataclass(slots=True)
class ImportReport:
    """Counts of inserted, updated, unchanged and rejected rows, and the rejected rows.

    For a file of transactions (Ko-fi, OnlyFans earnings) a row is a transaction. ``errors``
    lists the first :data:`MAX_LISTED_ERRORS` rejected rows with their 1-based line.
    ``encoding`` is the text encoding the file was read in
    (:class:`huntaze.imports.reading.encoding.TextEncoding` names: ``utf-8``, ``utf-8-sig``,
    ``utf-16-le``, ``cp1252``…), ``None`` when the caller gave the parser UTF-8 directly.
    """

    format: str
    encoding: str | None = None
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)

    def reject(self, error: RowError) -> None:
        """Count a rejected row, listing it while the list is short enough."""
        self.rejected += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(error)

    @property
    def rows(self) -> int:
        """All rows seen: inserted + updated + unchanged + rejected."""
        return self.inserted + self.updated + self.unchanged + self.rejected

    def as_dict(self) -> dict[str, Any]:
        """Return the report's JSON shape.

        ``{"format", "encoding", "inserted", "updated", "unchanged", "rejected",
        "errors": [{"line", "column", "reason"}]}``
        """
        return {
            "format": self.format,
            "encoding": self.encoding,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [
                {"line": e.line, "column": e.column, "reason": e.reason} for e in self.errors
            ],
        }
