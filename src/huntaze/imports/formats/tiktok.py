"""TikTok followers from "Download your data", JSON or TXT (formats.md, "TikTok").

JSON: the ``FansList`` array anywhere in ``user_data.json`` (``Activity → Follower List``) or
``user_data_tiktok.json`` (``Profile And Settings → Follower``), elements
``{"Date": "2021-11-11 01:22:22", "UserName": "someuser"}``. TXT (``Follower.txt``): records
of ``Date: 2025-08-02 01:00:44 UTC`` and ``Username: someuser`` lines separated by a blank
line. Dates are UTC. Each element or record becomes one record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from huntaze.imports.base import ImportFormatError
from huntaze.imports.formats.instagram import normalise_username
from huntaze.imports.reading.jsonrecords import json_text, stream_records
from huntaze.imports.reading.jsonstream import CHUNK_SIZE, iter_key_arrays
from huntaze.imports.records import FanRecord, Record, RowError
from huntaze.kit.dates import parse_datetime

PLATFORM = "tiktok"
FANS_KEY = "FansList"
MAX_LINE_BYTES = 64 * 1024
"""TXT lines longer than this are cut (no real line comes close)."""

_PROVIDES = frozenset({"username", "subscription_status", "subscribed_at"})
#: Record field -> the key (JSON) or field (TXT) it comes from, for the report.
JSON_COLUMNS: Mapping[str, str] = {
    "platform_fan_id": "UserName",
    "username": "UserName",
    "subscribed_at": "Date",
}
TXT_COLUMNS: Mapping[str, str] = {
    "platform_fan_id": "Username",
    "username": "Username",
    "subscribed_at": "Date",
}


def follower(username: str | None, date: str | None, line: int, *, username_column: str) -> Record:
    """Build the record for one follower from its raw ``username`` and ``date`` texts.

    Returns a ``FanRecord`` (key: the username lower-cased without ``@``; ``subscribed_at``:
    the follow date, UTC; status ``"follower"``), or a ``RowError`` at ``line`` when the
    username is missing (column ``username_column``) or the date is not a date (``Date``).
    """
    name = json_text(username)
    key = normalise_username(name) if name else ""
    if not name or not key:
        return RowError(line, username_column, "missing username")
    followed_at = None
    text = json_text(date)
    if text is not None:
        try:
            followed_at = parse_datetime(text)
        except (ValueError, OverflowError) as exc:
            return RowError(line, "Date", str(exc))
    return FanRecord(
        platform=PLATFORM,
        platform_fan_id=key,
        line=line,
        username=name,
        subscription_status="follower",
        subscribed_at=followed_at,
    )


def _json_item(item: Any, line: int) -> Record:
    if not isinstance(item, dict):
        return RowError(line, None, f"expected a JSON object, got {type(item).__name__}")
    username = item.get("UserName", item.get("Username"))
    date = item.get("Date")
    name = username if isinstance(username, str) else None
    record = follower(
        name, date if isinstance(date, str) else None, line, username_column="UserName"
    )
    if isinstance(record, FanRecord) and date is not None and not isinstance(date, str):
        return RowError(line, "Date", f"not a date: {date!r}")
    return record


@dataclass
class TikTokJsonParser:
    """Parser for ``tiktok_followers_json``: one record per ``FansList`` element.

    Every array under a ``FansList`` key, at any depth, is streamed. Invalid JSON after the
    first element ends the stream with ``RowError(line, None, "invalid JSON: ...")``.

    Raises:
        ImportFormatError: from ``parse``, before any record, for a document with no
            ``FansList`` array, or one that fails before its first element.
    """

    format: str = "tiktok_followers_json"
    platform: str = PLATFORM
    provides: frozenset[str] = field(default_factory=lambda: _PROVIDES)
    columns: Mapping[str, str] = field(default_factory=lambda: JSON_COLUMNS)
    chunk_size: int = CHUNK_SIZE

    def parse(self, stream: BinaryIO) -> Iterator[Record]:
        """Yield a record per follower, in file order (see the class docstring)."""
        items = iter_key_arrays(stream, FANS_KEY, chunk_size=self.chunk_size)
        return stream_records(items, _json_item)


def iter_lines(stream: BinaryIO) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each line of ``stream``, 1-based, without its ending.

    Decodes each line as UTF-8 (a leading BOM dropped) and accepts LF or CRLF. Lines longer
    than ``MAX_LINE_BYTES`` are cut, so memory stays flat.

    Raises:
        UnicodeDecodeError: for a line that is not UTF-8 (the import service checks the whole
            file first, so this only happens to callers that skip it).
    """
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES)
        if not raw:
            return
        if not raw.endswith(b"\n"):  # an over-long line: drop the rest of it
            while True:
                rest = stream.readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
        number += 1
        text = raw.decode("utf-8").rstrip("\r\n")
        if number == 1:
            text = text.removeprefix("\ufeff")
        yield number, text


