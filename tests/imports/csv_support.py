"""Helpers shared by the CSV format tests: fixture paths and record filters."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from huntaze.imports.base import Parser
from huntaze.imports.records import FanRecord, Record, RowError

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parents[2] / "src" / "huntaze" / "demo" / "samples"
DEMO_MAPPING = {
    "key": "id",
    "username": "handle",
    "email": "email",
    "displayName": "name",
    "lifetimeValue": "spent",
    "currency": "currency",
    "tags": "tags",
}


def run(parser: Parser, data: bytes) -> list[Record]:
    return list(parser.parse(io.BytesIO(data)))


def run_file(parser: Parser, path: Path) -> list[Record]:
    with path.open("rb") as stream:
        return list(parser.parse(stream))


def utc(year: int, month: int, day: int, *rest: int) -> datetime:
    hour, minute, second, micro = (*rest, 0, 0, 0, 0)[:4]
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def errors(records: list[Record]) -> list[tuple[int, str | None]]:
    return [(r.line, r.column) for r in records if isinstance(r, RowError)]


def fans(records: list[Record]) -> list[FanRecord]:
    return [r for r in records if isinstance(r, FanRecord)]


# --- the parser contract --------------------------------------------------------------------
