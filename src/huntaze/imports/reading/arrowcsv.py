"""A CSV file's data rows read in blocks by pyarrow's CSV reader, with physical line numbers.

pyarrow tokenises a block of records in C++ and gives each column as an Arrow array, so a
format can convert whole columns at once (:mod:`.columns`) and leave Python only the rows
that fail. What pyarrow does not give is where each record starts: its row numbers count
records, not lines, and a quoted field may hold line breaks. This module finds the record
boundaries itself, with numpy, before pyarrow parses the block:

* a line feed ends a record when an even number of double quotes precede it in the block
  (RFC 4180 §2.5 to 2.7: quotes only open or close a quoted field, and a quote inside one is
  doubled), and every block starts on a record boundary;
* a record starts on line ``1 + the number of line feeds before it``;
* an empty line (nothing, or only ``\\r``) is no record, as pyarrow skips it.

The count is only right for files that follow RFC 4180. A block where it may not be (a quote
in the middle of an unquoted field, a lone ``\\r`` line ending, an unterminated quote, bytes
that are not UTF-8) or where pyarrow's record count disagrees with it is not trusted: from
that block on, the rest of the file is read by the stdlib :mod:`csv` module
(:class:`~huntaze.imports.reading.csvread.CsvRows`), exactly as before, so nothing changes
for the user but the speed.

Records whose field count differs from the header's are reshaped by the same rules as
:class:`~huntaze.imports.reading.csvread.CsvRows` (RFC 4180 §2.4) and handed over as rows.

pyarrow's CSV reader: https://arrow.apache.org/docs/python/csv.html
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from huntaze.imports.reading.csvread import CsvRows, Header, Replay, shape_row
from huntaze.imports.records import RowError

#: Bytes read per block (about 16,000 rows of a Patreon export).
BLOCK_BYTES = 1024 * 1024
#: How far :func:`split_header` looks for the end of the header record.
HEADER_BYTES = 1024 * 1024

_LF, _CR, _QUOTE = 10, 13, 34

#: A data row handed over by itself: ``(line, cells)`` shaped to the header's width plus the
#: blank sentinel, or a ``RowError``.
RowItem = tuple[int, list[str]] | RowError


@dataclass(slots=True)
class CsvBlock:
    """Consecutive records of a CSV file, parsed by pyarrow.

    Attributes:
        table: one string column per header cell (named ``"0"``, ``"1"``…), one row per
            record of the header's width, in file order; rows of only blank cells included.
        lines: the 1-based physical line each table row starts on (numpy int64 array).
        rows: the block's records of another width, shaped or rejected as
            :class:`~huntaze.imports.reading.csvread.CsvRows` does (none are blank).
    """

    table: pa.Table
    lines: Any
    rows: list[RowItem] = field(default_factory=list)


def split_header(head: bytes, delimiter: str = ",") -> tuple[Header, int, int] | None:
    """Find the header record in the first bytes of a file.

    Returns ``(header, line, end)``: the header, the physical line it starts on and the byte
    offset just after it; ``None`` when the head does not hold a whole header record that
    this module can count lines around (the caller then reads the file with
    :class:`~huntaze.imports.reading.csvread.CsvRows`). Leading blank lines are skipped, as
    ``CsvRows`` does. A leading UTF-8 BOM must already be removed.
    """
    scan = _scan(head, ord(delimiter), eof=False)
    if scan is None:
        return None
    starts, ends, line_of, _ = scan
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        try:
            text = head[start:end].decode("utf-8")
        except UnicodeDecodeError:
            return None
        cells = next(csv.reader([text.rstrip("\r")], delimiter=delimiter), [])
        if cells and not all(not c or c.isspace() for c in cells):
            return Header(cells), int(line_of(start)), end + 1
    return None


def _scan(data: bytes, delimiter: int, eof: bool) -> tuple[Any, Any, Any, int] | None:
    """Find the records of ``data`` (which starts on a record boundary).

    Returns ``(starts, ends, line_of, cut)``: numpy arrays of each non-empty record's first
    byte and its end (the offset of its line feed, or of the end of data, with a ``\\r``
    before it excluded), a function giving the 0-based count of line feeds before an offset,
    and ``cut``, the offset after the last whole record (``len(data)`` at end of file).
    ``None`` when the block cannot be trusted (see the module docstring) or, before the end
    of file, holds no whole record.
    """
    a = np.frombuffer(data, dtype=np.uint8)
    lf = np.flatnonzero(a == _LF)
    if np.count_nonzero(a == _CR) != np.count_nonzero(a[lf[lf > 0] - 1] == _CR):
        return None  # a lone \r ends lines too for the csv module: not counted here
    quotes = np.flatnonzero(a == _QUOTE)
    if quotes.size:
        size = a.size
        before = np.where(quotes > 0, a[np.maximum(quotes - 1, 0)], _LF)
        after = np.where(quotes < size - 1, a[np.minimum(quotes + 1, size - 1)], _LF)
        edge = (delimiter, _LF, _CR, _QUOTE)
        if not np.all(np.isin(before, edge) | np.isin(after, edge)):
            return None  # a quote inside an unquoted field: parity says nothing
        ends = lf[(np.searchsorted(quotes, lf) & 1) == 0]
        if eof and quotes.size & 1:
            return None  # an unterminated quoted field: the csv module reports it
    else:
        ends = lf
    if eof:
        cut = len(data)
        if cut and (not ends.size or ends[-1] != cut - 1):
            ends = np.append(ends, cut)
    elif ends.size:
        cut = int(ends[-1]) + 1
    else:
        return None
    starts = np.empty_like(ends)
    if ends.size:
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
    bare = ends.copy()
    has_cr = np.zeros(ends.size, dtype=bool)
    nonzero = ends > starts
    has_cr[nonzero] = a[ends[nonzero] - 1] == _CR
    bare[has_cr] -= 1
    keep = bare > starts
    starts, ends = starts[keep], ends[keep]

    def line_of(offset: Any) -> Any:
        return np.searchsorted(lf, offset) + 1

    return starts, ends, line_of, cut


def read_blocks(
    stream: BinaryIO, header: Header, first_line: int, delimiter: str = ","
) -> Iterator[CsvBlock | RowItem]:
    """Yield the data rows of ``stream`` as :class:`CsvBlock` objects; from a block that
    cannot be trusted (see the module docstring) on, yield the rest as single rows read by
    the :mod:`csv` module.

    ``stream`` starts just after the header record, on physical line ``first_line``. Rows of
    only blank cells are left in the blocks (the caller drops them with the rest of its
    checks) and dropped from the single rows. Memory stays bounded: a block is about
    :data:`BLOCK_BYTES`, and a record longer than four blocks sends the rest of the file to
    the :mod:`csv` module.
    """
    width = header.width
    names = [str(i) for i in range(width)]
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    delim = ord(delimiter)
    line = first_line
    pending = b""
    eof = False
    while True:
        if not eof:
            chunk = stream.read(BLOCK_BYTES)
            eof = not chunk
            data = pending + chunk if pending else chunk
        else:
            data = pending
        if not data:
            return
        scan = _scan(data, delim, eof)
        if scan is None:
            if not eof and len(data) < 4 * BLOCK_BYTES:
                pending = data  # no whole record yet: read more
                continue
            yield from _rows_from(data, stream, header, line, delimiter)
            return
        starts, _ends, line_of, cut = scan
        odd: list[tuple[int, str]] = []

        def handler(row: Any, odd: list[tuple[int, str]] = odd) -> str:
            odd.append((row.number, row.text))
            return "skip"

        # one pyarrow block for the whole piece: its buffers are sized to it
        read_options = pacsv.ReadOptions(
            column_names=names, use_threads=False, block_size=max(cut + 1, 1 << 16)
        )
        try:
            table = pacsv.read_csv(
                pa.py_buffer(memoryview(data)[:cut]),
                read_options=read_options,
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, invalid_row_handler=handler
                ),
                convert_options=convert,
            )
        except (pa.ArrowInvalid, UnicodeDecodeError):
            yield from _rows_from(data, stream, header, line, delimiter)
            return
        if table.num_rows + len(odd) != starts.size:
            yield from _rows_from(data, stream, header, line, delimiter)
            return
        lines = line_of(starts) + (line - 1)
        block = CsvBlock(table, lines)
        if odd:
            bad = np.array([number - 1 for number, _ in odd], dtype=np.int64)
            block.lines = np.delete(lines, bad)
            for number, text in odd:
                item = _odd_row(int(lines[number - 1]), text, header, delimiter)
                if item is not None:
                    block.rows.append(item)
        yield block
        line += int(np.count_nonzero(np.frombuffer(data, np.uint8, count=cut) == _LF))
        pending = data[cut:]
        if eof and not pending:
            return


def _odd_row(line: int, text: str, header: Header, delimiter: str) -> RowItem | None:
    """Shape one record pyarrow found of another width (``None`` for a blank one)."""
    cells = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    if not cells or all(not c or c.isspace() for c in cells):
        return None
    return shape_row(line, cells, header)


def _rows_from(
    data: bytes, stream: BinaryIO, header: Header, line: int, delimiter: str
) -> Iterator[RowItem]:
    """The rest of the file (``data`` then ``stream``) as single rows, via the csv module."""
    rest = CsvRows.resume(Replay(data, stream), header, line - 1, delimiter=delimiter)
    yield from rest.rows()
