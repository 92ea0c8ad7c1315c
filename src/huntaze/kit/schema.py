"""Pydantic base models with camelCase JSON (design.md §5)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """A model whose JSON fields are camelCase while Python stays snake_case."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, extra="forbid"
    )


class ErrorDetail(BaseModel):
    """One offending field or line."""

    model_config = ConfigDict(extra="allow")


class ErrorBody(BaseModel):
    """``{"code", "message", "details"}``."""

    code: str
    message: str
    details: list[dict[str, object]] = []


class ErrorResponse(BaseModel):
    """The error envelope: ``{"error": {...}}``."""

    error: ErrorBody
