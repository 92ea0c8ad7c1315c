"""Stream the elements of big JSON arrays with flat memory and 1-based line numbers.

The exports in formats.md (OnlyFans lists, Instagram followers, TikTok ``FansList``) are JSON
documents whose interesting part is one array. This module reads the binary stream in chunks,
decodes it incrementally and strictly as UTF-8 (RFC 8259 §8.1; a BOM is stripped; the import
service has already checked the bytes and transcoded other encodings), and hands
each array element to the stdlib :meth:`json.JSONDecoder.raw_decode`; its own code only walks
between elements (whitespace, commas, brackets, object keys). Memory holds one element plus a
chunk, whatever the size of the array.

Every generator here yields ``(line, value)``: ``line`` is the 1-based line where the element
starts, ``value`` the decoded element. A syntax error ends the walk with :class:`JSONStreamError`
(``syntax=True``) carrying the line of the fault; elements yielded before it stay valid.
:mod:`huntaze.imports.reading.jsonrecords` turns the elements into import records.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

CHUNK_SIZE = 64 * 1024
"""Characters read from the stream at a time (the read grows with a large pending element)."""

MAX_ELEMENT_CHARS = 32 * 1024 * 1024
"""Largest single value the reader will buffer before giving up (a runaway string)."""

MAX_DEPTH = 64
"""Deepest object nesting walked when searching a key anywhere (:func:`iter_key_arrays`)."""

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER_END = frozenset(" \t\n\r,]}:")
_MISSING = object()


class JSONStreamError(ValueError):
    """The document cannot be read further (``syntax=True``) or has the wrong shape.

    Attributes:
        line: 1-based line of the fault.
        syntax: ``True`` for invalid JSON (truncated file, bad token, trailing data);
            ``False`` when the JSON is valid but does not hold the expected array.
    """

    def __init__(self, message: str, line: int, *, syntax: bool) -> None:
        super().__init__(message)
        self.line = line
        self.syntax = syntax


class _Reader:
    """A cursor over the decoded text of a binary stream, tracking the current line."""

    def __init__(self, stream: BinaryIO, chunk_size: int) -> None:
        self._stream = stream
        self._chunk = max(1, chunk_size)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._json = json.JSONDecoder()
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._broken: str | None = None  # why the bytes after the buffer do not decode
        self._bom_checked = False
        self.line = 1

    # -- buffer -------------------------------------------------------------------------
    def _fill(self) -> bool:
        """Append more text to the buffer; return ``False`` when the stream is exhausted."""
        if self._eof:
            if self._broken is not None:
                raise JSONStreamError(
                    f"not valid UTF-8 ({self._broken})", self._line_at(len(self._buf)), syntax=True
                )
            return False
        pending = len(self._buf) - self._pos
        if pending > MAX_ELEMENT_CHARS:
            raise JSONStreamError("value too large", self.line, syntax=True)
        data = self._stream.read(max(self._chunk, pending))
        try:
            text = self._decoder.decode(data, final=not data)
            self._eof = not data
        except UnicodeDecodeError as exc:  # keep the valid text; fail when it is used up
            text = exc.object[: exc.start].decode("utf-8")
            self._eof = True
            self._broken = exc.reason
        if not self._bom_checked and text:
            self._bom_checked = True
            text = text.removeprefix("\ufeff")
        # Drop the consumed prefix: the kept part is at most one pending element, and reads
        # grow with it, so the copying stays linear in the size of the file.
        self._buf = self._buf[self._pos :] + text
        self._pos = 0
        return True

    def _advance(self, end: int) -> None:
        self.line += self._buf.count("\n", self._pos, end)
        self._pos = end

    def _line_at(self, index: int) -> int:
        return self.line + self._buf.count("\n", self._pos, index)

    def peek(self) -> str:
        """Skip whitespace and return the next character, or ``""`` at the end of the text."""
        while True:
            match = _WS.match(self._buf, self._pos)
            end = match.end() if match else self._pos
            self._advance(end)
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._fill():
                return ""

    def take(self, char: str, what: str) -> None:
        """Consume ``char`` (after whitespace) or raise a syntax error naming ``what``."""
        if self.peek() != char:
            raise self.error(f"expecting {what}")
        self._advance(self._pos + 1)

    def error(self, message: str) -> JSONStreamError:
        """A syntax error at the current position."""
        if self.peek() == "":
            message = f"{message} (unexpected end of file)"
        return JSONStreamError(message, self.line, syntax=True)

    def at_end(self) -> bool:
        """True when only whitespace is left."""
        return self.peek() == ""

    # -- values ---------------------------------------------------------------------------
    def value(self) -> tuple[int, Any]:
        """Decode the next value whole; return its start line and the value.

        Reads more text when the value may continue past the buffer: after a decode error
        near the end of the buffer, and after a number that ends it (``1`` may be ``1e5``).
        """
        if self.peek() == "":
            raise self.error("expecting a value")
        while True:
            buf, pos = self._buf, self._pos
            try:
                value, end = self._json.raw_decode(buf, pos)
            except json.JSONDecodeError as exc:
                near_end = exc.pos + 16 >= len(buf) or exc.msg.startswith("Unterminated string")
                if near_end and self._fill():
                    continue
                message = exc.msg
                if message.startswith("Unterminated string"):
                    message = "Unterminated string"
                if exc.pos >= len(buf) or message == "Unterminated string":
                    message += " (unexpected end of file)"
                raise JSONStreamError(message, self._line_at(exc.pos), syntax=True) from None
            except (ValueError, RecursionError) as exc:
                reason = "nesting too deep" if isinstance(exc, RecursionError) else str(exc)
                raise JSONStreamError(reason, self.line, syntax=True) from None
            if (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and len(buf) - end < 3
                and (end == len(buf) or buf[end] not in _NUMBER_END)
                and self._fill()
            ):
                continue
            line = self.line
            self._advance(end)
            return line, value

    def try_value_in_buffer(self) -> tuple[bool, Any]:
        """Decode an object or array if it lies wholly in the buffer, without reading more.

        Returns ``(True, value)`` without consuming it, or ``(False, None)``.
        """
        if len(self._buf) - self._pos < self._chunk and not self._eof:
            self._fill()
        try:
            value, _end = self._json.raw_decode(self._buf, self._pos)
        except (ValueError, RecursionError):
            return False, None
        return True, value

    def key(self) -> str:
        """Decode an object member name and the ``:`` after it."""
        if self.peek() != '"':
            raise self.error("expecting a property name in double quotes")
        _line, name = self.value()
        self.take(":", "':' after a property name")
        assert isinstance(name, str)
        return name

    def array_items(self) -> Iterator[tuple[int, Any]]:
        """Stream the elements of the array starting here, consuming its ``]``."""
        self.take("[", "'['")
        if self.peek() == "]":
            self._advance(self._pos + 1)
            return
        while True:
            yield self.value()
            char = self.peek()
            if char == "]":
                self._advance(self._pos + 1)
                return
            if char != ",":
                raise self.error("expecting ',' or ']' after an array element")
            self._advance(self._pos + 1)

    def members(self) -> Iterator[str]:
        """Walk the object starting here: yield each name; the caller must consume its value."""
        self.take("{", "'{'")
        if self.peek() == "}":
            self._advance(self._pos + 1)
            return
        while True:
            yield self.key()
            char = self.peek()
            if char == "}":
                self._advance(self._pos + 1)
                return
            if char != ",":
                raise self.error("expecting ',' or '}' after an object member")
            self._advance(self._pos + 1)


def _finish(reader: _Reader) -> None:
    if not reader.at_end():
        raise reader.error("extra data after the document")


def iter_array_items(
    stream: BinaryIO, keys: Sequence[str] = (), *, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, element)`` for the elements of the document's main array.

    The document is either a bare top-level array, or a top-level object whose member named
    one of ``keys`` holds the array (OnlyFans ``{"list": [...], "hasMore": true}`` with
    ``keys=("list",)``, formats.md). Other members are skipped (walked in streaming fashion
    when large, so memory stays flat); when several members match, each array is streamed in
    turn. The rest of the document is checked after the array, so trailing garbage or
    truncation is still reported.

    Raises:
        JSONStreamError: ``syntax=True`` for invalid JSON (elements before it were yielded);
            ``syntax=False`` when the document is valid but holds no such array.
    """
    reader = _Reader(stream, chunk_size)
    first = reader.peek()
    start = reader.line
    wanted = " or ".join(repr(k) for k in keys)
    expected = "a JSON array" + (f" or an object with {wanted}" if keys else "")
    if first == "[":
        yield from reader.array_items()
    elif first == "{" and keys:
        found = False
        for name in reader.members():
            if name in keys and reader.peek() == "[":
                found = True
                yield from reader.array_items()
            else:
                yield from _walk(reader, None, 0, [False])  # skip, streaming if large
        _finish(reader)
        if not found:
            raise JSONStreamError(f"expected {expected}", start, syntax=False)
        return
    elif first == "":
        raise JSONStreamError("empty document", 1, syntax=True)
    else:
        reader.value()
        _finish(reader)
        raise JSONStreamError(f"expected {expected}", start, syntax=False)
    _finish(reader)


