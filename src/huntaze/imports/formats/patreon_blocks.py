"""Patreon Members CSV read a block at a time: the same mapping as :mod:`.patreon`, on whole
columns.

pyarrow parses blocks of records (:mod:`.arrowcsv`) and each column is converted at once
(:mod:`.columns`). A row is converted here only when every one of its cells has a common,
unambiguous spelling and every value passes the shared rules; any other row (a ``$1,234``
amount, a date with a zone, an email that is not plain ASCII, a blank key, a cell JSON must
escape) goes through the row converter (:func:`.patreon.converter`), which accepts it or
rejects it with its line, column and reason exactly as the row path does. If two rows of a
block share a key, the whole block goes through the row converter, so the later row wins as
it does there.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from huntaze.imports.formats.patreon import (
    BOOL_EXTRAS,
    STATUS,
    TEXT_EXTRAS,
    PatreonMembersParser,
    check_header,
    converter,
)
from huntaze.imports.reading import columns as cols
from huntaze.imports.reading.arrowcsv import HEADER_BYTES, CsvBlock, read_blocks, split_header
from huntaze.imports.reading.cells import BOOLS, FieldError
from huntaze.imports.reading.csvread import Header, Replay, peek
from huntaze.imports.records import FanBlock, FanRecord, Record, RowError
from huntaze.imports.validate import MAX_KEY, MAX_NAME
from huntaze.kit.validation import MAX_EMAIL, MAX_JSON_NODES

_BOM = b"\xef\xbb\xbf"
_TRUE = sorted({k.lower() for k, v in BOOLS.items() if v})
_FALSE = sorted({k.lower() for k, v in BOOLS.items() if not v})
#: The hashed columns of the fingerprint, in the writer's order (sorted names).
_HASHED = (
    "currency",
    "display_name",
    "email",
    "expires_at",
    "last_active_at",
    "lifetime_value_cents",
    "subscribed_at",
    "subscription_status",
)


def fan_blocks(stream: BinaryIO) -> Iterator[FanBlock | Record]:
    """Yield ``FanBlock`` objects and single records for a Patreon Members CSV.

    Raises:
        ImportFormatError: when the header is not a Patreon members header.
    """
    head, replay = peek(stream, HEADER_BYTES)
    body = head[len(_BOM) :] if head.startswith(_BOM) else head
    found = split_header(body)
    if found is None:
        yield from PatreonMembersParser().parse(replay)
        return
    header, header_line, end = found
    check_header(header, header_line)
    first_line = 1 + body.count(b"\n", 0, end)
    rest = io.BufferedReader(Replay(body[end:], stream))
    convert = converter(header)
    for item in read_blocks(rest, header, first_line):
        if isinstance(item, CsvBlock):
            yield from _block(item, header, convert)
        else:
            record = _one(item, convert)
            if record is not None:
                yield record


def _one(item: tuple[int, list[str]] | RowError, convert: Any) -> Record | None:
    if isinstance(item, RowError):
        return item
    line, row = item
    try:
        result: Record = convert(line, row)
    except FieldError as exc:
        return RowError(line, exc.column, exc.reason)
    return result


def _block(block: CsvBlock, header: Header, convert: Any) -> Iterator[FanBlock | Record]:
    table = block.table
    size = table.num_rows
    width = header.width
    columns = [table.column(i).combine_chunks() for i in range(width)]
    empty = pa.array([""] * size, pa.string())

    def cell(*names: str) -> Any:
        index = header.index(*names)
        return columns[index] if index < width else empty

    lines = block.lines
    if size and width:
        blank_rows = cols.blank(columns[0])
        if pc.any(blank_rows).as_py():
            for column in columns[1:]:
                blank_rows = pc.and_(blank_rows, cols.blank(column))
            keep = pc.invert(blank_rows)
            columns = [pc.filter(c, keep) for c in columns]
            lines = lines[keep.to_numpy(zero_copy_only=False)]
            size = len(lines)
            empty = pa.array([""] * size, pa.string())
    slow_parts: list[Any] = []

    def take(pair: tuple[Any, Any]) -> Any:
        slow_parts.append(pair[1])
        return pair[0]

    email = take(cols.email(cell("Email"), MAX_EMAIL))
    own_key = take(cols.text(cell("User ID"), MAX_KEY))
    key = pc.coalesce(own_key, pc.binary_join_element_wise("email:", email, ""))
    slow_parts.append(pc.is_null(key))
    slow_parts.append(pc.fill_null(pc.greater(pc.utf8_length(key), MAX_KEY), False))
    values: dict[str, Any] = {
        "platform_fan_id": key,
        "display_name": take(cols.text(cell("Name"), MAX_NAME)),
        "email": email,
        "subscription_status": take(cols.lookup(cell("Patron Status"), STATUS, "none")),
        "subscribed_at": take(cols.timestamp_text(cell("Patronage Since Date"))),
        "expires_at": take(cols.timestamp_text(cell("Access Expiration"))),
        "last_active_at": take(cols.timestamp_text(cell("Last Charge Date"))),
        "lifetime_value_cents": take(cols.cents(cell("Lifetime Amount", "Lifetime $"))),
        "currency": take(cols.currency(cell("Currency"))),
    }
    members: list[tuple[str, Any]] = []
    for name, names in TEXT_EXTRAS:
        if header.has(names[0]):
            text, _ = cols.text(cell(*names), MAX_JSON_NODES)
            members.append((name, text))
    members.append(("pledgeAmountCents", take(cols.cents(cell("Pledge Amount", "Pledge $")))))
    for name, names in BOOL_EXTRAS:
        if header.has(names[0]):
            members.append((name, take(cols.flags(cell(*names), _TRUE, _FALSE))))
    values["custom_fields"] = take(cols.json_object(members, MAX_JSON_NODES))
    slow = slow_parts[0]
    for part in slow_parts[1:]:
        slow = pc.or_(slow, part)
    slow_np = slow.to_numpy(zero_copy_only=False)
    slow_rows = slow_np.nonzero()[0]
    singles = [r for r in (_one(item, convert) for item in block.rows) if r is not None]
    if slow_rows.size:
        for index in slow_rows.tolist():
            row = [c[index].as_py() for c in columns]
            record = _one((int(lines[index]), [*row, ""]), convert)
            if record is not None:
                singles.append(record)
    fast = pc.invert(slow)
    keys: list[str] = pc.filter(key, fast).to_pylist()
    single_keys = {r.platform_fan_id for r in singles if isinstance(r, FanRecord)}
    if len(set(keys)) != len(keys) or not single_keys.isdisjoint(keys):
        yield from _all_rows(columns, lines, block.rows, convert)
        return
    if keys:
        chosen = {name: pc.filter(value, fast) for name, value in values.items()}
        tokens = [pc.fill_null(pc.cast(chosen[name], pa.string()), "\x00") for name in _HASHED]
        fingerprint = pc.binary_join_element_wise(*tokens, chosen["custom_fields"], "\x1f")
        yield FanBlock(keys, lines[~slow_np], chosen, fingerprint)
    singles.sort(key=lambda record: record.line)
    yield from singles


def _all_rows(columns: list[Any], lines: Any, odd: list[Any], convert: Any) -> Iterator[Record]:
    """Every row of a block through the row converter, in line order (a key repeats)."""
    records = [r for r in (_one(item, convert) for item in odd) if r is not None]
    cells = [c.to_pylist() for c in columns]
    for index, row in enumerate(zip(*cells, strict=True)):
        record = _one((int(lines[index]), [*row, ""]), convert)
        if record is not None:
            records.append(record)
    records.sort(key=lambda record: record.line)
    yield from records
