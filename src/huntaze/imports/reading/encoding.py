"""Which text encoding an import file is in, and its bytes as UTF-8 for the parsers.

Creators' files come from many tools: Excel re-saves a CSV as cp1252 ("ANSI") or UTF-16 with
a BOM ("Unicode text"), older tools write Latin-1. Every parser reads UTF-8, so the import
service (:mod:`huntaze.imports.service`) does three things with a file before any row is written:

1. :func:`detect_encoding` looks at a bounded head (:data:`HEAD_SIZE` bytes): a byte order
   mark decides (UTF-8, UTF-16 or UTF-32, little or big endian); else a head that is valid
   UTF-8 is UTF-8 (RFC 3629; RFC 8259 §8.1 makes UTF-8 the only encoding of JSON exchanged
   between systems); else a head of mostly NUL bytes is UTF-16/32 without a BOM; else the
   single-byte Western encodings, cp1252 or Latin-1, as `charset-normalizer
   <https://charset-normalizer.readthedocs.io/>`_ judges them, unless valid multi-byte UTF-8
   came before the first bad byte (then the file is UTF-8 with a bad byte). Anything else is
   refused: a wrong guess would store mojibake, the very thing this module exists to
   prevent.
2. :func:`check_stream` reads the whole stream once, in chunks, decoding it strictly with
   that codec: a byte that does not decode makes the whole file an
   :class:`~huntaze.imports.base.ImportFormatError` giving its byte offset and line,
   and nothing is written. A file whose head was plain ASCII (which proves no encoding) and
   whose first non-UTF-8 byte comes later is detected again from the bytes around it.
3. :func:`as_utf8` hands the parsers the stream as UTF-8 bytes (the stream itself when it
   already is UTF-8, else a streaming transcoder), so memory stays bounded whatever the size.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from typing import BinaryIO

from charset_normalizer import from_bytes

from huntaze.imports.base import ImportFormatError, ImportTooLargeError

#: Bytes of the head the encoding is detected from (and the format, :mod:`.detect`).
HEAD_SIZE = 64 * 1024
#: Bytes read at a time when checking or transcoding a stream.
CHUNK_SIZE = 1 << 20

#: Byte order marks, longest first (UTF-32 LE's starts with UTF-16 LE's) -> codec.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: charset-normalizer's names for the encodings it may choose -> the name Huntaze reports.
_SINGLE_BYTE = {"cp1252": "cp1252", "latin_1": "latin-1"}
_WIDE = {
    "utf_16_le": "utf-16-le",
    "utf_16_be": "utf-16-be",
    "utf_32_le": "utf-32-le",
    "utf_32_be": "utf-32-be",
}
#: The encodings Huntaze reads, for error messages.
SUPPORTED = "UTF-8 (with or without a BOM), UTF-16 with a BOM, cp1252 and Latin-1"
_UTF8 = frozenset({"utf-8", "utf-8-sig"})


@dataclass(frozen=True, slots=True)
class TextEncoding:
    """An encoding chosen for a file.

    Attributes:
        name: the Python codec, also the name the import report gives: ``utf-8``,
            ``utf-8-sig`` (UTF-8 with a BOM), ``utf-16-le``, ``utf-16-be``, ``utf-32-le``,
            ``utf-32-be``, ``cp1252`` or ``latin-1``. A BOM read with a UTF-16/32 codec stays
            in the text as U+FEFF, which every parser drops.
        proven: ``False`` when the head was plain ASCII, so that any ASCII-compatible
            encoding would have read it the same.
    """

    name: str
    proven: bool = True

    @property
    def is_utf8(self) -> bool:
        """Whether the bytes are UTF-8 already (with or without a BOM)."""
        return self.name in _UTF8


def _ask(sample: bytes, choices: dict[str, str]) -> str | None:
    """charset-normalizer's best guess for ``sample`` among ``choices``, or None."""
    best = from_bytes(sample, cp_isolation=list(choices)).best()
    return None if best is None else choices.get(best.encoding)


def _position(data: bytes, start: int, codec: str) -> tuple[int, str]:
    """The 1-based line of byte ``start`` of ``data`` (a prefix of the file) and a phrase
    naming the byte there (``byte 0xfc``)."""
    line = data[:start].decode(codec, errors="replace").count("\n") + 1
    return line, f"byte 0x{data[start : start + 1].hex()}" if start < len(data) else "the end"


