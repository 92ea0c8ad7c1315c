"""Helpers shared by the JSON format tests: fixtures, parsing, summaries."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import huntaze
from huntaze.imports.records import PurchaseRecord, Record, RowError

FIXTURES = Path(__file__).parent / "fixtures" / "json"
SAMPLE_DIR = Path(huntaze.__file__).parent / "demo" / "samples"


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0, us: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, us, tzinfo=UTC)


def parse(parser: Any, data: bytes) -> list[Record]:
    return list(parser.parse(io.BytesIO(data)))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def summary(records: list[Record]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for r in records:
        if isinstance(r, RowError):
            out.append(("error", r.line, r.column, r.reason))
        elif isinstance(r, PurchaseRecord):
            out.append((r.line, r.transaction_id, r.kind, r.gross_cents, r.net_cents))
        else:
            out.append((r.line, r.platform_fan_id, r.username, r.subscribed_at))
    return out
