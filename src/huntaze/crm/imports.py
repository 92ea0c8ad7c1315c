"""Import use case: pick the parser for a file and run the writer (shared by API and CLI)."""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from sqlalchemy import Engine

from huntaze.crm.importers.base import ImportFormatError, Parser
from huntaze.crm.importers.detect import detect_format
from huntaze.crm.importers.registry import FORMATS, get_parser
from huntaze.crm.importers.report import ImportReport
from huntaze.crm.importers.writer import ProgressCallback, run_import
from huntaze.kit.clock import Clock
from huntaze.kit.errors import ApiError

HEAD_BYTES = 64 * 1024


def parse_mapping(raw: str | dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the column mapping given as a JSON object (or its text).

    Raises:
        ApiError: 422 ``invalid_mapping`` unless it is a JSON object of strings.
    """
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ApiError(
                422, "invalid_mapping", f"mapping is not valid JSON: {exc}", [{"field": "mapping"}]
            ) from exc
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ApiError(
            422,
            "invalid_mapping",
            'mapping must be a JSON object of field -> column name, e.g. {"email": "E-mail"}',
            [{"field": "mapping"}],
        )
    return raw


def choose_parser(
    head: bytes,
    format_name: str | None,
    platform: str | None,
    mapping: dict[str, Any] | None,
    default_format: str | None = None,
) -> Parser:
    """Return the parser for a file whose first bytes are ``head``.

    The format is ``format_name`` when given, else detected from marker columns or keys
    (formats.md), else ``generic_csv`` when a mapping is given, else ``default_format``.

    Raises:
        ApiError: 422 ``unknown_format`` for a name not in the registry; 422
            ``format_not_detected`` when nothing fits; 422 ``invalid_file`` when the parser
            refuses its options (a mapping naming no key column, say).
    """
    if format_name:
        if format_name not in FORMATS:
            raise ApiError(
                422,
                "unknown_format",
                f"format must be one of {', '.join(sorted(FORMATS))}",
                [{"field": "format", "value": format_name}],
            )
        chosen = format_name
    else:
        detected = detect_format(head)
        if detected is not None:
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
        raise _format_error(exc) from exc


def _format_error(exc: ImportFormatError) -> ApiError:
    detail: dict[str, Any] = {}
    if exc.line is not None:
        detail["line"] = exc.line
    if exc.column is not None:
        detail["column"] = exc.column
    return ApiError(422, "invalid_file", str(exc), [detail] if detail else [])


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
) -> ImportReport:
    """Detect the format of a seekable ``stream``, import it, and return the report.

    Raises:
        ApiError: 422 as in :func:`choose_parser`, or ``invalid_file`` when the file as a
            whole is not in the chosen format (rows already committed stay; the import can be
            run again).
    """
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    parser = choose_parser(head, format_name, platform, mapping, default_format)
    try:
        return run_import(
            engine,
            creator_id,
            parser,
            stream,
            clock,
            batch_size=batch_size,
            default_currency=default_currency,
            progress=progress,
        )
    except ImportFormatError as exc:
        raise _format_error(exc) from exc
