"""TikTok followers from "Download your data", JSON or TXT (formats.md, "TikTok").

JSON: the ``FansList`` array anywhere in ``user_data.json`` (``Activity → Follower List``) or
``user_data_tiktok.json`` (``Profile And Settings → Follower``), elements
``{"Date": "2021-11-11 01:22:22", "UserName": "someuser"}``. TXT (``Follower.txt``): records
of ``Date: 2025-08-02 01:00:44 UTC`` and ``Username: someuser`` lines separated by a blank
line. Dates are UTC. Each element or record becomes one record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from huntaze.crm.importers.instagram import normalise_username
from huntaze.crm.importers.jsonstream import (
    CHUNK_SIZE,
    JSONStreamError,
    as_row_error,
    iter_key_arrays,
    json_text,
)
from huntaze.crm.importers.records import FanRecord, Record, RowError
from huntaze.kit.dates import parse_datetime

PLATFORM = "tiktok"
FANS_KEY = "FansList"
MAX_LINE_BYTES = 64 * 1024
"""TXT lines longer than this are cut (no real line comes close)."""

_PROVIDES = frozenset({"username", "subscription_status", "subscribed_at"})


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

    Every array under a ``FansList`` key, at any depth, is streamed. Never raises: invalid
    JSON ends the stream with ``RowError(line, None, "invalid JSON: ...")``; a document with no
    ``FansList`` array gives one ``RowError``.
    """

    format: str = "tiktok_followers_json"
    platform: str = PLATFORM
    provides: frozenset[str] = field(default_factory=lambda: _PROVIDES)
    chunk_size: int = CHUNK_SIZE

    def parse(self, stream: BinaryIO) -> Iterator[Record]:
        """Yield a record per follower, in file order (see the class docstring)."""
        try:
            for line, item in iter_key_arrays(stream, FANS_KEY, chunk_size=self.chunk_size):
                yield _json_item(item, line)
        except JSONStreamError as exc:
            yield as_row_error(exc)


def iter_lines(stream: BinaryIO) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each line of ``stream``, 1-based, without its ending.

    Decodes each line as UTF-8 (invalid bytes → U+FFFD, a leading BOM dropped) and accepts
    LF or CRLF. Lines longer than ``MAX_LINE_BYTES`` are cut, so memory stays flat.
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
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if number == 1:
            text = text.removeprefix("\ufeff")
        yield number, text


@dataclass
class TikTokTxtParser:
    """Parser for ``tiktok_followers_txt`` (``Follower.txt``): one record per record block.

    A block is a run of non-blank lines; ``Date:`` and ``Username:`` (any case) give its
    fields, other lines are ignored. A field seen twice in one block starts a new block (a
    missing blank line). A block without a username, or with a bad date, gives
    ``RowError`` at the block's first line. Never raises.
    """

    format: str = "tiktok_followers_txt"
    platform: str = PLATFORM
    provides: frozenset[str] = field(default_factory=lambda: _PROVIDES)

    def parse(self, stream: BinaryIO) -> Iterator[Record]:
        """Yield a record per block, in file order (see the class docstring)."""
        start = 0
        fields: dict[str, str] = {}
        for number, text in iter_lines(stream):
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


def _block(fields: dict[str, str], start: int) -> Record:
    return follower(fields.get("username"), fields.get("date"), start, username_column="Username")


def make_json_parser(
    platform: str | None = None, mapping: Any = None, **_: Any
) -> TikTokJsonParser:
    """Factory for the ``tiktok_followers_json`` format (registry.py); arguments are ignored."""
    return TikTokJsonParser()


def make_txt_parser(platform: str | None = None, mapping: Any = None, **_: Any) -> TikTokTxtParser:
    """Factory for the ``tiktok_followers_txt`` format (registry.py); arguments are ignored."""
    return TikTokTxtParser()
