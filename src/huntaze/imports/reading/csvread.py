"""Streaming CSV reading shared by the CSV import formats (formats.md: Patreon, Substack, Ko-fi,
generic CSV).

The binary stream is decoded strictly as UTF-8 (a leading BOM is dropped; the import service
has already checked the bytes and transcoded other encodings, :mod:`.encoding`) with
``newline=""`` so that the stdlib :mod:`csv` module sees CRLF, quoted commas and quoted
newlines as written, and line numbers are physical lines. Columns are found by their
normalised header name (trimmed, case-insensitive, BOM stripped), never by position:
:class:`Header` maps names to indexes once, and every data row gets one always-blank
*sentinel* slot after the header's width, so an absent column reads as ``""`` through plain
list indexing, with no per-row dict.

Row width (RFC 4180 §2.4: each record should hold the header's number of fields): a row with
fewer fields than the header is rejected, giving both counts (a truncated row would otherwise
import with its last columns blank), except that trailing header cells without a name need no
field. Extra fields after the header's width are dropped when blank (a trailing delimiter) and
reject the row otherwise (an unquoted delimiter has shifted every value after it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, TypeVar

from huntaze.imports.base import ImportFormatError
from huntaze.imports.reading.cells import FieldError
from huntaze.imports.records import Record, RowError

T = TypeVar("T")

#: How many bytes :func:`peek` reads by default to sniff a file.
HEAD_SIZE = 64 * 1024


def normalise_name(name: str) -> str:
    """Return a header name as matched: BOMs removed, trimmed, lower case (``" Email"`` ->
    ``"email"``)."""
    return name.replace("\ufeff", "").strip().lower()


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


class Replay(io.RawIOBase):
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


def read_up_to(stream: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes of ``stream``, fewer only at its end (one ``read`` may return less
    than asked, as a socket or a pipe does)."""
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def peek(stream: BinaryIO, size: int = HEAD_SIZE) -> tuple[bytes, BinaryIO]:
    """Read up to ``size`` bytes of ``stream`` and return them with a stream that replays them.

    Works on non-seekable streams; the original ``stream`` must not be read afterwards.
    """
    head = read_up_to(stream, size)
    return head, io.BufferedReader(Replay(head, stream))


def _is_replay(stream: BinaryIO) -> bool:
    return isinstance(stream, io.BufferedReader) and isinstance(stream.raw, Replay)


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


def _pair(line: int, row: list[str]) -> tuple[int, list[str]]:
    return line, row


def shape_row(line: int, row: list[str], header: Header) -> tuple[int, list[str]] | RowError:
    """Shape a non-blank record to the header's width plus the blank sentinel (see the module
    docstring), or reject it with a ``RowError`` giving both field counts."""
    width = header.width
    size = len(row)
    if size == width:
        return line, [*row, ""]
    if size < width:
        needed = width
        while needed and not header.raw[needed - 1]:
            needed -= 1
        if size < needed:
            return RowError(
                line, header.raw[size] or None, f"{size} fields, the header has {width}"
            )
        return line, row + [""] * (width + 1 - size)
    if not _blank(row[width:]):
        return RowError(line, None, f"{size} fields, the header has {width}")
    return line, [*row[:width], ""]


def _undecodable(line: int, exc: UnicodeDecodeError) -> RowError:
    return RowError(
        line,
        None,
        f"the file is not valid UTF-8 from about here ({exc.reason}); the rest was not read",
    )


