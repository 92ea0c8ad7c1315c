"""The parser protocol every import format implements, and the import's typed errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import BinaryIO, Protocol

from huntaze.imports.records import Record


class ImportFormatError(ValueError):
    """The file as a whole cannot be imported: it is not in the named format (a missing
    marker column, JSON without the expected array, nesting too deep), or its bytes are not
    text in any encoding Huntaze reads.

    Raised before any row is written. Carries the 1-based ``line``, the ``column`` at fault and
    the 0-based byte ``offset`` where known. The API answers it as 422 ``invalid_file``.
    """

    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: str | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.offset = offset


class ImportTooLargeError(ValueError):
    """The file has more bytes than the caller's limit (``limit``, in bytes); nothing was
    written. The API answers it as 413 ``file_too_large``."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The upload is larger than {limit} bytes")
        self.limit = limit


class Parser(Protocol):
    """Reads one export format.

    Attributes:
        format: the format's name, as the API and CLI take it (``patreon_members``…).
        platform: the platform whose fans the file holds (``patreon``…).
        provides: the fan columns (from ``records.FAN_COLUMNS``) this format really carries;
            the writer updates only those on an existing fan.
        columns: the file's column (or JSON key) that each record field comes from, for the
            report of a value the shared rules refuse (:mod:`huntaze.imports.validate`):
            keys are record attribute names (``email``, ``platform_fan_id``…) or
            ``custom.<key>`` for a custom field; a field not listed is named by itself.
    """

    format: str
    platform: str
    provides: frozenset[str]

    @property
    def columns(self) -> Mapping[str, str]:
        """Record field -> the file's column (read-only here: a parser may hold a dict)."""
        ...

    def parse(self, stream: BinaryIO) -> Iterator[Record]:
        """Yield a record for each row of ``stream`` (UTF-8 bytes, a BOM allowed), in file
        order.

        Each row gives either a ``FanRecord``/``PurchaseRecord`` or a ``RowError`` with its
        1-based starting line; no input makes this raise, except ``ImportFormatError`` when the
        file as a whole is not this format (raised before any record is yielded, or, for a
        syntax error after some rows that makes the rest unreadable, yielded as a final
        ``RowError``).
        """
        ...
