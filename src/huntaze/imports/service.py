"""Import use case: check the request, read the file's encoding, pick the parser, run the
writer (shared by the API and the CLI).

Every problem with the request or the file as a whole is an :class:`~huntaze.kit.errors.ApiError`
raised before any row is written: 422 ``invalid_request`` (a bad ``platform``),
``invalid_mapping``, ``unknown_format``, ``format_not_detected`` or ``invalid_file`` (the
wrong format, nesting too deep, bytes in no encoding read); 413 ``file_too_large``. Problems
with single rows are rejected rows in the :class:`~huntaze.imports.report.ImportReport`.
"""

from __future__ import annotations

import io
import json
from typing import Any, BinaryIO

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from huntaze.context import AppContext
from huntaze.imports.base import ImportFormatError, ImportTooLargeError, Parser
from huntaze.imports.formats.detect import detect_format
from huntaze.imports.formats.registry import FORMATS, get_parser
from huntaze.imports.reading.csvread import read_up_to
from huntaze.imports.reading.encoding import (
    HEAD_SIZE,
    as_utf8,
    check_stream,
    decode_head,
    detect_encoding,
)
from huntaze.imports.report import ImportReport
from huntaze.imports.schemas import ImportReportOut
from huntaze.imports.writing.writer import ProgressCallback, run_import
from huntaze.kit.clock import Clock
from huntaze.kit.errors import ApiError
from huntaze.kit.validation import MAX_JSON_CHARS, check_json, check_platform
from huntaze.models.tenancy import Creator

HEAD_BYTES = HEAD_SIZE
#: The ``mapping`` form field is at most this many characters of JSON text (it is bounded
#: before it is parsed, so no text can make the parser recurse or allocate without end).
MAX_MAPPING_CHARS = MAX_JSON_CHARS
#: Formats the import may be asked to read whatever the file looks like.
_ANY_FILE = frozenset({"generic_csv"})


def _invalid_mapping(message: str) -> ApiError:
    return ApiError(422, "invalid_mapping", message, [{"field": "mapping", "message": message}])


