"""HTTP routes for imports: ``POST /api/crm/import`` and the seed's ``/api/onlyfans/import/csv``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile

from huntaze.auth.deps import DbSession, Writer
from huntaze.imports.service import import_stream, parse_mapping, too_large
from huntaze.kit.http import ERRORS
from huntaze.kit.schema import CamelModel, ErrorResponse
from huntaze.models.tenancy import Creator

router = APIRouter(tags=["imports"])
IMPORT_ERRORS: dict[int | str, dict[str, Any]] = {**ERRORS, 413: {"model": ErrorResponse}}


class RowErrorOut(CamelModel):
    """A rejected row: 1-based line where it starts, the column at fault, the reason."""

    line: int
    column: str | None
    reason: str


class ImportReportOut(CamelModel):
    """``{"format", "encoding", "inserted", "updated", "unchanged", "rejected",
    "errors": [...]}``; ``encoding`` is the text encoding the file was read in (``utf-8``,
    ``utf-8-sig``, ``utf-16-le``, ``cp1252``…, see docs/importing.md)."""

    format: str
    encoding: str | None
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[RowErrorOut]


def _run(
    request: Request,
    session: DbSession,
    creator_id: str,
    file: UploadFile,
    format_name: str | None,
    platform: str | None,
    mapping: str | None,
    default_format: str | None = None,
) -> ImportReportOut:
    ctx = request.app.state.ctx
    limit = ctx.settings.import_max_bytes
    if file.size is not None and file.size > limit:
        raise too_large(limit)
    mapping_value = parse_mapping(mapping)
    creator = session.get(Creator, creator_id)
    currency = creator.currency if creator else None
    session.close()
    report = import_stream(
        ctx.engine,
        creator_id,
        file.file,
        ctx.clock,
        format_name=format_name or None,
        platform=platform or None,
        mapping=mapping_value,
        batch_size=ctx.settings.import_batch_size,
        default_currency=currency,
        default_format=default_format,
        max_bytes=limit,
    )
    return ImportReportOut.model_validate(report.as_dict())


@router.post("/api/crm/import", response_model=ImportReportOut, responses=IMPORT_ERRORS)
def import_fans(
    request: Request,
    session: DbSession,
    principal: Writer,
    file: Annotated[UploadFile, File(description="the export file")],
    format: Annotated[str | None, Form(description="format name; detected when absent")] = None,
    platform: Annotated[str | None, Form(description="platform, for a generic CSV")] = None,
    mapping: Annotated[str | None, Form(description="JSON column mapping, generic CSV")] = None,
) -> ImportReportOut:
    """Import an export file (any format of formats.md) and return the report.

    Re-importing the same file reports 0 inserted and 0 updated. A row with a bad value is
    rejected (line, column, reason) and the others imported. A bad ``platform``, ``format``
    or ``mapping``, or a file that is not in the format, nested too deep, or not text in
    UTF-8, UTF-16 (with a BOM), cp1252 or Latin-1 answers 422 and writes nothing. Files larger
    than ``HUNTAZE_IMPORT_MAX_BYTES`` answer 413 ``file_too_large``; use ``huntaze import``
    for those.
    """
    return _run(request, session, principal.creator_id, file, format, platform, mapping)


@router.post("/api/onlyfans/import/csv", response_model=ImportReportOut, responses=IMPORT_ERRORS)
def import_onlyfans(
    request: Request,
    session: DbSession,
    principal: Writer,
    file: Annotated[UploadFile, File(description="OnlyFans fans or earnings export")],
    format: Annotated[str | None, Form()] = None,
    mapping: Annotated[str | None, Form(description="JSON column mapping for a CSV")] = None,
) -> ImportReportOut:
    """The seed's OnlyFans import: fans or earnings JSON, or a CSV with a column mapping.

    OnlyFans has no native CSV; a CSV made by a creator's tool is read as a generic CSV on
    the ``onlyfans`` platform with the ``mapping`` given.
    """
    return _run(request, session, principal.creator_id, file, format, "onlyfans", mapping)