def detect_encoding(head: bytes, *, complete: bool) -> TextEncoding:
    """Return the encoding of a file from its first bytes (see the module docstring).

    Args:
        head: up to :data:`HEAD_SIZE` bytes from the start of the file.
        complete: whether ``head`` is the whole file (then a multi-byte sequence cut at its
            end is an error, not a sequence the next bytes would finish).

    Raises:
        ImportFormatError: when the head is none of the encodings read (:data:`SUPPORTED`),
            with the line and byte offset of the first byte that is not UTF-8.
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return TextEncoding(name)
    if head and head.count(0) * 4 > len(head):
        wide = _ask(head, _WIDE)
        if wide is not None:
            return TextEncoding(wide)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError as exc:
        line, what = _position(head, exc.start, "utf-8")
        if not head[: exc.start].isascii():
            # Valid multi-byte UTF-8 came first: a UTF-8 file with a bad byte, not a file
            # in another encoding (cp1252 text almost never forms valid UTF-8 sequences).
            raise _not_decodable("UTF-8", what, exc.start, line) from None
        single = _ask(head, _SINGLE_BYTE)
        if single is not None:
            return TextEncoding(single)
        raise ImportFormatError(
            f"the file's encoding was not recognised: it is not UTF-8 ({what} at offset "
            f"{exc.start}, line {line}) nor cp1252 or Latin-1 text. Huntaze reads "
            f"{SUPPORTED}; save the file as UTF-8 and import it again",
            line=line,
            offset=exc.start,
        ) from None
    return TextEncoding("utf-8", proven=not head.isascii())


def _not_decodable(label: str, what: str, offset: int, line: int) -> ImportFormatError:
    return ImportFormatError(
        f"the file is not valid {label}: {what} at offset {offset} (line {line}) does not "
        f"decode. Huntaze reads {SUPPORTED}; save the file as UTF-8 and import it again",
        line=line,
        offset=offset,
    )


def check_stream(
    stream: BinaryIO, encoding: TextEncoding, max_bytes: int | None = None
) -> TextEncoding:
    """Decode all of seekable ``stream`` strictly as ``encoding``; return the encoding to
    import it with, and leave the stream at its start.

    Reads :data:`CHUNK_SIZE` bytes at a time, so memory stays bounded. When ``encoding`` was
    not proven (an ASCII head) and a later byte is not UTF-8, the encoding is detected again
    from the 64 KiB around that byte, and the stream checked again with it.

    Raises:
        ImportFormatError: a byte does not decode (the message names the encoding, the byte,
            its 0-based offset and its line; ``line`` and ``offset`` are set).
        ImportTooLargeError: the stream holds more than ``max_bytes`` bytes.
    """
    while True:
        failure = _first_failure(stream, encoding.name, max_bytes)
        stream.seek(0)
        if failure is None:
            return encoding
        offset, line, what = failure
        if not encoding.proven:
            stream.seek(max(0, offset - 1024))
            sample = stream.read(HEAD_SIZE)
            stream.seek(0)
            single = _ask(sample, _SINGLE_BYTE)
            if single is not None:
                encoding = TextEncoding(single)
                continue
        raise _not_decodable("UTF-8" if encoding.is_utf8 else encoding.name, what, offset, line)


def _first_failure(
    stream: BinaryIO, codec: str, max_bytes: int | None
) -> tuple[int, int, str] | None:
    """``(offset, line, what)`` of the first byte of ``stream`` that does not decode, or None."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    seen = 0
    lines = 0
    while True:
        data = stream.read(CHUNK_SIZE)
        seen += len(data)
        if max_bytes is not None and seen > max_bytes:
            raise ImportTooLargeError(max_bytes)
        pending = decoder.getstate()[0]
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            line, what = _position(exc.object, exc.start, codec)
            return seen - len(data) - len(pending) + exc.start, lines + line, what
        lines += text.count("\n")
        if not data:
            return None


class _Utf8Recoder(io.RawIOBase):
    """A raw read-only stream of the UTF-8 encoding of ``stream`` decoded with ``codec``."""

    def __init__(self, stream: BinaryIO, codec: str) -> None:
        super().__init__()
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(codec)("strict")
        self._out = memoryview(b"")
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._out and not self._eof:
            data = self._stream.read(CHUNK_SIZE)
            self._eof = not data
            self._out = memoryview(self._decoder.decode(data, final=self._eof).encode("utf-8"))
        count = min(len(buffer), len(self._out))
        buffer[:count] = self._out[:count]
        self._out = self._out[count:]
        return count


def as_utf8(stream: BinaryIO, encoding: TextEncoding) -> BinaryIO:
    """Return ``stream`` as UTF-8 bytes: itself when ``encoding`` is UTF-8, else a buffered
    streaming transcoder (line breaks kept, so line numbers stay those of the file).

    Raises (when read):
        UnicodeDecodeError: only if the stream changed since :func:`check_stream` passed.
    """
    if encoding.is_utf8:
        return stream
    return io.BufferedReader(_Utf8Recoder(stream, encoding.name), CHUNK_SIZE)


def decode_head(head: bytes, encoding: TextEncoding) -> bytes:
    """Return ``head`` (the first bytes of a file in ``encoding``) as UTF-8 bytes, a sequence
    cut at its end dropped; for format detection (:func:`huntaze.imports.formats.detect`)."""
    if encoding.is_utf8:
        return head
    decoder = codecs.getincrementaldecoder(encoding.name)("replace")
    return decoder.decode(head, final=False).encode("utf-8")