@dataclass
class TikTokTxtParser:
    """Parser for ``tiktok_followers_txt`` (``Follower.txt``): one record per record block.

    A block is a run of non-blank lines; ``Date:`` and ``Username:`` (any case) give its
    fields, other lines are ignored. A field seen twice in one block starts a new block (a
    missing blank line). A block without a username, or with a bad date, gives
    ``RowError`` at the block's first line; a line that is not UTF-8 ends the file with a
    ``RowError`` at that line.

    Raises:
        ImportFormatError: from ``parse``, at the end, when no block has a ``Date:`` or
            ``Username:`` line (the file is not a Follower.txt); every record yielded before
            was then a ``RowError``, so nothing was written.
    """

    format: str = "tiktok_followers_txt"
    platform: str = PLATFORM
    provides: frozenset[str] = field(default_factory=lambda: _PROVIDES)
    columns: Mapping[str, str] = field(default_factory=lambda: TXT_COLUMNS)

    def parse(self, stream: BinaryIO) -> Iterator[Record]:
        """Yield a record per block, in file order (see the class docstring)."""
        blocks = named = 0
        for has_field, record in _blocks(stream):
            blocks += 1
            named += has_field
            yield record
        if blocks and not named:
            raise ImportFormatError(
                "not a TikTok Follower.txt: no 'Date:' or 'Username:' line", line=1
            )


def _blocks(stream: BinaryIO) -> Iterator[tuple[bool, Record]]:
    """Yield ``(named, record)`` per block, ``named`` telling whether it had a ``Date:`` or
    ``Username:`` line (see :class:`TikTokTxtParser`)."""
    start = 0
    fields: dict[str, str] = {}
    lines = iter_lines(stream)
    number = 0
    while True:
        try:
            number, text = next(lines)
        except StopIteration:
            break
        except UnicodeDecodeError as exc:
            reason = f"not valid UTF-8 ({exc.reason}); the rest of the file was not read"
            yield True, RowError(number + 1, None, reason)
            return
        if not text.strip():
            if start:
                yield _block(fields, start)
            start, fields = 0, {}
            continue
        name, sep, value = text.partition(":")
        name = name.strip().lower()
        field_name = name if sep and name in ("date", "username") else None
        if start and field_name in fields:
            yield _block(fields, start)
            start, fields = 0, {}
        if not start:
            start = number
        if field_name is not None:
            fields[field_name] = value.strip()
    if start:
        yield _block(fields, start)


def _block(fields: dict[str, str], start: int) -> tuple[bool, Record]:
    username = fields.get("username")
    record = follower(username, fields.get("date"), start, username_column="Username")
    return bool(fields), record


def make_json_parser(
    platform: str | None = None, mapping: Any = None, **_: Any
) -> TikTokJsonParser:
    """Factory for the ``tiktok_followers_json`` format (registry.py); arguments are ignored."""
    return TikTokJsonParser()


def make_txt_parser(platform: str | None = None, mapping: Any = None, **_: Any) -> TikTokTxtParser:
    """Factory for the ``tiktok_followers_txt`` format (registry.py); arguments are ignored."""
    return TikTokTxtParser()
