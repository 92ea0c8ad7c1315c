"""Property test: for any Patreon file built from awkward cells, the block path accepts the
same rows with the same values, and rejects the same rows at the same lines with the same
columns and reasons, as the row path followed by the shared value checks.

Compared at the parser, with no database: each accepted row as the values the writer stores
(timestamps as stored UTC text, custom fields as JSON text), each rejected row as its line,
column and reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huntaze.db.base import db_timestamp
from huntaze.imports.formats.patreon import PatreonMembersParser
from huntaze.imports.reading import arrowcsv
from huntaze.imports.records import FAN_COLUMNS, FanBlock, FanRecord, RowError
from huntaze.imports.validate import RecordChecker
from tests.imports.test_block_path import HEADER

#: The stored fan columns a Patreon file gives, in ``FAN_COLUMNS`` order (custom fields last).
FIELDS = tuple(c for c in FAN_COLUMNS if c in PatreonMembersParser.provides)

CELLS = {
    "Name": ["Ana", " Zoë ", "", "N" * 256, "a\x00b", "Line\nBreak", 'Q"uote', "\u3000"],
    "Email": ["a@x.test", "B@X.TEST ", "", "josé@x.test", "bad", "a@@b", "x@y\r\nz", "a b@c"],
    "Patron Status": ["Active patron", "declined PATRON", "", "Former patron", "odd", "ÀCTIVE"],
    "Follows You": ["Yes", "no", "", " TRUE ", "maybe", "1"],
    "Lifetime Amount": ["12.50", "3", "", "$1,234.50", "-4.00", "1.005", "abc", "9" * 14],
    "Pledge Amount": ["5.00", "", "0.5", "€3"],
    "Tier": ["Gold", "", "Gold\\VIP", "tab\there", "Ünïcode"],
    "Country": ["FR", "", " DE "],
    "Patronage Since Date": [
        "2023-01-15 10:22:01",
        "2023-01-15T10:22:01.5",
        "",
        "2023-02-30 00:00:00",
        "2023-01-15 10:22:01+02:00",
        "0001-01-01 00:00:00",
        "Jan 5 2023",
    ],
    "Last Charge Date": ["2024-02-01 08:00:00.123456", "", "2024-02-01"],
    "Access Expiration": ["", "2031-01-01 00:00:00", "9999-12-31 23:59:59"],
    "User ID": ["1", "2", "3", "", " 4 ", "k" * 300],
    "Currency": ["EUR", "usd", "", "euro", "ÉUR"],
}
NAMES = next(csv.reader([HEADER]))


def _row(choice: dict[str, str]) -> list[str]:
    return [choice.get(name, "") for name in NAMES]


rows = st.lists(
    st.fixed_dictionaries({name: st.sampled_from(values) for name, values in CELLS.items()}),
    min_size=1,
    max_size=25,
)


def _render(records: list[dict[str, str]], shapes: list[int]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(NAMES)
    for record, shape in zip(records, shapes, strict=False):
        cells = _row(record)
        if shape == 1:
            cells = cells[:5]  # a short row
        elif shape == 2:
            writer.writerow([])  # a blank line first
        writer.writerow(cells)
    return out.getvalue().encode()


def _stored(record: FanRecord) -> tuple[Any, ...]:
    """A record's values as the writer stores them, in :data:`FIELDS` order after the key."""
    custom = (
        record.custom_json
        or orjson.dumps(record.custom_fields, option=orjson.OPT_SORT_KEYS).decode()
    )
    return (
        record.platform_fan_id,
        *(
            db_timestamp(value, False) if isinstance(value, datetime) else value
            for value in (getattr(record, name) for name in FIELDS[:-1])
        ),
        custom,
    )


Decisions = tuple[dict[int, tuple[Any, ...]], list[tuple[int, Any, str]]]


def _decide(items: Iterable[Any]) -> Decisions:
    """Accepted rows by line, and rejected rows, after the writer's shared value checks."""
    check = RecordChecker(PatreonMembersParser.columns)
    accepted: dict[int, tuple[Any, ...]] = {}
    rejected: list[tuple[int, Any, str]] = []
    for item in items:
        if isinstance(item, FanBlock):
            columns = [item.columns[name].to_pylist() for name in FIELDS]
            for i, line in enumerate(item.lines.tolist()):
                accepted[line] = (item.keys[i], *(column[i] for column in columns))
            continue
        error = item if isinstance(item, RowError) else check(item)
        if error is not None:
            rejected.append((error.line, error.column, error.reason))
            continue
        accepted[item.line] = _stored(item)
    return accepted, rejected


@pytest.fixture(autouse=True)
def tiny_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arrowcsv, "BLOCK_BYTES", 900)


@settings(deadline=None, max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(records=rows, shapes=st.lists(st.sampled_from([0, 0, 0, 1, 2]), max_size=25))
def test_the_block_path_decides_every_row_as_the_row_path_does(
    records: list[dict[str, str]], shapes: list[int]
) -> None:
    data = _render(records, shapes)
    by_rows = _decide(PatreonMembersParser().parse(io.BytesIO(data)))
    by_blocks = _decide(PatreonMembersParser().parse_blocks(io.BytesIO(data)))
    assert by_blocks[0] == by_rows[0]
    assert sorted(by_blocks[1], key=str) == sorted(by_rows[1], key=str)
