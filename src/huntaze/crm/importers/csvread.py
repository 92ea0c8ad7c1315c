"""Streaming CSV reading shared by the CSV import formats (formats.md: Patreon, Substack, Ko-fi,
generic CSV).

The binary stream is decoded as UTF-8 (a leading BOM is dropped, undecodable bytes become
U+FFFD) with ``newline=""`` so that the stdlib :mod:`csv` module sees CRLF, quoted commas and
quoted newlines as written. Columns are found by their normalised header name (trimmed,
case-insensitive, BOM stripped), never by position: :class:`Header` maps names to indexes once,
and every data row is padded to the header's width plus one always-blank *sentinel* slot, so a
missing column reads as ``""`` through plain list indexing, with no per-row dict.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO

from huntaze.crm.importers.base import ImportFormatError
from huntaze.crm.importers.records import Record, RowError
from huntaze.kit.dates import parse_datetime
from huntaze.kit.money import normalise_currency, to_cents

#: How many bytes :func:`peek` reads by default to sniff a file.
HEAD_SIZE = 64 * 1024

#: Boolean spellings (lower case and as commonly written) -> value.
BOOLS: dict[str, bool] = {
    **dict.fromkeys(("true", "yes", "y", "1", "True", "Yes", "TRUE", "YES"), True),
    **dict.fromkeys(("false", "no", "n", "0", "False", "No", "FALSE", "NO"), False),
}


class FieldError(ValueError):
    """Raised by a row converter for a bad value; becomes ``RowError(line, column, reason)``."""

    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def normalise_name(name: str) -> str:
    """Return a header name as matched: BOMs removed, trimmed, lower case (``" Email"`` ->
    ``"email"``)."""
    return name.replace("\ufeff", "").strip().lower()


def parse_bool(value: str, column: str) -> bool | None:
    """Parse ``true``/``false``/``yes``/``no`` (any case, also ``y``/``n``/``1``/``0``).

    Returns ``None`` for a blank value.

    Raises:
        FieldError: naming ``column`` for any other value.
    """
    text = value.strip().lower()
    if not text:
        return None
    flag = BOOLS.get(text)
    if flag is not None:
        return flag
    raise FieldError(column, f"not a boolean: {value[:40]!r}")


#: The largest amount accepted, in cents (10 trillion in major units): keeps BIGINT safe.
MAX_CENTS = 10**15


def check_cents(cents: int, column: str) -> int:
    """Return ``cents``, or raise :class:`FieldError` if its magnitude exceeds ``MAX_CENTS``."""
    if -MAX_CENTS <= cents <= MAX_CENTS:
        return cents
    raise FieldError(column, "amount out of range")


class Cells:
    """Per-file memo of parsed cell values: exports repeat the same amounts, currencies and
    often timestamps, so each distinct text is parsed once (at most ``limit`` kept per kind).

    Every method takes the raw cell and the column name for the error, returns ``None`` for a
    blank cell, and raises :class:`FieldError` naming the column for a bad value.
    """

    __slots__ = ("_cents", "_currency", "_dates", "limit")

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._dates: dict[str, datetime | None] = {}
        self._cents: dict[str, int | None] = {}
        self._currency: dict[str, str | None] = {}

    def date(self, value: str, column: str) -> datetime | None:
        """Parse a timestamp (via :func:`huntaze.kit.dates.parse_datetime`) to aware UTC."""
        cache = self._dates
        if value in cache:
            return cache[value]
        text = value.strip()
        result: datetime | None = None
        if text:
            try:
                result = datetime.fromisoformat(text)
                result = (
                    result.replace(tzinfo=UTC) if result.tzinfo is None else result.astimezone(UTC)
                )
            except ValueError:
                try:
                    result = parse_datetime(text)
                except ValueError:
                    raise FieldError(column, f"not a date: {text[:40]!r}") from None
        if len(cache) < self.limit:
            cache[value] = result
        return result

    def cents(self, value: str, column: str) -> int | None:
        """Parse an amount in major units (``2.99``, ``$1,234.50``) to integer cents."""
        cache = self._cents
        if value in cache:
            return cache[value]
        text = value.strip()
        result: int | None = None
        if text:
            try:
                result = to_cents(text)
            except (ValueError, ArithmeticError):  # to_cents lets decimal errors through
                raise FieldError(column, f"not an amount: {text[:40]!r}") from None
            check_cents(result, column)
        if len(cache) < self.limit:
            cache[value] = result
        return result

    def currency(self, value: str, column: str) -> str | None:
        """Parse an ISO 4217 code, any case, to upper case."""
        cache = self._currency
        if value in cache:
            return cache[value]
        try:
            result = normalise_currency(value)
        except ValueError:
            raise FieldError(column, f"not a currency code: {value.strip()[:40]!r}") from None
        if len(cache) < self.limit:
            cache[value] = result
        return result


class Header:
    """A CSV header row: the original names and an index per normalised name.

    Attributes:
        raw: the header cells as written (BOM stripped, trimmed).
        names: the normalised names, in file order.
        width: the number of header cells; ``width`` itself is the index of the blank sentinel
            slot that :class:`CsvRows` appends to every data row.
    """

    __slots__ = ("_index", "names", "raw", "width")

    def __init__(self, cells: Iterable[str]) -> None:
        self.raw: tuple[str, ...] = tuple(c.replace("\ufeff", "").strip() for c in cells)
        self.names: tuple[str, ...] = tuple(c.lower() for c in self.raw)
        self.width = len(self.names)
        self._index: dict[str, int] = {}
        for position, name in enumerate(self.names):
            if name and name not in self._index:  # a duplicate name: the first column wins
                self._index[name] = position

    def has(self, name: str) -> bool:
        """Whether a column called ``name`` (any case, trimmed) is present."""
        return normalise_name(name) in self._index

    def find(self, *names: str) -> str | None:
        """Return the original spelling of the first of ``names`` that is present, else None."""
        for name in names:
            position = self._index.get(normalise_name(name))
            if position is not None:
                return self.raw[position]
        return None

    def index(self, *names: str) -> int:
        """Return the position of the first of ``names`` present, else the sentinel ``width``.

        Indexing a row from :class:`CsvRows` with the result always works: an absent column
        reads as ``""``.
        """
        for name in names:
            position = self._index.get(normalise_name(name))
            if position is not None:
                return position
        return self.width


class _Replay(io.RawIOBase):
    """A read-only raw stream giving ``head`` and then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        size = len(buffer)
        if self._head:
            count = min(size, len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._stream.read(size)
        count = len(data)
        buffer[:count] = data
        return count


def peek(stream: BinaryIO, size: int = HEAD_SIZE) -> tuple[bytes, BinaryIO]:
    """Read up to ``size`` bytes of ``stream`` and return them with a stream that replays them.

    Works on non-seekable streams; the original ``stream`` must not be read afterwards.
    """
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    head = b"".join(chunks)
    return head, io.BufferedReader(_Replay(head, stream))


def _is_replay(stream: BinaryIO) -> bool:
    return isinstance(stream, io.BufferedReader) and isinstance(stream.raw, _Replay)


def sniff_delimiter(head: bytes, default: str = ",") -> str:
    """Guess the delimiter (``,``, ``;`` or tab) of a CSV from its first bytes via
    :class:`csv.Sniffer`, on whole lines only; ``default`` when the sniffer cannot tell."""
    text = head.decode("utf-8-sig", errors="replace")
    if len(head) >= HEAD_SIZE and "\n" in text:
        text = text[: text.rindex("\n")]  # drop a line cut short by the end of the head
    try:
        return csv.Sniffer().sniff(text, delimiters=",;\t").delimiter
    except csv.Error:
        return default


def _blank(row: list[str]) -> bool:
    return all(not cell or cell.isspace() for cell in row)


class CsvRows:
    """A CSV file read as a header and a stream of rows.

    Construction reads up to the header (the first non-blank record) and raises
    :class:`~huntaze.crm.importers.base.ImportFormatError` if the file has none. Iterating
    yields ``(line, row)`` for each non-blank data row, where ``line`` is the 1-based line the
    record starts on (the header being on line 1 in a file without leading blank lines) and
    ``row`` is a list of exactly ``header.width + 1`` strings: short rows padded with ``""``,
    cells beyond the header dropped, plus the sentinel ``""``. Rows made only of blank cells are
    skipped.
    """

    def __init__(self, stream: BinaryIO, *, delimiter: str = ",") -> None:
        # The replay wrapper keeps the caller's stream open when the text wrapper is closed.
        source = io.BufferedReader(_Replay(b"", stream)) if not _is_replay(stream) else stream
        self._text = io.TextIOWrapper(source, encoding="utf-8-sig", errors="replace", newline="")
        self._reader = csv.reader(self._text, delimiter=delimiter)
        self.header_line = 0
        for line, row in self._rows():
            if isinstance(row, RowError):
                raise ImportFormatError(f"unreadable header: {row.reason}", line=line)
            self.header_line = line
            self.header = Header(row)
            return
        raise ImportFormatError("the file is empty: no header row", line=1)

    def _rows(self) -> Iterator[tuple[int, list[str] | RowError]]:
        """Yield ``(start_line, row)`` per non-blank record, or a RowError for a CSV error."""
        reader = self._reader
        last = reader.line_num
        while True:
            try:
                for row in reader:
                    start = last + 1
                    last = reader.line_num
                    if row and not _blank(row):
                        yield start, row
                return
            except csv.Error as exc:
                start = last + 1
                error = RowError(start, None, f"unreadable CSV: {exc}")
                if reader.line_num == last:  # no progress: the rest is unreadable
                    yield start, error
                    return
                last = reader.line_num
                yield start, error

    def __iter__(self) -> Iterator[tuple[int, list[str] | RowError]]:
        """Yield ``(line, padded_row)`` per data row, or ``(line, RowError)`` for a CSV syntax
        error (for instance a field over the :mod:`csv` size limit)."""
        width = self.header.width
        full = width + 1
        for line, row in self._rows():
            if isinstance(row, list):
                size = len(row)
                if size == width:
                    row.append("")
                elif size < width:
                    row.extend([""] * (full - size))
                else:
                    del row[width:]
                    row.append("")
            yield line, row

    def records(self, convert: Callable[[int, list[str]], Record]) -> Iterator[Record]:
        """Yield ``convert(line, padded_row)`` per data row; a :class:`FieldError` it raises,
        and a CSV syntax error, become a :class:`~huntaze.crm.importers.records.RowError`."""
        # One flat loop (rather than stacking on __iter__) as this is the hot path.
        reader = self._reader
        width = self.header.width
        full = width + 1
        last = reader.line_num
        while True:
            try:
                for row in reader:
                    line = last + 1
                    last = reader.line_num
                    if not row:
                        continue
                    first = row[0]
                    if (not first or first.isspace()) and _blank(row):
                        continue
                    size = len(row)
                    if size == width:
                        row.append("")
                    elif size < width:
                        row.extend([""] * (full - size))
                    else:
                        del row[width:]
                        row.append("")
                    try:
                        yield convert(line, row)
                    except FieldError as exc:
                        yield RowError(line, exc.column, exc.reason)
                return
            except csv.Error as exc:
                line = last + 1
                yield RowError(line, None, f"unreadable CSV: {exc}")
                if reader.line_num == last:  # no progress: the rest is unreadable
                    return
                last = reader.line_num