class CsvRows:
    """A CSV file read as a header and a stream of rows.

    Construction reads up to the header (the first non-blank record) and raises
    :class:`~huntaze.imports.base.ImportFormatError` if the file has none, or its header
    is not UTF-8. Iterating yields ``(line, row)`` for each non-blank data row, where ``line``
    is the 1-based physical line the record starts on (the header being on line 1 in a file
    without leading blank lines) and ``row`` is a list of exactly ``header.width + 1``
    strings: the fields, blank fields for unnamed trailing header cells, then the sentinel
    ``""``. Rows made only of blank cells are skipped. A row of the wrong width (see the
    module docstring), a CSV syntax error (for instance a field over the :mod:`csv` size
    limit) and bytes that are not UTF-8 (which end the file) give ``(line, RowError)``.
    """

    def __init__(self, stream: BinaryIO, *, delimiter: str = ",") -> None:
        # The replay wrapper keeps the caller's stream open when the text wrapper is closed.
        source = io.BufferedReader(Replay(b"", stream)) if not _is_replay(stream) else stream
        self._text = io.TextIOWrapper(source, encoding="utf-8-sig", errors="strict", newline="")
        self._reader = csv.reader(self._text, delimiter=delimiter)
        self._offset = 0
        self.header_line = 0
        for line, row in self._rows():
            if isinstance(row, RowError):
                raise ImportFormatError(f"unreadable header: {row.reason}", line=line)
            self.header_line = line
            self.header = Header(row)
            return
        raise ImportFormatError("the file is empty: no header row", line=1)

    @classmethod
    def resume(
        cls,
        stream: BinaryIO | io.RawIOBase,
        header: Header,
        lines_before: int,
        *,
        delimiter: str = ",",
    ) -> CsvRows:
        """Read the data rows of ``stream``, which starts on a record boundary after
        ``lines_before`` physical lines of a file whose header is ``header``."""
        self = cls.__new__(cls)
        source = io.BufferedReader(stream) if isinstance(stream, io.RawIOBase) else stream
        self._text = io.TextIOWrapper(source, encoding="utf-8", errors="strict", newline="")
        self._reader = csv.reader(self._text, delimiter=delimiter)
        self._offset = lines_before
        self.header_line = 0
        self.header = header
        return self

    def rows(self) -> Iterator[tuple[int, list[str]] | RowError]:
        """Yield ``(line, row)`` per data row, shaped as :meth:`__iter__` does, or the
        ``RowError`` itself."""
        return self._loop(_pair)

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
            except UnicodeDecodeError as exc:
                yield last + 1, _undecodable(last + 1, exc)
                return

    def __iter__(self) -> Iterator[tuple[int, list[str] | RowError]]:
        """Yield ``(line, row)`` per data row, or ``(line, RowError)`` (see the class
        docstring)."""
        for item in self._loop(_pair):
            yield (item.line, item) if isinstance(item, RowError) else item

    def records(self, convert: Callable[[int, list[str]], Record]) -> Iterator[Record]:
        """Yield ``convert(line, row)`` per data row; a :class:`FieldError` it raises, a row of
        the wrong width, a CSV syntax error and undecodable bytes become a
        :class:`~huntaze.imports.records.RowError`."""
        return self._loop(convert)

    def _loop(self, convert: Callable[[int, list[str]], T]) -> Iterator[T | RowError]:
        # One flat loop (rather than stacking on _rows) as this is the hot path.
        reader = self._reader
        header = self.header
        width = header.width
        full = width + 1
        raw = header.raw
        needed = width
        while needed and not raw[needed - 1]:
            needed -= 1  # trailing unnamed header cells need no field
        offset = self._offset
        last = reader.line_num + offset
        while True:
            try:
                for row in reader:
                    line = last + 1
                    last = reader.line_num + offset
                    if not row:
                        continue
                    first = row[0]
                    if (not first or first.isspace()) and _blank(row):
                        continue
                    size = len(row)
                    if size == width:
                        row.append("")
                    elif size < width:
                        if size < needed:
                            yield RowError(
                                line, raw[size] or None, f"{size} fields, the header has {width}"
                            )
                            continue
                        row.extend([""] * (full - size))
                    else:
                        if not _blank(row[width:]):
                            yield RowError(line, None, f"{size} fields, the header has {width}")
                            continue
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
                if reader.line_num + offset == last:  # no progress: the rest is unreadable
                    return
                last = reader.line_num + offset
            except UnicodeDecodeError as exc:
                yield _undecodable(last + 1, exc)
                return
