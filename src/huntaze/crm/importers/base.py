"""The parser protocol every import format implements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol

from huntaze.crm.importers.records import Record


class ImportFormatError(ValueError):
    """The file is not in the named format at all (for example a missing marker column).

    Carries the 1-based ``line`` and the ``column`` at fault where one is known.
    """

    def __init__(self, message: str, line: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class Parser(Protocol):
    """Reads one export format.

    Attributes:
        format: the format's name, as the API and CLI take it (``patreon_members``…).
        platform: the platform whose fans the file holds (``patreon``…).
        provides: the fan columns (from ``records.FAN_COLUMNS``) this format really carries;
            the writer updates only those on an existing fan.
    """

    format: str
    platform: str
    provides: frozenset[str]

    def parse(self, stream: BinaryIO) -> Iterator[Record]:
        """Yield a record for each row of ``stream``, in file order.

        Each row gives either a ``FanRecord``/``PurchaseRecord`` or a ``RowError`` with its
        1-based starting line; no input makes this raise, except ``ImportFormatError`` when the
        file as a whole is not this format (raised before any record is yielded, or, for a
        syntax error that makes the rest unreadable, yielded as a final ``RowError``).
        """
        ...
