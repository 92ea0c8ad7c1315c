"""HTTP routes for imports: ``POST /api/crm/import`` and the seed's ``/api/onlyfans/import/csv``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from huntaze.auth.deps import Writer
from huntaze.context import Ctx, DbSession
from huntaze.imports.schemas import ImportReportOut
from huntaze.imports.service import upload
from huntaze.kit.http import ERRORS
from huntaze.kit.schema import ErrorResponse

router = APIRouter(tags=["imports"])
IMPORT_ERRORS: dict[int | str, dict[str, Any]] = {**ERRORS, 413: {"model": ErrorResponse}}


@router.post("/api/crm/import", response_model=ImportReportOut, responses=IMPORT_ERRORS)
def import_fans(
    ctx: Ctx,
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
    return upload(
        session, ctx, principal.creator_id, file.file, file.size, format, platform, mapping
    )


@router.post("/api/onlyfans/import/csv", response_model=ImportReportOut, responses=IMPORT_ERRORS)
def import_onlyfans(
    ctx: Ctx,
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
    return upload(
        session, ctx, principal.creator_id, file.file, file.size, format, "onlyfans", mapping
    )