def parse_mapping(raw: str | dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the column mapping given as a JSON object (or its text).

    The text is at most :data:`MAX_MAPPING_CHARS` characters, and the value within the bounds
    of :func:`huntaze.kit.validation.check_json` (depth, size, key length, storable text).

    Raises:
        ApiError: 422 ``invalid_mapping`` naming ``mapping`` unless it is such a JSON object of
            strings.
    """
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        if len(raw) > MAX_MAPPING_CHARS:
            raise _invalid_mapping(f"mapping is at most {MAX_MAPPING_CHARS} characters of JSON")
        try:
            raw = json.loads(raw)
        except RecursionError:
            raise _invalid_mapping("mapping is nested too deep") from None
        except ValueError as exc:
            raise _invalid_mapping(f"mapping is not valid JSON: {exc}") from exc
    try:
        check_json(raw)
    except ValueError as exc:
        raise _invalid_mapping(f"mapping: {exc}") from None
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise _invalid_mapping(
            'mapping must be a JSON object of field -> column name, e.g. {"email": "E-mail"}'
        )
    return raw


def check_platform_field(platform: str | None) -> str | None:
    """Return the ``platform`` option normalised (trimmed, lower case), ``None`` when blank.

    Raises:
        ApiError: 422 ``invalid_request`` naming ``platform`` for a value
            :func:`huntaze.kit.validation.check_platform` refuses (the API's rule for every
            platform: 1 to 32 lower-case letters, digits, ``_`` or ``-``).
    """
    if platform is None or not platform.strip():
        return None
    try:
        return check_platform(platform)
    except ValueError as exc:
        raise ApiError(
            422,
            "invalid_request",
            f"platform: {exc}",
            [{"field": "platform", "message": str(exc)}],
        ) from None


def choose_parser(
    head: bytes,
    format_name: str | None,
    platform: str | None,
    mapping: dict[str, Any] | None,
    default_format: str | None = None,
) -> Parser:
    """Return the parser for a file whose first bytes (as UTF-8) are ``head``.

    The format is ``format_name`` when given, else detected from marker columns or keys
    (formats.md), else ``generic_csv`` when a mapping is given, else ``default_format``. A
    named format other than ``generic_csv`` must not contradict detection: a file whose head
    shows another format's markers is refused rather than read row by row as the wrong one.

    Raises:
        ApiError: 422 ``invalid_request`` for a bad ``platform``; ``unknown_format`` for a name
            not in the registry; ``format_not_detected`` when nothing fits; ``invalid_file``
            for a file that looks like another format than the one named, or when the parser
            refuses its options (a mapping naming no key column, say).
    """
    platform = check_platform_field(platform)
    detected = detect_format(head)
    if format_name:
        if format_name not in FORMATS:
            raise ApiError(
                422,
                "unknown_format",
                f"format must be one of {', '.join(sorted(FORMATS))}",
                [{"field": "format", "value": format_name[:80]}],
            )
        if detected is not None and detected != format_name and format_name not in _ANY_FILE:
            message = f"the file is a {detected} export, not {format_name}"
            raise ApiError(422, "invalid_file", message, [{"field": "format", "message": message}])
        chosen = format_name
    elif detected is not None:
        chosen = detected
    elif mapping:
        chosen = "generic_csv"
    elif default_format:
        chosen = default_format
    else:
        raise ApiError(
            422,
            "format_not_detected",
            "The file's format was not recognised; name it with `format`, or give a "
            "column `mapping` for a generic CSV",
            [{"field": "format", "formats": sorted(FORMATS)}],
        )
    try:
        return get_parser(chosen, platform=platform, mapping=mapping)
    except ImportFormatError as exc:
        raise format_error(exc) from exc


def format_error(exc: ImportFormatError) -> ApiError:
    """The 422 ``invalid_file`` answer for a whole-file error, its details naming the line,
    column and byte offset where known."""
    detail: dict[str, Any] = {}
    if exc.line is not None:
        detail["line"] = exc.line
    if exc.column is not None:
        detail["column"] = exc.column
    if exc.offset is not None:
        detail["offset"] = exc.offset
    if detail:
        detail["message"] = str(exc)
    return ApiError(422, "invalid_file", str(exc), [detail] if detail else [])


def too_large(limit: int) -> ApiError:
    """The 413 ``file_too_large`` answer for an upload over ``limit`` bytes (the same shape
    as the body-size middleware's, ``huntaze.kit.body_limit``)."""
    return ApiError(
        413,
        "file_too_large",
        f"The upload is larger than {limit} bytes; import big files with `huntaze import PATH`",
        [{"field": "file", "message": f"at most {limit} bytes", "limitBytes": limit}],
    )


def import_stream(
    engine: Engine,
    creator_id: str,
    stream: BinaryIO,
    clock: Clock,
    *,
    format_name: str | None = None,
    platform: str | None = None,
    mapping: dict[str, Any] | None = None,
    batch_size: int = 10_000,
    default_currency: str | None = None,
    default_format: str | None = None,
    progress: ProgressCallback | None = None,
    max_bytes: int | None = None,
) -> ImportReport:
    """Import a seekable ``stream`` (the file's bytes, any size) and return the report.

    In order: the ``platform`` option is checked; the encoding is detected from the first
    64 KiB (:func:`huntaze.imports.reading.encoding.detect_encoding`) and the format from the
    same bytes; the whole stream is read once and decoded strictly (so a file that does not
    decode is refused before any row is written); then the rows are imported, each checked
    against the shared value rules. The report names the encoding.

    Args:
        max_bytes: refuse a stream longer than this many bytes (the API's upload limit);
            ``None`` for no limit (the CLI).

    Raises:
        ApiError: 422 as in :func:`parse_mapping` and :func:`choose_parser`; 422
            ``invalid_file`` when the bytes decode in no encoding read (details: ``line``
            and byte ``offset``) or the file as a whole is not in the chosen format; 413
            ``file_too_large`` past ``max_bytes``. Nothing is written in any of these cases,
            except for a JSON syntax error found after the first element, which is a
            rejected row.
    """
    platform = check_platform_field(platform)
    head = read_up_to(stream, HEAD_BYTES)
    stream.seek(0)
    try:
        encoding = detect_encoding(head, complete=len(head) < HEAD_BYTES)
    except ImportFormatError as exc:
        raise format_error(exc) from exc
    parser = choose_parser(
        decode_head(head, encoding), format_name, platform, mapping, default_format
    )
    try:
        encoding = check_stream(stream, encoding, max_bytes)
    except ImportTooLargeError as exc:
        raise too_large(exc.limit) from exc
    except ImportFormatError as exc:
        raise format_error(exc) from exc
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    try:
        return run_import(
            engine,
            creator_id,
            parser,
            as_utf8(stream, encoding),
            clock,
            batch_size=batch_size,
            default_currency=default_currency,
            progress=progress,
            encoding=encoding.name,
            size_hint=size,
        )
    except ImportFormatError as exc:
        raise format_error(exc) from exc


def upload(
    session: Session,
    ctx: AppContext,
    creator_id: str,
    stream: BinaryIO,
    size: int | None,
    format_name: str | None,
    platform: str | None,
    mapping: str | None,
) -> ImportReportOut:
    """Import an uploaded export file (``stream``, ``size`` bytes when known) for
    ``creator_id`` and return the report's API shape.

    The request's session only reads the creator's currency; its read ends before the import,
    which writes on connections of its own (:func:`import_stream`).

    Raises:
        ApiError: 413 ``file_too_large`` above ``HUNTAZE_IMPORT_MAX_BYTES``; 422 as
            :func:`import_stream` and :func:`parse_mapping`.
    """
    limit = ctx.settings.import_max_bytes
    if size is not None and size > limit:
        raise too_large(limit)
    mapping_value = parse_mapping(mapping)
    currency = session.scalar(select(Creator.currency).where(Creator.id == creator_id))
    session.rollback()  # end the read: the import writes on its own connections
    report = import_stream(
        ctx.engine,
        creator_id,
        stream,
        ctx.clock,
        format_name=format_name or None,
        platform=platform or None,
        mapping=mapping_value,
        batch_size=ctx.settings.import_batch_size,
        default_currency=currency,
        max_bytes=limit,
    )
    return ImportReportOut.model_validate(report.as_dict())