def _contains_key(value: Any, key: str | None) -> bool:
    """True if an object anywhere inside ``value`` has a member named ``key``."""
    if key is None:
        return False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if key in item:
                return True
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))
    return False


def _walk(
    reader: _Reader, key: str | None, depth: int, found: list[bool]
) -> Iterator[tuple[int, Any]]:
    """Consume one value, streaming the elements of every array under ``key`` inside it.

    With ``key=None`` this only skips the value, in streaming fashion when it is large.
    """
    char = reader.peek()
    if char not in "{[" or char == "":
        reader.value()
        return
    whole, value = reader.try_value_in_buffer()
    if whole and not _contains_key(value, key):
        reader.value()
        return
    if depth >= MAX_DEPTH:
        raise reader.error("nesting too deep")
    if char == "[":
        reader.take("[", "'['")
        if reader.peek() == "]":
            reader.take("]", "']'")
            return
        while True:
            yield from _walk(reader, key, depth + 1, found)
            char = reader.peek()
            if char == "]":
                reader.take("]", "']'")
                return
            reader.take(",", "',' or ']' after an array element")
    for name in reader.members():
        if name != key:
            yield from _walk(reader, key, depth + 1, found)
        elif reader.peek() == "[":
            found[0] = True
            yield from reader.array_items()
        else:
            _line, member = reader.value()
            found[0] = found[0] or member is None


def iter_key_arrays(
    stream: BinaryIO, key: str, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, element)`` for the elements of every array under ``key``, at any depth.

    Used for TikTok's ``FansList`` (formats.md), which sits under ``Activity → Follower List``
    or ``Profile And Settings → Follower``. Objects and arrays are walked in streaming
    fashion; a container that fits in the buffer and holds no ``key`` is decoded whole and
    skipped. Elements of a matched array are not searched further. A ``key`` whose value is
    ``null`` counts as an empty array; other non-array values under ``key`` are ignored.

    Raises:
        JSONStreamError: ``syntax=True`` for invalid JSON (elements before it were yielded);
            ``syntax=False`` when the whole document holds no array under ``key``.
    """
    reader = _Reader(stream, chunk_size)
    if reader.peek() == "":
        raise JSONStreamError("empty document", 1, syntax=True)
    found = [False]
    yield from _walk(reader, key, 0, found)
    _finish(reader)
    if not found[0]:
        raise JSONStreamError(f"no {key!r} array found", 1, syntax=False)
