"""Instagram followers from "Download your information" (formats.md, "Instagram").

``connections/followers_and_following/followers_1.json`` (and ``followers_2.json``…) is a
top-level array of ``{"title", "media_list_data", "string_list_data": [{"href", "value",
"timestamp"}]}``. The wrapped form ``{"relationships_followers": [...]}`` (the shape Meta uses
for the other relationship files) is accepted too. Each element becomes one record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from huntaze.imports.reading.jsonrecords import FieldError, json_text, stream_records
from huntaze.imports.reading.jsonstream import CHUNK_SIZE, iter_array_items
from huntaze.imports.records import FanRecord, Record
from huntaze.kit.dates import from_unix

PLATFORM = "instagram"
WRAPPER_KEYS = ("relationships_followers",)
#: Record field -> the key it comes from, for the report.
COLUMNS: Mapping[str, str] = {
    "platform_fan_id": "value",
    "username": "value",
    "subscribed_at": "timestamp",
}


def repair_mojibake(text: str) -> str:
    """Undo Meta's escaping of UTF-8 bytes as ``\\u00XX`` (``"Jos\\u00c3\\u00a9"`` → ``"José"``).

    Returns ``text.encode("latin-1").decode("utf-8")`` where that succeeds, else ``text``
    unchanged (a string with characters above U+00FF, or one that is not mojibake).
    """
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def _text(value: Any) -> str | None:
    text = json_text(value)
    return None if text is None else json_text(repair_mojibake(text))


def username_from_href(href: str) -> str | None:
    """The username in a profile URL: its last path segment, ``_u/`` and the query dropped.

    ``https://www.instagram.com/_u/some.one?igsh=x`` → ``some.one``; ``None`` if no segment.
    """
    try:
        path = urlsplit(href).path
    except ValueError:
        return None
    segments = [unquote(s) for s in path.split("/") if s and s != "_u"]
    return json_text(segments[-1]) if segments else None


def normalise_username(username: str) -> str:
    """The key of a platform username: trimmed, lower case, without a leading ``@``."""
    return username.strip().lstrip("@").strip().lower()


def follower_from_item(item: Any, line: int) -> FanRecord:
    """Map one follower element to a ``FanRecord``.

    Username: the first ``string_list_data`` entry's ``value``, else ``title``, else the
    ``href``'s last segment, mojibake repaired and case kept; ``platform_fan_id`` is its
    normalised form. ``timestamp`` (Unix seconds) → ``subscribed_at`` (UTC, the follow date);
    status ``"follower"``.

    Raises:
        FieldError: not an object, no username, or an invalid timestamp (becomes a RowError).
    """
    if not isinstance(item, dict):
        raise FieldError(None, f"expected a JSON object, got {type(item).__name__}")
    entries = item.get("string_list_data")
    entry: dict[str, Any] = {}
    if isinstance(entries, list):
        entry = next((e for e in entries if isinstance(e, dict)), {})
    href = _text(entry.get("href"))
    username = (
        _text(entry.get("value"))
        or _text(item.get("title"))
        or (username_from_href(href) if href else None)
    )
    key = normalise_username(username) if username else ""
    if not username or not key:
        raise FieldError("value", "no username (value, title or href)")
    stamp = entry.get("timestamp")
    followed_at = None
    if stamp is not None:
        if isinstance(stamp, bool) or not isinstance(stamp, int | float):
            raise FieldError("timestamp", f"not a Unix timestamp: {stamp!r}")
        try:
            followed_at = from_unix(stamp)
        except ValueError as exc:
            raise FieldError("timestamp", str(exc)) from None
    return FanRecord(
        platform=PLATFORM,
        platform_fan_id=key,
        line=line,
        username=username,
        subscription_status="follower",
        subscribed_at=followed_at,
    )


@dataclass
class InstagramFollowersParser:
    """Parser for ``instagram_followers``: one ``FanRecord`` or ``RowError`` per element.

    Invalid JSON after the first element ends the stream with ``RowError(line, None,
    "invalid JSON: ...")``.

    Raises:
        ImportFormatError: from ``parse``, before any record, for a document that is not an
            array (or the wrapped form), or that fails before its first element.
    """

    format: str = "instagram_followers"
    platform: str = PLATFORM
    provides: frozenset[str] = field(
        default_factory=lambda: frozenset({"username", "subscription_status", "subscribed_at"})
    )
    columns: Mapping[str, str] = field(default_factory=lambda: COLUMNS)
    chunk_size: int = CHUNK_SIZE

    def parse(self, stream: BinaryIO) -> Iterator[Record]:
        """Yield a record per follower, in file order (see the class docstring)."""
        items = iter_array_items(stream, WRAPPER_KEYS, chunk_size=self.chunk_size)
        return stream_records(items, follower_from_item)


def make_parser(
    platform: str | None = None, mapping: Any = None, **_: Any
) -> InstagramFollowersParser:
    """Factory for the ``instagram_followers`` format (registry.py); arguments are ignored."""
    return InstagramFollowersParser()
